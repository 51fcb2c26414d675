import { describe, expect, it } from 'vitest';
import { BadRequestError } from '#shared/errors.ts';
import { decodeSensorCursor, encodeCursor } from './cursor.ts';

const RUN = '11111111-2222-4333-8444-555555555555';
const T = '2030-01-01T12:00:00.000Z';
const runKey = { runId: RUN, readingKey: `${T}#s-1#temperature` };
const sensorKey = {
  runPartition: `${RUN}#3`,
  readingKey: runKey.readingKey,
  sensorId: 's-1',
  sensorKey: `${T}#${RUN}#temperature`,
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
    const at = Date.parse(T);
    expect(decodeSensorCursor(encodeCursor(runKey), byRun, { from: at, to: at })).toEqual(runKey);
  });

  it.each([
    ['garbage', 'x!y'],
    ['base64 of non-JSON', Buffer.from('nope').toString('base64url')],
    ['a key of the other access path', encodeCursor(sensorKey)],
    ['another run', encodeCursor({ ...runKey, runId: '99999999-2222-4333-8444-555555555555' })],
    ['a malformed run id', encodeCursor({ ...runKey, runId: 'r' })],
    ['a sort key without timestamp', encodeCursor({ ...runKey, readingKey: 'zzz' })],
    ['a number for a key', encodeCursor({ ...runKey, readingKey: 5 })],
    ['a flipped character', encodeCursor(runKey).replace(/^./, (c) => (c === 'e' ? 'f' : 'e'))],
  ])('refuse %s for a run query', (_case, cursor) => {
    refused(() => decodeSensorCursor(cursor, byRun, {}));
  });

  it('refuse a sensor cursor for another sensor or with a bad index key', () => {
    refused(() =>
      decodeSensorCursor(encodeCursor(sensorKey), { kind: 'sensor', sensorId: 's-2' }, {}),
    );
    refused(() => decodeSensorCursor(encodeCursor({ ...sensorKey, sensorKey: 'x' }), bySensor, {}));
    refused(() => decodeSensorCursor(encodeCursor(runKey), bySensor, {}));
    for (const runPartition of [RUN, `${RUN}#10`, `${RUN}#-1`, `${RUN}#01`, 'r#1']) {
      refused(() => decodeSensorCursor(encodeCursor({ ...sensorKey, runPartition }), bySensor, {}));
    }
  });

  it('refuse a key outside the time range of the query', () => {
    const at = Date.parse(T);
    refused(() => decodeSensorCursor(encodeCursor(runKey), byRun, { from: at + 1 }));
    refused(() => decodeSensorCursor(encodeCursor(runKey), byRun, { to: at - 1 }));
    refused(() => decodeSensorCursor(encodeCursor(sensorKey), bySensor, { from: at + 1 }));
  });
});
