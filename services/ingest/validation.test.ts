import { describe, expect, it } from 'vitest';
import { BadRequestError, NotFoundError, type ErrorDetail } from '#shared/errors.ts';
import { MEASUREMENT_LIMITS } from '#shared/measurement.ts';
import { parseIngestBody, resolveRunId } from './validation.ts';

const NOW = Date.parse('2030-01-01T12:00:00.000Z');
const RUN = '11111111-2222-4333-8444-555555555555';
const OTHER_RUN = '99999999-2222-4333-8444-555555555555';

/** The details of the 400 `act` throws; fails the test when it does not throw one. */
const refusal = (act: () => unknown): { message: string; details: ErrorDetail[] } => {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestError);
    return {
      message: (error as BadRequestError).message,
      details: (error as BadRequestError).details,
    };
  }
  throw new Error('expected a BadRequestError');
};

const fields = (act: () => unknown): (string | undefined)[] =>
  refusal(act).details.map((d) => d.field);

describe('parseIngestBody: accepted shapes', () => {
  it('takes a single reading with the run from the header', () => {
    const parsed = parseIngestBody(
      { sensorId: 's-1', type: 'temperature', reading: 21.5, timestamp: '2030-01-01T11:59:00Z' },
      RUN,
      NOW,
    );
    expect(parsed).toEqual({
      runId: RUN,
      itemCount: 1,
      measurements: [
        {
          sensorId: 's-1',
          type: 'temperature',
          reading: 21.5,
          timestamp: Date.parse('2030-01-01T11:59:00Z'),
          serverTimestamp: false,
        },
      ],
    });
  });

  it('gives a reading without timestamp the server time and marks it', () => {
    const [m] = parseIngestBody(
      { sensorId: 's-1', type: 'co2', reading: 400 },
      RUN,
      NOW,
    ).measurements;
    expect(m).toMatchObject({ timestamp: NOW, serverTimestamp: true });
  });

  it('expands a multi-reading into typed readings in a fixed order', () => {
    const parsed = parseIngestBody(
      {
        runId: RUN,
        sensorId: 's-2',
        pressure: 1013,
        temperature: 20,
        humidity: 55,
        timestamp: NOW - 1000,
      },
      undefined,
      NOW,
    );
    expect(parsed.measurements.map((m) => [m.type, m.reading, m.timestamp])).toEqual([
      ['temperature', 20, NOW - 1000],
      ['humidity', 55, NOW - 1000],
      ['pressure', 1013, NOW - 1000],
    ]);
  });

  it('expands only the present fields of a multi-reading (null counts as absent)', () => {
    const parsed = parseIngestBody({ sensorId: 's-2', humidity: 40, pressure: null }, RUN, NOW);
    expect(parsed.measurements.map((m) => m.type)).toEqual(['humidity']);
  });

  it('takes a batch object with the run in the body, mixing both item shapes', () => {
    const parsed = parseIngestBody(
      {
        runId: RUN,
        measurements: [
          { sensorId: 'a', type: 'light', reading: 1 },
          { sensorId: 'b', temperature: 2, humidity: 3 },
        ],
      },
      undefined,
      NOW,
    );
    expect(parsed.itemCount).toBe(2);
    expect(parsed.measurements.map((m) => `${m.sensorId}:${m.type}`)).toEqual([
      'a:light',
      'b:temperature',
      'b:humidity',
    ]);
  });

  it('takes a bare array with the run from the header', () => {
    const parsed = parseIngestBody(
      [
        { sensorId: 'a', type: 'temperature', reading: 1 },
        { sensorId: 'a', type: 'temperature', reading: 2 },
      ],
      RUN,
      NOW,
    );
    expect(parsed.measurements).toHaveLength(2);
  });

  it('takes a bare array whose items name the run', () => {
    const parsed = parseIngestBody(
      [{ runId: RUN, sensorId: 'a', type: 't', reading: 1 }],
      undefined,
      NOW,
    );
    expect(parsed.runId).toBe(RUN);
  });

  it('takes epoch milliseconds and ISO instants with offsets and fractions', () => {
    const parsed = parseIngestBody(
      {
        measurements: [
          { sensorId: 'a', type: 't', reading: 1, timestamp: NOW - 60_000 },
          { sensorId: 'a', type: 't', reading: 1, timestamp: '2030-01-01T13:00:00.123456+02:00' },
        ],
      },
      RUN,
      NOW,
    );
    expect(parsed.measurements.map((m) => m.timestamp)).toEqual([
      NOW - 60_000,
      Date.parse('2030-01-01T11:00:00.123Z'),
    ]);
  });

  it('keeps a client id when the timestamp is given', () => {
    const [m] = parseIngestBody(
      { sensorId: 'a', type: 't', reading: 1, id: 'msg-42', timestamp: NOW },
      RUN,
      NOW,
    ).measurements;
    expect(m?.id).toBe('msg-42');
  });

  it('accepts any well-formed type, not only the known ones', () => {
    const [m] = parseIngestBody(
      { sensorId: 'a', type: 'soil_moisture_2', reading: 0.3 },
      RUN,
      NOW,
    ).measurements;
    expect(m?.type).toBe('soil_moisture_2');
  });

  it('reads a single reading without type as a temperature, as the front end means it', () => {
    const [m] = parseIngestBody({ sensorId: 'a', reading: 19.5 }, RUN, NOW).measurements;
    expect(m).toMatchObject({ sensorId: 'a', type: 'temperature', reading: 19.5 });
  });

  it('accepts the bounds themselves', () => {
    const { maxAbsReading, minAbsReading, maxAgeMs, maxFutureMs, maxItems } = MEASUREMENT_LIMITS;
    const items = [
      {
        sensorId: 'x'.repeat(64),
        type: 'a'.repeat(32),
        reading: maxAbsReading,
        timestamp: NOW - maxAgeMs,
      },
      { sensorId: 'a', type: 't', reading: -maxAbsReading, timestamp: NOW + maxFutureMs },
      { sensorId: 'a', type: 'u', reading: minAbsReading },
      { sensorId: 'a', type: 'v', reading: -minAbsReading },
      ...Array.from({ length: maxItems - 4 }, () => ({ sensorId: 'a', type: 't', reading: 0 })),
    ];
    expect(parseIngestBody(items, RUN, NOW).measurements).toHaveLength(maxItems);
  });
});

describe('parseIngestBody: refusals name the field and index', () => {
  const item = { sensorId: 's', type: 'temperature', reading: 1 };

  it.each([
    ['a missing sensorId', { type: 't', reading: 1 }, 'measurements[1].sensorId'],
    ['a sensorId with unsafe characters', { ...item, sensorId: 'a b' }, 'measurements[1].sensorId'],
    [
      'a sensorId over 64 characters',
      { ...item, sensorId: 'x'.repeat(65) },
      'measurements[1].sensorId',
    ],
    ['a numeric sensorId', { ...item, sensorId: 7 }, 'measurements[1].sensorId'],
    ['an uppercase type', { ...item, type: 'Temperature' }, 'measurements[1].type'],
    ['a type over 32 characters', { ...item, type: 'a'.repeat(33) }, 'measurements[1].type'],
    ['a missing reading', { sensorId: 's', type: 't' }, 'measurements[1].reading'],
    ['a string reading', { ...item, reading: '21.5' }, 'measurements[1].reading'],
    ['a reading beyond the magnitude', { ...item, reading: 1e10 }, 'measurements[1].reading'],
    // DynamoDB answers "Number underflow" to these: accepting them loses the request.
    ['a reading too tiny to store', { ...item, reading: 1e-320 }, 'measurements[1].reading'],
    ['a negative tiny reading', { ...item, reading: -1e-131 }, 'measurements[1].reading'],
    [
      'a multi field too tiny to store',
      { sensorId: 's', humidity: 5e-324 },
      'measurements[1].humidity',
    ],
    ['a bad multi field', { sensorId: 's', temperature: 'hot' }, 'measurements[1].temperature'],
    ['mixed shapes', { ...item, humidity: 3 }, 'measurements[1]'],
    ['no reading at all', { sensorId: 's' }, 'measurements[1]'],
    ['a non-object item', 42, 'measurements[1]'],
    ['a malformed timestamp', { ...item, timestamp: 'yesterday' }, 'measurements[1].timestamp'],
    [
      'a zone-less timestamp',
      { ...item, timestamp: '2030-01-01T12:00:00' },
      'measurements[1].timestamp',
    ],
    [
      'an impossible date',
      { ...item, timestamp: '2030-02-30T12:00:00Z' },
      'measurements[1].timestamp',
    ],
    ['a fractional epoch', { ...item, timestamp: NOW + 0.5 }, 'measurements[1].timestamp'],
    [
      'an epoch in seconds',
      { ...item, timestamp: Math.floor(NOW / 1000) },
      'measurements[1].timestamp',
    ],
    [
      'a timestamp too far ahead',
      { ...item, timestamp: NOW + 5 * 60_000 + 1 },
      'measurements[1].timestamp',
    ],
    [
      'a timestamp too old',
      { ...item, timestamp: NOW - 7 * 86_400_000 - 1 },
      'measurements[1].timestamp',
    ],
    ['a boolean timestamp', { ...item, timestamp: true }, 'measurements[1].timestamp'],
    ['an unsafe client id', { ...item, id: 'a/b', timestamp: NOW }, 'measurements[1].id'],
    ['a client id without timestamp', { ...item, id: 'm-1' }, 'measurements[1].timestamp'],
    ['an item naming another run', { ...item, runId: OTHER_RUN }, 'measurements[1].runId'],
  ])('refuses %s', (_case, bad, field) => {
    const body = { measurements: [item, bad, item] };
    expect(fields(() => parseIngestBody(body, RUN, NOW))).toEqual([field]);
  });

  it('uses [i] paths for a bare array and plain names for a single reading', () => {
    expect(
      fields(() => parseIngestBody([{ ...item }, { ...item, reading: null }], RUN, NOW)),
    ).toEqual(['[1].reading']);
    expect(fields(() => parseIngestBody({ ...item, reading: 'x' }, RUN, NOW))).toEqual(['reading']);
  });

  it('lists every problem up to the cap and counts the rest', () => {
    const body = Array.from({ length: 30 }, () => ({ sensorId: '', type: 'T', reading: 'x' }));
    const { details, message } = refusal(() => parseIngestBody(body, RUN, NOW));
    expect(details).toHaveLength(MEASUREMENT_LIMITS.maxDetails + 1);
    expect(details[0]).toEqual({ field: '[0].sensorId', message: expect.any(String) });
    expect(details.at(-1)?.message).toBe('and 70 more problems');
    expect(message).toContain('90 problems');
  });

  it('refuses an empty batch, an oversized batch and a non-array measurements', () => {
    expect(fields(() => parseIngestBody({ measurements: [] }, RUN, NOW))).toEqual(['measurements']);
    expect(fields(() => parseIngestBody([], RUN, NOW))).toEqual(['body']);
    const tooMany = Array.from({ length: MEASUREMENT_LIMITS.maxItems + 1 }, () => item);
    expect(fields(() => parseIngestBody({ measurements: tooMany }, RUN, NOW))).toEqual([
      'measurements',
    ]);
    expect(fields(() => parseIngestBody({ measurements: {} }, RUN, NOW))).toEqual(['measurements']);
  });

  it('refuses a missing body and scalar bodies', () => {
    expect(fields(() => parseIngestBody(undefined, RUN, NOW))).toEqual(['body']);
    expect(fields(() => parseIngestBody('text', RUN, NOW))).toEqual(['body']);
  });
});

describe('resolveRunId', () => {
  it('takes the header, the body, or both when equal', () => {
    expect(resolveRunId(RUN, {})).toBe(RUN);
    expect(resolveRunId(undefined, { runId: RUN })).toBe(RUN);
    expect(resolveRunId(RUN, { runId: RUN })).toBe(RUN);
  });

  it('refuses both-and-different, neither, and ids that are not strings', () => {
    expect(fields(() => resolveRunId(RUN, { runId: OTHER_RUN }))).toEqual(['runId']);
    expect(fields(() => resolveRunId(undefined, {}))).toEqual(['runId']);
    expect(fields(() => resolveRunId(undefined, { runId: 12 }))).toEqual(['runId']);
  });

  it('answers a string that is not a run id as an unknown run (404), header or body', () => {
    expect(() => resolveRunId('not-a-uuid', {})).toThrow(NotFoundError);
    expect(() => resolveRunId(undefined, { runId: 'x' })).toThrow(NotFoundError);
    expect(() => resolveRunId(undefined, [{ runId: 'x' }])).toThrow(NotFoundError);
    expect(() => resolveRunId('0F8FAD5B-D9CB-469F-A165-70867728950E', {})).toThrow(NotFoundError);
  });
});
