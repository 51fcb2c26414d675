/**
 * Validation of `POST /api/sensors/data` bodies: the three accepted shapes, their expansion into
 * typed readings, and the bounds of MEASUREMENT_LIMITS. Pure: a function of the body, the run id
 * header and the time. Every problem names its field and index (`measurements[3].reading`); one
 * bad item refuses the whole request, so nothing is enqueued.
 */
import { BadRequestError, NotFoundError, type ErrorDetail } from '#shared/errors.ts';
import { isSafeId, requireRunId, RUN_ID } from '#shared/identity.ts';
import {
  DEFAULT_MEASUREMENT_TYPE,
  MEASUREMENT_LIMITS,
  MULTI_READING_TYPES,
  isAcceptableReading,
  isMeasurementType,
} from '#shared/measurement.ts';
import { parseIsoTimestamp } from '#shared/time.ts';

/** A reading that passed validation. `timestamp` is epoch ms. */
export interface ValidMeasurement {
  sensorId: string;
  type: string;
  reading: number;
  timestamp: number;
  /** True when the client sent no timestamp and the server's acceptance time was used. */
  serverTimestamp: boolean;
  /** Client id for dedupe (SAFE_ID); only together with a client timestamp. */
  id?: string;
}

export interface ParsedIngest {
  runId: string;
  measurements: ValidMeasurement[];
  /** Items in the request before expansion (for metrics). */
  itemCount: number;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const has = (item: Json, key: string): boolean => item[key] !== undefined && item[key] !== null;

/** `prefix.field`, or `field` at the top level. */
const at = (prefix: string, field: string): string =>
  prefix === '' ? field : `${prefix}.${field}`;

class Issues {
  readonly list: ErrorDetail[] = [];
  add(field: string, message: string): void {
    this.list.push({ field, message });
  }
}

const checkReading = (value: unknown, field: string, issues: Issues): number | undefined => {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    issues.add(field, 'must be a finite number');
    return undefined;
  }
  if (!isAcceptableReading(value)) {
    const { minAbsReading, maxAbsReading } = MEASUREMENT_LIMITS;
    issues.add(
      field,
      `must be 0 or between ${minAbsReading} and ${maxAbsReading} in magnitude (what the stores hold)`,
    );
    return undefined;
  }
  // JSON has no negative zero, but keep the key and the stored number canonical anyway.
  return value === 0 ? 0 : value;
};

const checkTimestamp = (
  value: unknown,
  field: string,
  now: number,
  issues: Issues,
): number | undefined => {
  let epochMs: number | undefined;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) {
      issues.add(field, 'epoch timestamps must be whole milliseconds');
      return undefined;
    }
    epochMs = value;
  } else if (typeof value === 'string') {
    epochMs = parseIsoTimestamp(value);
    if (epochMs === undefined) {
      issues.add(
        field,
        'must be an ISO-8601 instant with a zone (2024-05-01T12:00:00Z) or epoch milliseconds',
      );
      return undefined;
    }
  } else {
    issues.add(field, 'must be an ISO-8601 string or epoch milliseconds');
    return undefined;
  }
  if (epochMs > now + MEASUREMENT_LIMITS.maxFutureMs) {
    issues.add(
      field,
      `is more than ${MEASUREMENT_LIMITS.maxFutureMs / 60_000} minutes in the future`,
    );
    return undefined;
  }
  if (epochMs < now - MEASUREMENT_LIMITS.maxAgeMs) {
    issues.add(
      field,
      `is older than ${MEASUREMENT_LIMITS.maxAgeMs / 86_400_000} days (epoch timestamps are milliseconds)`,
    );
    return undefined;
  }
  return epochMs;
};

/** One item in either the single or the multi-reading shape, expanded into readings. */
const parseItem = (
  item: unknown,
  prefix: string,
  runId: string,
  now: number,
  issues: Issues,
): ValidMeasurement[] => {
  const self = prefix === '' ? 'body' : prefix;
  if (!isObject(item)) {
    issues.add(self, 'must be an object');
    return [];
  }
  const before = issues.list.length;

  const sensorId = item.sensorId;
  if (!has(item, 'sensorId')) issues.add(at(prefix, 'sensorId'), 'is required');
  else if (!isSafeId(sensorId)) {
    issues.add(at(prefix, 'sensorId'), 'must be 1-64 characters of letters, digits, _ . : -');
  }

  // A run id inside a batch item is tolerated only when it names the request's run.
  if (prefix !== '' && has(item, 'runId') && item.runId !== runId) {
    issues.add(at(prefix, 'runId'), 'differs from the run of the request');
  }

  let id: string | undefined;
  if (has(item, 'id')) {
    if (isSafeId(item.id)) id = item.id;
    else issues.add(at(prefix, 'id'), 'must be 1-64 characters of letters, digits, _ . : -');
  }

  const serverTimestamp = !has(item, 'timestamp');
  const timestamp = serverTimestamp
    ? now
    : checkTimestamp(item.timestamp, at(prefix, 'timestamp'), now, issues);
  if (serverTimestamp && has(item, 'id')) {
    // An id is for dedupe of re-sends; a server time would differ per re-send (see readingKey).
    issues.add(at(prefix, 'timestamp'), 'is required when id is given');
  }

  const single = has(item, 'type') || has(item, 'reading');
  const multi = MULTI_READING_TYPES.filter((type) => has(item, type));
  const readings: { type: string; reading: number }[] = [];
  if (single && multi.length > 0) {
    issues.add(self, `mixes type/reading with ${multi.join(', ')}; send one shape per item`);
  } else if (single) {
    const type = has(item, 'type') ? item.type : DEFAULT_MEASUREMENT_TYPE;
    if (!isMeasurementType(type)) {
      issues.add(
        at(prefix, 'type'),
        `must be lowercase letters, digits or _ (starting with a letter), at most ${MEASUREMENT_LIMITS.maxTypeLength} characters`,
      );
    }
    let reading: number | undefined;
    if (has(item, 'reading')) reading = checkReading(item.reading, at(prefix, 'reading'), issues);
    else issues.add(at(prefix, 'reading'), 'is required');
    if (typeof type === 'string' && reading !== undefined) readings.push({ type, reading });
  } else if (multi.length > 0) {
    for (const type of multi) {
      const reading = checkReading(item[type], at(prefix, type), issues);
      if (reading !== undefined) readings.push({ type, reading });
    }
  } else {
    issues.add(
      self,
      `needs type and reading, or at least one of ${MULTI_READING_TYPES.join(', ')}`,
    );
  }

  if (issues.list.length > before || timestamp === undefined || typeof sensorId !== 'string') {
    return [];
  }
  return readings.map(({ type, reading }) => ({
    sensorId,
    type,
    reading,
    timestamp,
    serverTimestamp,
    ...(id === undefined ? {} : { id }),
  }));
};

const refuse = (issues: ErrorDetail[]): never => {
  const { maxDetails } = MEASUREMENT_LIMITS;
  const shown = issues.slice(0, maxDetails);
  if (issues.length > maxDetails) {
    shown.push({ message: `and ${issues.length - maxDetails} more problems` });
  }
  const first = issues[0];
  const summary = first?.field ? `${first.field} ${first.message}` : (first?.message ?? 'invalid');
  throw new BadRequestError(
    issues.length === 1
      ? `Invalid measurement: ${summary}`
      : `Invalid measurements (${issues.length} problems), first: ${summary}`,
    shown,
  );
};

/**
 * A run id given as text: a string that is not a UUID names no run, so it is unknown (404),
 * as on every route; a value of another type is a malformed request (400).
 */
const knownRunId = (value: unknown, field: string): string => {
  if (typeof value === 'string' && !RUN_ID.test(value)) throw new NotFoundError('Run not found');
  return requireRunId(value, field);
};

/**
 * The run of a request: the `X-Run-Id` header or `runId` in the body (top level). Both given
 * and different, neither given, or not a string → 400; a string that is not a run id → 404.
 */
export const resolveRunId = (headerValue: string | undefined, body: unknown): string => {
  const fromHeader = headerValue === undefined ? undefined : knownRunId(headerValue, 'X-Run-Id');
  // A bare array has no top level: its first item may name the run (the others must agree).
  const [raw, field] = isObject(body)
    ? [body.runId, 'runId']
    : Array.isArray(body) && isObject(body[0])
      ? [body[0].runId, '[0].runId']
      : [undefined, 'runId'];
  const fromBody = raw === undefined || raw === null ? undefined : knownRunId(raw, field);
  if (fromHeader !== undefined && fromBody !== undefined && fromHeader !== fromBody) {
    throw new BadRequestError('runId in the body differs from the X-Run-Id header', [
      { field: 'runId', message: 'differs from the X-Run-Id header' },
    ]);
  }
  const runId = fromHeader ?? fromBody;
  if (runId === undefined) {
    throw new BadRequestError('A run id is required: header X-Run-Id or runId in the body', [
      { field: 'runId', message: 'is required (X-Run-Id header or runId in the body)' },
    ]);
  }
  return runId;
};

/**
 * Parses a request body in any of the accepted shapes:
 * - one reading `{sensorId, type?, reading, timestamp?, id?}` (`type` defaults to temperature);
 * - a multi-reading `{sensorId, temperature?, humidity?, pressure?, timestamp?, id?}` (at least
 *   one present), expanded into one reading per present field, in that order;
 * - a batch `{measurements: [...]}` or a bare array of items in either shape (at most maxItems).
 * Unknown fields are ignored (not stored). Throws BadRequestError listing every problem.
 */
export const parseIngestBody = (
  body: unknown,
  runIdHeader: string | undefined,
  now: number,
): ParsedIngest => {
  if (body === undefined || body === null) {
    throw new BadRequestError('Request body is required', [
      { field: 'body', message: 'expected a measurement, a batch or an array' },
    ]);
  }
  if (!isObject(body) && !Array.isArray(body)) {
    throw new BadRequestError('Request body must be a JSON object or array', [
      { field: 'body', message: 'expected a measurement, a batch or an array' },
    ]);
  }
  const runId = resolveRunId(runIdHeader, body);

  let items: unknown[];
  let prefix: (index: number) => string;
  if (Array.isArray(body)) {
    items = body;
    prefix = (index) => `[${index}]`;
  } else if ('measurements' in body) {
    if (!Array.isArray(body.measurements)) {
      throw new BadRequestError('measurements must be an array', [
        { field: 'measurements', message: 'must be an array' },
      ]);
    }
    items = body.measurements;
    prefix = (index) => `measurements[${index}]`;
  } else {
    items = [body];
    prefix = () => '';
  }

  const listField = Array.isArray(body) ? 'body' : 'measurements';
  if (items.length === 0) {
    throw new BadRequestError('At least one measurement is required', [
      { field: listField, message: 'must not be empty' },
    ]);
  }
  if (items.length > MEASUREMENT_LIMITS.maxItems) {
    throw new BadRequestError(`At most ${MEASUREMENT_LIMITS.maxItems} measurements per request`, [
      {
        field: listField,
        message: `has ${items.length} items; the limit is ${MEASUREMENT_LIMITS.maxItems}`,
      },
    ]);
  }

  const issues = new Issues();
  const measurements = items.flatMap((item, index) =>
    parseItem(item, prefix(index), runId, now, issues),
  );
  if (issues.list.length > 0) refuse(issues.list);
  return { runId, measurements, itemCount: items.length };
};
