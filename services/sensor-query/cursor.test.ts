import { describe, expect, it } from 'vitest';
import { BadRequestError } from '#shared/errors.ts';
import { decodeSensorCursor, encodeCursor } from './cursor.ts';

const RUN = '11111111-2222-4333-8444-555555555555';
const T = '2030-01-01T12:00:00.000Z';
const BATCH = 'AbCdEfGhIjKl.0';
const runKey = { runId: RUN, readingKey: `${T}#s-1#temperature` };
const sensorKey = { sensorId: 's-1', sensorKey: `${T}#${RUN}#temperature` };
const byRun = { kind: 'run' as const, runId: RUN };
const bySensor = { kind: 'sensor' as const, sensorId: 's-1' };

const refused = (act: () => unknown) => {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).details[0]?.field).toBe('nextKey');
    return;
  }
  throw new Error('accepted');
};

describe('sensor cursors', () => {
  it('round-trip the keys of both access paths', () => {
    expect(decodeSensorCursor(encodeCursor(runKey), byRun, {})).toEqual(runKey);
    expect(decodeSensorCursor(encodeCursor(sensorKey), bySensor, {})).toEqual(sensorKey);
  });

  it('accept a key inside the time range, including its edges', () => {
    const ms = Date.parse(T);
    expect(decodeSensorCursor(encodeCursor(runKey), byRun, { from: ms, to: ms })).toEqual(runKey);
  });

  it('accept keys with a reading id, a server id and any measurement type', () => {
    for (const readingKey of [`${T}#s-1#co2#id-1`, `${T}#s.1:x#temperature#@AbCdEfGhIjKl.3`]) {
      const key = { ...runKey, readingKey };
      expect(decodeSensorCursor(encodeCursor(key), byRun, {})).toEqual(key);
    }
    const own = { ...runKey, readingKey: `${T}#s-1#humidity` };
    expect(decodeSensorCursor(encodeCursor(own), { ...byRun, sensorId: 's-1' }, {})).toEqual(own);
  });

  it.each([
    ['garbage', 'x!y'],
    ['base64 of non-JSON', Buffer.from('nope').toString('base64url')],
    ['a key of the other access path', encodeCursor(sensorKey)],
    [
      'a cursor of the pack reader before continuations (with packKey)',
      encodeCursor({ ...runKey, packKey: `${T}#s-1#temperature!${BATCH}` }),
    ],
    ['another run', encodeCursor({ ...runKey, runId: '99999999-2222-4333-8444-555555555555' })],
    ['a malformed run id', encodeCursor({ ...runKey, runId: 'r' })],
    ['a sort key without timestamp', encodeCursor({ ...runKey, readingKey: 'zzz' })],
    ['a number for a key', encodeCursor({ ...runKey, readingKey: 5 })],
    [
      'month 13',
      encodeCursor({ ...runKey, readingKey: '2030-13-01T12:00:00.000Z#s-1#temperature' }),
    ],
    [
      'February 30',
      encodeCursor({ ...runKey, readingKey: '2030-02-30T12:00:00.000Z#s-1#temperature' }),
    ],
    [
      'hour 24',
      encodeCursor({ ...runKey, readingKey: '2030-01-01T24:00:00.000Z#s-1#temperature' }),
    ],
    ['a key without type', encodeCursor({ ...runKey, readingKey: `${T}#s-1` })],
    ['a key with a bad type', encodeCursor({ ...runKey, readingKey: `${T}#s-1#Temp` })],
    ['a key with a bad sensor', encodeCursor({ ...runKey, readingKey: `${T}#s 1#temperature` })],
    ['a key with a bad id', encodeCursor({ ...runKey, readingKey: `${T}#s-1#temperature#@x` })],
    ['a key with a part too many', encodeCursor({ ...runKey, readingKey: `${T}#s#t#i#j` })],
    ['a flipped character', encodeCursor(runKey).replace(/^./, (c) => (c === 'e' ? 'f' : 'e'))],
  ])('refuse %s for a run query', (_case, cursor) => {
    refused(() => decodeSensorCursor(cursor, byRun, {}));
  });

  it('refuse a sensor cursor for another sensor or with a bad index key', () => {
    refused(() =>
      decodeSensorCursor(encodeCursor(sensorKey), { kind: 'sensor', sensorId: 's-2' }, {}),
    );
    refused(() => decodeSensorCursor(encodeCursor({ ...sensorKey, sensorKey: 'x' }), bySensor, {}));
    refused(() =>
      decodeSensorCursor(
        encodeCursor({ ...sensorKey, sensorKey: `2030-02-29T12:00:00.000Z#${RUN}#temperature` }),
        bySensor,
        {},
      ),
    );
    // The owner part of a sensor key is a run id; a reading key's is a sensor.
    refused(() =>
      decodeSensorCursor(
        encodeCursor({ ...sensorKey, sensorKey: runKey.readingKey }),
        bySensor,
        {},
      ),
    );
    refused(() => decodeSensorCursor(encodeCursor(runKey), bySensor, {}));
  });

  it('refuse a run cursor of another sensor for a run query of one sensor', () => {
    refused(() => decodeSensorCursor(encodeCursor(runKey), { ...byRun, sensorId: 's-2' }, {}));
  });

  it('refuse a key outside the time range of the query', () => {
    const ms = Date.parse(T);
    refused(() => decodeSensorCursor(encodeCursor(runKey), byRun, { from: ms + 1 }));
    refused(() => decodeSensorCursor(encodeCursor(runKey), byRun, { to: ms - 1 }));
    refused(() => decodeSensorCursor(encodeCursor(sensorKey), bySensor, { from: ms + 1 }));
  });
});
