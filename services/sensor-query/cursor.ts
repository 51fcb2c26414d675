/**
 * The `nextKey` of sensor queries. #shared/cursor.ts checks the shape (base64url JSON with exactly
 * the attributes of the access path, CURSOR_ATTRIBUTES); this checks every field as a value, so
 * a cursor we did not hand out for this query is a 400 and never reaches the reader: the run or
 * sensor of the query, and a last key handed out that could be one — a real instant (no month 13,
 * no February 30), the run or sensor it belongs to, a measurement type, an optional reading id —
 * inside the query's time range. Without these checks an impossible date reached
 * `new Date(NaN).toISOString()` (a 500). Pure.
 */
import { decodeCursor, encodeCursor } from '#shared/cursor.ts';
import { BadRequestError } from '#shared/errors.ts';
import { isSafeId, RUN_ID } from '#shared/identity.ts';
import {
  CANONICAL_TIMESTAMP,
  isMeasurementType,
  isSafeIdOrServerId,
  MAX_KEY_TIME_MS,
  timeKeyRange,
  toCanonicalTimestamp,
} from '#shared/measurement.ts';
import { CURSOR_ATTRIBUTES } from '#shared/measurement-query.ts';
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

/** A canonical timestamp of a real instant: it reads back as itself. */
export const isRealTimestamp = (value: string): boolean => {
  if (!CANONICAL_TIMESTAMP.test(value)) return false;
  const ms = Date.parse(value);
  return Number.isFinite(ms) && ms <= MAX_KEY_TIME_MS && toCanonicalTimestamp(ms) === value;
};

/**
 * Whether `key` is a key the path hands out: `<timestamp>#<owner>#<type>[#<id>]`, the owner being
 * the reading's sensor (readingKey, by run) or run (sensorKey, by sensor).
 */
const isReadingKeyOf = (key: unknown, owner: (part: string) => boolean): key is string => {
  if (typeof key !== 'string') return false;
  const [timestamp, ownerPart, type, id, ...rest] = key.split('#');
  return (
    rest.length === 0 &&
    timestamp !== undefined &&
    isRealTimestamp(timestamp) &&
    ownerPart !== undefined &&
    owner(ownerPart) &&
    isMeasurementType(type) &&
    (id === undefined || isSafeIdOrServerId(id))
  );
};

export const decodeSensorCursor = (
  cursor: string,
  path: AccessPath,
  range: { from?: number; to?: number },
): StartKey => {
  const key = decodeCursor(cursor, CURSOR_ATTRIBUTES[path.kind], FIELD);
  let lastKey: unknown;
  if (path.kind === 'run') {
    if (key.runId !== path.runId) return invalid();
    lastKey = key.readingKey;
    // A run query for one sensor hands out that sensor's readings only.
    const sensor = (part: string) =>
      isSafeId(part) && (path.sensorId === undefined || part === path.sensorId);
    if (!isReadingKeyOf(lastKey, sensor)) return invalid();
  } else {
    if (key.sensorId !== path.sensorId) return invalid();
    lastKey = key.sensorKey;
    if (!isReadingKeyOf(lastKey, (part) => RUN_ID.test(part))) return invalid();
  }
  const { lower, upper } = timeKeyRange(range.from, range.to);
  if ((lower !== undefined && lastKey < lower) || (upper !== undefined && lastKey > upper)) {
    return invalid();
  }
  return key as StartKey;
};
