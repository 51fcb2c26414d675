import { describe, expect, it } from 'vitest';
import {
  readingKey,
  sensorKey,
  timeKeyRange,
  toCanonicalTimestamp,
  type QueueMeasurement,
} from './measurement.ts';

const RUN = '11111111-2222-4333-8444-555555555555';
const T = '2030-01-01T12:00:00.000Z';
const m = (overrides: Partial<QueueMeasurement> = {}): QueueMeasurement => ({
  sensorId: 's-1',
  type: 'temperature',
  reading: 1,
  timestamp: T,
  ...overrides,
});

describe('measurement identity keys', () => {
  it('depend only on the identity: run, sensor, type, timestamp and id', () => {
    expect(readingKey(m({ reading: 2 }))).toBe(readingKey(m({ reading: 3 })));
    expect(readingKey(m())).toBe(`${T}#s-1#temperature`);
    expect(sensorKey(RUN, m())).toBe(`${T}#${RUN}#temperature`);
    expect(readingKey(m({ id: 'c-1' }))).toBe(`${T}#s-1#temperature#c-1`);
    const variants = [
      m(),
      m({ sensorId: 's-2' }),
      m({ type: 'humidity' }),
      m({ timestamp: '2030-01-01T12:00:00.001Z' }),
      m({ id: 'a' }),
      m({ id: 'b' }),
    ];
    expect(new Set(variants.map(readingKey)).size).toBe(variants.length);
  });

  it('sort lexically in time order on both access paths', () => {
    const times = [0, 1, 9, 10, 999, 1000, 59_999, 86_400_000, 3e10].map(
      (d) => Date.UTC(2029, 11, 31) + d,
    );
    const shuffled = [...times].reverse();
    const byReading = shuffled
      .map((t) => readingKey(m({ timestamp: toCanonicalTimestamp(t), sensorId: `s${t % 7}` })))
      .sort();
    expect(byReading.map((k) => Date.parse(k.slice(0, 24)))).toEqual(times);
    const bySensor = shuffled
      .map((t) => sensorKey(RUN, m({ timestamp: toCanonicalTimestamp(t) })))
      .sort();
    expect(bySensor.map((k) => Date.parse(k.slice(0, 24)))).toEqual(times);
  });

  it('time ranges include both bounds for every sensor, type and id, and nothing outside', () => {
    const at = Date.parse(T);
    const { lower, upper } = timeKeyRange(at, at);
    const inside = [
      m(),
      m({ sensorId: 'zzzz', type: 'z_9' }),
      m({ sensorId: 'A', id: '~' }),
      m({ id: '@x.1' }),
    ];
    for (const key of inside.flatMap((x) => [readingKey(x), sensorKey(RUN, x)])) {
      expect(key >= lower! && key <= upper!).toBe(true);
    }
    for (const t of [at - 1, at + 1]) {
      const key = readingKey(m({ timestamp: toCanonicalTimestamp(t), sensorId: 'zzzz' }));
      expect(key >= lower! && key <= upper!).toBe(false);
    }
    expect(timeKeyRange(undefined, undefined)).toEqual({});
  });
});
