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
import { CANONICAL_TIMESTAMP, RUN_PARTITIONS, timeKeyRange } from '#shared/measurement.ts';
import type { AccessPath } from './params.ts';

export { encodeCursor };

export type StartKey = Record<string, string>;

/**
 * Key attributes of a cursor per access path: by run, the last readingKey handed out (the run's
 * partitions are merged); by sensor, the index's LastEvaluatedKey (it includes the table key).
 */
export const CURSOR_ATTRIBUTES = {
  run: ['runId', 'readingKey'],
  sensor: ['sensorId', 'sensorKey', 'runPartition', 'readingKey'],
} as const;

/** `<run id>#<partition>`, as runPartition() makes it. */
const isRunPartition = (value: unknown): value is string => {
  if (typeof value !== 'string') return false;
  const hash = value.lastIndexOf('#');
  const partition = Number(value.slice(hash + 1));
  return (
    RUN_ID.test(value.slice(0, hash)) &&
    Number.isInteger(partition) &&
    partition >= 0 &&
    partition < RUN_PARTITIONS &&
    value.slice(hash + 1) === String(partition)
  );
};

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
  const { readingKey } = key;
  if (!isSortKey(readingKey)) return invalid();

  let sortKey: string;
  if (path.kind === 'run') {
    if (key.runId !== path.runId) return invalid();
    sortKey = readingKey;
  } else {
    const { sensorId, sensorKey, runPartition } = key;
    if (!isRunPartition(runPartition)) return invalid();
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
