import { describe, expect, it } from 'vitest';
import { BadRequestError } from '#shared/errors.ts';
import { parseFinishCommand, parseLimit, parseStartCommand, START_BOUNDS } from './requests.ts';

const detailsOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestError);
    return (error as BadRequestError).details;
  }
  throw new Error('expected a BadRequestError');
};

describe('parseStartCommand', () => {
  it('accepts the flat form and defaults sensorIds to none', () => {
    expect(parseStartCommand({ duration: 60, interval: 5 })).toEqual({
      duration: 60,
      interval: 5,
      sensorIds: [],
      params: {},
    });
  });

  it('reads interval in seconds, as the front end sends ceil(ms / 1000)', () => {
    expect(parseStartCommand({ duration: 60, interval: 1 }).interval).toBe(1);
    expect(parseStartCommand({ duration: 60, interval: 0.1 }).interval).toBe(0.1);
    expect(parseStartCommand({ duration: 60, interval: 3600 }).interval).toBe(3600);
    expect(detailsOf(() => parseStartCommand({ duration: 60, interval: 5000 }))).toEqual([
      { field: 'interval', message: 'must be from 0.01 to 3600' },
    ]);
  });

  it('accepts the params form and keeps params as sent', () => {
    const params = { duration: 30, interval: 1000, sensorIds: ['t-1', 'h-2'], profile: 'fast' };
    expect(parseStartCommand({ params })).toEqual({
      duration: 30,
      interval: 1000,
      sensorIds: ['t-1', 'h-2'],
      params,
    });
  });

  it('removes repeated sensor ids', () => {
    expect(
      parseStartCommand({ duration: 1, interval: 1, sensorIds: ['a', 'a', 'b'] }).sensorIds,
    ).toEqual(['a', 'b']);
  });

  it.each([
    [{ duration: '60', interval: 100 }, 'duration'],
    [{ duration: 0, interval: 100 }, 'duration'],
    [{ duration: START_BOUNDS.duration.max + 1, interval: 100 }, 'duration'],
    [{ duration: Number.NaN, interval: 100 }, 'duration'],
    [{ duration: 60 }, 'interval'],
    [{ duration: 60, interval: -5 }, 'interval'],
    [{ duration: 60, interval: 0 }, 'interval'],
    [{ duration: 60, interval: 100, sensorIds: 'a' }, 'sensorIds'],
    [{ duration: 60, interval: 100, sensorIds: ['ok', 'no spaces'] }, 'sensorIds[1]'],
    [{ duration: 60, interval: 100, sensorIds: ['x'.repeat(65)] }, 'sensorIds[0]'],
    [
      { duration: 60, interval: 100, sensorIds: Array.from({ length: 101 }, (_, i) => `s${i}`) },
      'sensorIds',
    ],
    [{ params: { duration: 60, interval: 100, blob: 'x'.repeat(5000) } }, 'params'],
  ])('rejects %j naming %s', (body, field) => {
    expect(detailsOf(() => parseStartCommand(body)).map((d) => d.field)).toContain(field);
  });

  it.each([null, [], 'text', 42])('rejects a body that is not an object: %j', (body) => {
    expect(() => parseStartCommand(body)).toThrow(BadRequestError);
  });
});

describe('parseFinishCommand', () => {
  it.each([
    [undefined, { status: 'COMPLETED' }],
    [{}, { status: 'COMPLETED' }],
    [{ status: 'SUCCESS' }, { status: 'COMPLETED' }],
    [{ status: 'FAILED' }, { status: 'FAILED' }],
    [{ errorMessage: 'sensor died' }, { status: 'FAILED', errorMessage: 'sensor died' }],
    // The front end's two finishes: its message is kept, as the error of a failure.
    [
      { status: 'SUCCESS', message: 'Simulation terminée' },
      { status: 'COMPLETED', message: 'Simulation terminée' },
    ],
    [
      { status: 'FAILED', message: "Simulation abandonée par l'utilisateur (interruption)" },
      { status: 'FAILED', errorMessage: "Simulation abandonée par l'utilisateur (interruption)" },
    ],
    [{ message: 'all good' }, { status: 'COMPLETED', message: 'all good' }],
    [
      { status: 'FAILED', errorMessage: 'sensor died', message: 'stopped by hand' },
      { status: 'FAILED', errorMessage: 'sensor died', message: 'stopped by hand' },
    ],
    [
      { status: 'COMPLETED', errorMessage: 'note' },
      { status: 'COMPLETED', errorMessage: 'note' },
    ],
  ])('reads %j as %j', (body, expected) => {
    expect(parseFinishCommand(body)).toEqual(expected);
  });

  it.each([
    [{ status: 'RUNNING' }, 'status'],
    [{ status: 'INTERRUPTED' }, 'status'],
    [{ errorMessage: 5 }, 'errorMessage'],
    [{ errorMessage: 'x'.repeat(1001) }, 'errorMessage'],
    [{ status: 'FAILED', message: ['not', 'text'] }, 'message'],
  ])('rejects %j naming %s', (body, field) => {
    expect(detailsOf(() => parseFinishCommand(body)).map((d) => d.field)).toEqual([field]);
  });
});

describe('parseLimit', () => {
  it('defaults and bounds the page size', () => {
    expect(parseLimit(undefined)).toBe(20);
    expect(parseLimit('100')).toBe(100);
    for (const bad of ['0', '101', '2.5', 'ten'])
      expect(() => parseLimit(bad)).toThrow(BadRequestError);
  });
});
