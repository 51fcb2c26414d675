import { describe, expect, it } from 'vitest';
import { MEASUREMENT_LIMITS, TYPE_PATTERN } from '#shared/measurement.ts';
import { SAFE_ID } from '#shared/identity.ts';
import {
  errorText,
  ingestBody,
  runSeries,
  sensorIds,
  Series,
  signal,
  startRunBody,
  DEFAULT_TYPES,
} from './payload.ts';

const samples = (next: () => number, count: number) => Array.from({ length: count }, next);

describe('signals', () => {
  it('are reproducible from the seed, and differ between seeds, sensors and types', () => {
    const a = samples(signal(7, 'sensor-1', 'temperature'), 200);
    expect(samples(signal(7, 'sensor-1', 'temperature'), 200)).toEqual(a);
    expect(samples(signal(8, 'sensor-1', 'temperature'), 200)).not.toEqual(a);
    expect(samples(signal(7, 'sensor-2', 'temperature'), 200)).not.toEqual(a);
    expect(samples(signal(7, 'sensor-1', 'humidity'), 200)).not.toEqual(a);
  });

  it('stay plausible: near a per-type baseline, within physical bounds, valid for the API', () => {
    const ranges = { temperature: [-40, 85], humidity: [0, 100], pressure: [870, 1085] };
    for (const [type, [min, max]] of Object.entries(ranges)) {
      for (let seed = 1; seed <= 20; seed++) {
        const values = samples(signal(seed, `s${seed}`, type), 2000);
        expect(Math.min(...values)).toBeGreaterThanOrEqual(min!);
        expect(Math.max(...values)).toBeLessThanOrEqual(max!);
        expect(values.every((v) => Math.abs(v) <= MEASUREMENT_LIMITS.maxAbsReading)).toBe(true);
      }
    }
    const temperatures = samples(signal(3, 'sensor-1', 'temperature'), 2000);
    const median = [...temperatures].sort((x, y) => x - y)[1000]!;
    expect(median).toBeGreaterThan(14);
    expect(median).toBeLessThan(28);
  });

  it('move slowly, with noise, and spike now and then', () => {
    const values = samples(signal(1, 'sensor-1', 'temperature'), 20_000);
    const steps = values.slice(1).map((v, i) => Math.abs(v - values[i]!));
    const typicalStep = [...steps].sort((x, y) => x - y)[Math.floor(steps.length / 2)]!;
    expect(typicalStep).toBeGreaterThan(0); // noise: not a flat line
    expect(typicalStep).toBeLessThan(0.5); // drift: slow
    expect(steps.filter((step) => step > 5).length).toBeGreaterThan(0); // the odd spike
    expect(steps.filter((step) => step > 5).length).toBeLessThan(200);
  });
});

describe('series', () => {
  it('never repeats a timestamp, so each reading has its own identity', () => {
    const series = new Series('sensor-1', 'temperature', 1);
    const now = Date.UTC(2026, 0, 1);
    const stamps = Array.from({ length: 50 }, () => series.reading(now).timestamp);
    expect(new Set(stamps).size).toBe(50);
    expect(stamps[0]).toBe('2026-01-01T00:00:00.000Z');
    expect(stamps[49]).toBe('2026-01-01T00:00:00.049Z');
  });

  it('covers every sensor and type of a run with ids and types the API accepts', () => {
    const series = runSeries(sensorIds(4), DEFAULT_TYPES, 1);
    expect(series.map((s) => `${s.sensorId}/${s.type}`)).toHaveLength(12);
    expect(series.every((s) => SAFE_ID.test(s.sensorId) && TYPE_PATTERN.test(s.type))).toBe(true);
  });
});

describe('request bodies', () => {
  const reading = { sensorId: 'sensor-1', type: 'temperature', reading: 21.5, timestamp: 'T' };

  it('uses the single-reading shape for one reading and measurements for more', () => {
    expect(ingestBody([reading])).toEqual(reading);
    expect(ingestBody([reading, reading])).toEqual({ measurements: [reading, reading] });
  });

  it('starts runs with duration and interval in whole seconds', () => {
    expect(startRunBody(2.5, ['sensor-1'], 0.2)).toEqual({
      duration: 3,
      interval: 1,
      sensorIds: ['sensor-1'],
    });
  });

  it('reads either error shape', () => {
    expect(errorText({ error: 'old', message: 'new' })).toBe('new');
    expect(errorText({ error: 'old' })).toBe('old');
    expect(errorText('<html>')).toBeUndefined();
  });
});
