import { describe, expect, it } from 'vitest';
import { BadRequestError } from '#shared/errors.ts';
import { decodeSensorCursor, encodeCursor } from './cursor.ts';

const RUN = '11111111-2222-4333-8444-555555555555';
const T = '2030-01-01T12:00:00.000Z';
const at = (ms: number) => new Date(Date.parse(T) + ms).toISOString();
const BATCH = 'AbCdEfGhIjKl.0';
const runKey = {
  runId: RUN,
  readingKey: `${T}#s-1#temperature`,
  packKey: `${at(-1000)}#s-2#humidity!${BATCH}`,
};
const sensorKey = {
  sensorId: 's-1',
  sensorKey: `${T}#${RUN}#temperature`,
  packKey: `${at(-1000)}#${RUN}#temperature!${BATCH}`,
};
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

  it('accept a pack key a pack span below the reading key, or anywhere above it in the range', () => {
    for (const packKey of [
      `${at(-5000)}#s-1#temperature!${BATCH}`,
      `${T}#s-1#temperature!${BATCH}`,
      `${at(60_000)}#s-0#co2#id-1!${BATCH}`,
    ]) {
      const key = { ...runKey, packKey };
      expect(decodeSensorCursor(encodeCursor(key), byRun, {})).toEqual(key);
    }
  });

  it.each([
    ['garbage', 'x!y'],
    ['base64 of non-JSON', Buffer.from('nope').toString('base64url')],
    ['a key of the other access path', encodeCursor(sensorKey)],
    [
      'a cursor of the row-per-reading reader',
      encodeCursor({ runId: RUN, readingKey: `${T}#s#t` }),
    ],
    ['another run', encodeCursor({ ...runKey, runId: '99999999-2222-4333-8444-555555555555' })],
    ['a malformed run id', encodeCursor({ ...runKey, runId: 'r' })],
    ['a sort key without timestamp', encodeCursor({ ...runKey, readingKey: 'zzz' })],
    ['a number for a key', encodeCursor({ ...runKey, readingKey: 5 })],
    ['a pack key without batch id', encodeCursor({ ...runKey, packKey: `${T}#s-1#temperature` })],
    ['a pack key with a bad batch id', encodeCursor({ ...runKey, packKey: `${T}#s#t!x` })],
    ['a pack key without timestamp', encodeCursor({ ...runKey, packKey: `zzz!${BATCH}` })],
    [
      'a pack key more than a pack span below the reading key',
      encodeCursor({ ...runKey, packKey: `${at(-5001)}#s-1#temperature!${BATCH}` }),
    ],
    ['a flipped character', encodeCursor(runKey).replace(/^./, (c) => (c === 'e' ? 'f' : 'e'))],
  ])('refuse %s for a run query', (_case, cursor) => {
    refused(() => decodeSensorCursor(cursor, byRun, {}));
  });

  it('refuse a sensor cursor for another sensor or with a bad index key', () => {
    refused(() =>
      decodeSensorCursor(encodeCursor(sensorKey), { kind: 'sensor', sensorId: 's-2' }, {}),
    );
    refused(() => decodeSensorCursor(encodeCursor({ ...sensorKey, sensorKey: 'x' }), bySensor, {}));
    refused(() => decodeSensorCursor(encodeCursor({ ...sensorKey, packKey: 'x' }), bySensor, {}));
    refused(() => decodeSensorCursor(encodeCursor(runKey), bySensor, {}));
    // The index's LastEvaluatedKey, as the row-per-reading reader handed it out.
    const { packKey: _packKey, ...rest } = sensorKey;
    refused(() =>
      decodeSensorCursor(
        encodeCursor({ ...rest, runPartition: `${RUN}#3`, readingKey: runKey.readingKey }),
        bySensor,
        {},
      ),
    );
  });

  it('refuse a key outside the time range of the query', () => {
    const ms = Date.parse(T);
    refused(() => decodeSensorCursor(encodeCursor(runKey), byRun, { from: ms + 1 }));
    refused(() => decodeSensorCursor(encodeCursor(runKey), byRun, { to: ms - 1 }));
    refused(() => decodeSensorCursor(encodeCursor(sensorKey), bySensor, { from: ms + 1 }));
    // A pack key above the range: DynamoDB would refuse the key condition (a 500).
    const late = { ...runKey, packKey: `${at(1)}#s-1#temperature!${BATCH}` };
    refused(() => decodeSensorCursor(encodeCursor(late), byRun, { to: ms }));
  });
});
