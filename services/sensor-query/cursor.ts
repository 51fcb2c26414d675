/**
 * The `nextKey` of sensor queries. #shared/cursor.ts checks the shape (base64url JSON with exactly
 * the key attributes of the access path); this adds what is specific to readings: id formats, the
 * timestamp-first sort keys, and that the key lies inside the query's partition and time range.
 * DynamoDB refuses a start key outside the key condition, so without these checks a cursor from
 * another query would be a 500 instead of a 400. Pure.
 */
import { decodeCursor, encodeCursor } from '#shared/cursor.ts';
import { BadRequestError } from '#shared/errors.ts';
import { isSafeId, RUN_ID } from '#shared/identity.ts';
import { CANONICAL_TIMESTAMP, timeKeyRange } from '#shared/measurement.ts';
import type { AccessPath } from './params.ts';

export { encodeCursor };

export type StartKey = Record<string, string>;

/** Key attributes of a LastEvaluatedKey per access path (an index key includes the table key). */
export const CURSOR_ATTRIBUTES = {
  run: ['runId', 'readingKey'],
  sensor: ['sensorId', 'sensorKey', 'runId', 'readingKey'],
} as const;

const FIELD = 'nextKey';

const invalid = (): never => {
  throw new BadRequestError('nextKey is not a cursor returned by this API for this query', [
    {
      field: FIELD,
      message: 'pass back the nextKey of the previous page of the same query unchanged',
    },
  ]);
};

/** `<24-character timestamp>#…`: the shape both sort keys share. */
const isSortKey = (value: unknown): value is string =>
  typeof value === 'string' && CANONICAL_TIMESTAMP.test(value.slice(0, 24)) && value[24] === '#';

export const decodeSensorCursor = (
  cursor: string,
  path: AccessPath,
  range: { from?: number; to?: number },
): StartKey => {
  const key = decodeCursor(cursor, CURSOR_ATTRIBUTES[path.kind], FIELD);
  const { runId, readingKey } = key;
  if (typeof runId !== 'string' || !RUN_ID.test(runId) || !isSortKey(readingKey)) return invalid();

  let sortKey: string;
  if (path.kind === 'run') {
    if (runId !== path.runId) return invalid();
    sortKey = readingKey;
  } else {
    const { sensorId, sensorKey } = key;
    if (!isSafeId(sensorId) || sensorId !== path.sensorId || !isSortKey(sensorKey))
      return invalid();
    sortKey = sensorKey;
  }
  const { lower, upper } = timeKeyRange(range.from, range.to);
  if ((lower !== undefined && sortKey < lower) || (upper !== undefined && sortKey > upper)) {
    return invalid();
  }
  return key as StartKey;
};
