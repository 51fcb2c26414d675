/**
 * The measurement as it travels: validated at the edge (services/ingest), carried in SQS
 * messages, written by services/ingest-consumer and read by services/sensor-query. The
 * queue message format and a reading's keys live here (the stored packs built on them in
 * reading-pack.ts) so producer, consumer and reader cannot drift apart. Pure: no AWS or
 * Node-specific imports beyond types.
 */
import { SAFE_ID } from './identity.ts';
import {
  isStorableNumber,
  MAX_STORABLE_MAGNITUDE,
  MIN_STORABLE_MAGNITUDE,
} from './storage-limits.ts';

/**
 * Bounds of everything a client may send to `POST /api/sensors/data`. One place, so the
 * validation, the tests and the documentation agree.
 *
 * - `maxBodyBytes` 256 KiB: a request above it is a 413. The default simulator batch of a few
 *   dozen readings is ~5 KiB, so this leaves room without letting one request hold a container.
 * - `maxItems` 500: items per batch (`{measurements:[...]}` or a bare array). A multi-reading item
 *   expands to up to 3 readings, so one request carries at most 1,500 readings.
 * - `maxTypeLength` 32: `type` is lowercase letters, digits and `_`, starting with a letter.
 * - `maxAbsReading` 1e9: readings are finite numbers with |reading| ≤ 1e9 (no NaN/Infinity,
 *   which JSON cannot carry anyway, and no absurd magnitudes that break dashboards).
 * - `minAbsReading` 1e-108: a non-zero reading must be at least this large in magnitude, the
 *   smallest that both DynamoDB and CloudWatch hold (shared/storage-limits.ts); DynamoDB refuses
 *   1e-320 with "Number underflow", after the edge would have said 202.
 * - `maxAgeMs` 7 days / `maxFutureMs` 5 minutes: a timestamp (ISO-8601 with seconds and a zone,
 *   or epoch milliseconds) must lie in [now − 7 d, now + 5 min]; older data is not "live" and
 *   a clock far ahead is a client bug. Missing → the server's time of acceptance.
 * - ids (`sensorId`, the optional client `id`) follow `SAFE_ID` (1–64 of `A-Za-z0-9_.:-`).
 * - `maxDetails` 20: a 400 lists at most this many problems (the count of the rest is noted).
 */
export const MEASUREMENT_LIMITS = {
  maxBodyBytes: 256 * 1024,
  maxItems: 500,
  maxTypeLength: 32,
  maxAbsReading: Math.min(1e9, MAX_STORABLE_MAGNITUDE),
  minAbsReading: MIN_STORABLE_MAGNITUDE,
  maxAgeMs: 7 * 24 * 60 * 60 * 1000,
  maxFutureMs: 5 * 60 * 1000,
  maxDetails: 20,
} as const;

/** A reading the stores hold unchanged and the product's bounds allow: 0, or within both bounds. */
export const isAcceptableReading = (value: unknown): value is number =>
  typeof value === 'number' &&
  isStorableNumber(value) &&
  (value === 0 ||
    (Math.abs(value) >= MEASUREMENT_LIMITS.minAbsReading &&
      Math.abs(value) <= MEASUREMENT_LIMITS.maxAbsReading));

/** Types the simulator and dashboards know; any other well-formed `type` is accepted too. */
export const KNOWN_TYPES = [
  'temperature',
  'humidity',
  'pressure',
  'co2',
  'light',
  'noise',
  'voc',
  'pm25',
  'pm10',
  'battery',
  'voltage',
  'current',
  'power',
  'motion',
] as const;

/** A single reading without `type` is a temperature, as in the front end's model. */
export const DEFAULT_MEASUREMENT_TYPE = 'temperature';

/** Fields of the multi-reading shape `{sensorId, temperature?, humidity?, pressure?}`. */
export const MULTI_READING_TYPES = ['temperature', 'humidity', 'pressure'] as const;

export const TYPE_PATTERN = new RegExp(
  `^[a-z][a-z0-9_]{0,${MEASUREMENT_LIMITS.maxTypeLength - 1}}$`,
);

export const isMeasurementType = (value: unknown): value is string =>
  typeof value === 'string' && TYPE_PATTERN.test(value);

/**
 * Identity discriminator the server gives a reading whose timestamp it assigned: `@<request
 * tag>.<position>`. `@` is outside SAFE_ID, so it can never equal a client id.
 */
export const SERVER_ID = /^@[A-Za-z0-9_-]{8,64}\.\d{1,5}$/;

/** One reading inside a queue message. `timestamp` is canonical ISO (`toISOString`, 24 chars). */
export interface QueueMeasurement {
  sensorId: string;
  type: string;
  reading: number;
  timestamp: string;
  /** Client id (SAFE_ID) or a server id (SERVER_ID); part of the stored identity when present. */
  id?: string;
}

/** Version of the queue message body; bump it when the format changes incompatibly. */
export const QUEUE_MESSAGE_VERSION = 1;

/**
 * Body of one SQS message. `batchId` is assigned at the edge and names the message's packs:
 * stable across SQS redeliveries, and across re-sends of a request with the same
 * Idempotency-Key (which rebuild the very same body).
 */
export interface QueueMessage {
  v: typeof QUEUE_MESSAGE_VERSION;
  batchId: string;
  runId: string;
  user: string;
  /** ISO instant the edge accepted the request; end-to-end lag is measured from it. */
  acceptedAt: string;
  measurements: QueueMeasurement[];
}

export const BATCH_ID = /^[A-Za-z0-9_-]{8,64}\.\d{1,5}$/;

/** SQS bills per 64 KiB chunk of a message, so a message body stays within one chunk. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

/** The canonical timestamp form: `toISOString()`, always 24 characters for years 0–9999. */
export const CANONICAL_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Latest instant whose ISO form has a 4-digit year (keys rely on the fixed width). */
export const MAX_KEY_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export const toCanonicalTimestamp = (epochMs: number): string => new Date(epochMs).toISOString();

/*
 * Keys of a reading, from which the stored packs take theirs (shared/reading-pack.ts):
 *
 *   readingKey = <timestamp>#<sensorId>#<type>[#<id>]     (orders a run's readings)
 *   sensorKey  = <timestamp>#<runId>#<type>[#<id>]        (orders a sensor's readings)
 *
 * `<timestamp>` is the 24-character canonical ISO form, so lexical order is time order and a
 * from/to range is a key condition on either access path. `#` cannot occur in a sensor id, run
 * id, type or id, so the parts are unambiguous.
 *
 * Identity: (run, sensor, type, timestamp) — the same reading sent twice is read back once.
 * `id` joins the identity when present:
 *  - a client id keeps two distinct readings of one sensor and type in the same millisecond
 *    apart. A client that sends an id must also send the timestamp (validated at the edge):
 *    were the server to assign it, a re-sent reading would get a new time and a new identity,
 *    which defeats the id.
 *  - a reading whose timestamp the server assigned gets a server id `@<request>.<position>`:
 *    every reading of one request shares the acceptance time, and without it a batch of readings
 *    of one sensor and type would collapse into one. The server id is fixed in the queue
 *    message, so SQS redeliveries keep it.
 */
export const readingKey = (m: Pick<QueueMeasurement, 'timestamp' | 'sensorId' | 'type' | 'id'>) =>
  [m.timestamp, m.sensorId, m.type, ...(m.id === undefined ? [] : [m.id])].join('#');

export const sensorKey = (
  runId: string,
  m: Pick<QueueMeasurement, 'timestamp' | 'type' | 'id'>,
): string => [m.timestamp, runId, m.type, ...(m.id === undefined ? [] : [m.id])].join('#');

/**
 * The sensorKey of a reading named by its readingKey, `runId` being its run: the same parts with
 * the run in the sensor's place. Within one run and sensor both keys order readings alike.
 */
export const sensorKeyOfReadingKey = (key: string, runId: string): string => {
  const [timestamp, , ...rest] = key.split('#');
  return [timestamp, runId, ...rest].join('#');
};

/**
 * The partition of a run's packs of one sensor (shared/reading-pack.ts): a query of a run and a
 * sensor reads this one partition and nothing else. A run id is a UUID and a sensor id holds no
 * `#`, so the partition names one run and sensor, and no directory or parked partition (whose
 * names start with a word) is one of them.
 */
export const sensorPartition = (runId: string, sensorId: string): string => `${runId}#${sensorId}`;

/** The run of a partition named by sensorPartition. */
export const runOfPartition = (partition: string): string =>
  partition.slice(0, partition.indexOf('#'));

/**
 * Sort-key bounds for readings with `from ≤ timestamp ≤ to` (either side optional). Keys start
 * with the timestamp followed by `#`; `$` sorts right after `#`, so `<to>$` is above every key of
 * the instant `to` and below every later one.
 */
export const timeKeyRange = (
  from: number | undefined,
  to: number | undefined,
): { lower?: string; upper?: string } => ({
  ...(from === undefined ? {} : { lower: toCanonicalTimestamp(from) }),
  ...(to === undefined ? {} : { upper: `${toCanonicalTimestamp(to)}$` }),
});

/** What `GET /api/sensors/data` returns per reading. */
export interface MeasurementView {
  runId: string;
  sensorId: string;
  type: string;
  reading: number;
  timestamp: string;
  user: string;
}

export const isSafeIdOrServerId = (value: unknown): value is string =>
  typeof value === 'string' && (SAFE_ID.test(value) || SERVER_ID.test(value));
