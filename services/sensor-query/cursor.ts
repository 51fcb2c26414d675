/**
 * The `nextKey` of sensor queries. #shared/cursor.ts checks the shape (base64url JSON with exactly
 * the attributes of the access path, CURSOR_ATTRIBUTES); this adds what is specific to readings:
 * id formats, the timestamp-first keys, and that the keys lie inside the query's run or sensor
 * and time range. DynamoDB refuses a key condition whose lower bound lies above its upper, so
 * without these checks a cursor from another query would be a 500 instead of a 400. Pure.
 */
import { decodeCursor, encodeCursor } from '#shared/cursor.ts';
import { BadRequestError } from '#shared/errors.ts';
import { isSafeId } from '#shared/identity.ts';
import { BATCH_ID, CANONICAL_TIMESTAMP, timeKeyRange } from '#shared/measurement.ts';
import { CURSOR_ATTRIBUTES } from '#shared/measurement-query.ts';
import { firstReadingOf, packLowerBound } from '#shared/reading-pack.ts';
import type { AccessPath } from './params.ts';

export { CURSOR_ATTRIBUTES, encodeCursor };

export type StartKey = Record<string, string>;

const FIELD = 'nextKey';

const invalid = (): never => {
  throw new BadRequestError('nextKey is not a cursor returned by this API for this query', [
    {
      field: FIELD,
      message: 'pass back the nextKey of the previous page of the same query unchanged',
    },
  ]);
};

/** `<24-character timestamp>#…`: the shape of reading keys and sensor keys. */
const isSortKey = (value: unknown): value is string =>
  typeof value === 'string' && CANONICAL_TIMESTAMP.test(value.slice(0, 24)) && value[24] === '#';

/** `<sort key>!<batch id>`: the shape of pack keys and sensor pack keys. */
const isPackKey = (value: unknown): value is string =>
  typeof value === 'string' &&
  value.includes('!') &&
  isSortKey(firstReadingOf(value)) &&
  BATCH_ID.test(value.slice(value.lastIndexOf('!') + 1));

export const decodeSensorCursor = (
  cursor: string,
  path: AccessPath,
  range: { from?: number; to?: number },
): StartKey => {
  const key = decodeCursor(cursor, CURSOR_ATTRIBUTES[path.kind], FIELD);
  let sortKey: unknown;
  if (path.kind === 'run') {
    if (key.runId !== path.runId) return invalid();
    sortKey = key.readingKey;
  } else {
    if (!isSafeId(key.sensorId) || key.sensorId !== path.sensorId) return invalid();
    sortKey = key.sensorKey;
  }
  const { packKey } = key;
  if (!isSortKey(sortKey) || !isPackKey(packKey)) return invalid();

  const { lower, upper } = timeKeyRange(range.from, range.to);
  if ((lower !== undefined && sortKey < lower) || (upper !== undefined && sortKey > upper)) {
    return invalid();
  }
  // A page resumes from the pack of a reading it did not hand out, which starts at most
  // PACK_SPAN_MS before that reading (so after the last key handed out, less the span), or from
  // a stream's read position, which lies past that key. A cursor reaching back further would
  // have the next page read again what is long handed out.
  const lowest = packLowerBound(Date.parse(sortKey.slice(0, 24)));
  if (packKey < lowest || (upper !== undefined && packKey > upper)) return invalid();
  return key as StartKey;
};
