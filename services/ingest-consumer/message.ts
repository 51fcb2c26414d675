/**
 * Reading a queue message body back into a QueueMessage. The edge already validated everything;
 * this guards the table against a message that did not come from it (or a format change): a body
 * that fails here fails its record, is redelivered and ends in the DLQ rather than being stored.
 * Pure.
 */
import { isSafeId, MAX_USER_LENGTH, RUN_ID } from '#shared/identity.ts';
import {
  BATCH_ID,
  CANONICAL_TIMESTAMP,
  MEASUREMENT_LIMITS,
  MULTI_READING_TYPES,
  QUEUE_MESSAGE_VERSION,
  isAcceptableReading,
  isMeasurementType,
  isSafeIdOrServerId,
  type QueueMeasurement,
  type QueueMessage,
} from '#shared/measurement.ts';

export class InvalidMessageError extends Error {
  constructor(reason: string) {
    super(`Invalid queue message: ${reason}`);
    this.name = 'InvalidMessageError';
  }
}

/** Readings one message may hold: every item of a request expanded as a multi-reading. */
const MAX_READINGS = MEASUREMENT_LIMITS.maxItems * MULTI_READING_TYPES.length;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isTimestamp = (value: unknown): value is string =>
  typeof value === 'string' &&
  CANONICAL_TIMESTAMP.test(value) &&
  Number.isFinite(Date.parse(value));

const parseMeasurement = (value: unknown, index: number): QueueMeasurement => {
  const fail = (field: string) => new InvalidMessageError(`measurements[${index}].${field}`);
  if (!isObject(value)) throw new InvalidMessageError(`measurements[${index}] is not an object`);
  const { sensorId, type, reading, timestamp, id } = value;
  if (!isSafeId(sensorId)) throw fail('sensorId');
  if (!isMeasurementType(type)) throw fail('type');
  if (!isAcceptableReading(reading)) throw fail('reading');
  if (!isTimestamp(timestamp)) throw fail('timestamp');
  if (id !== undefined && !isSafeIdOrServerId(id)) throw fail('id');
  return { sensorId, type, reading, timestamp, ...(id === undefined ? {} : { id }) };
};

export const parseQueueMessage = (body: string): QueueMessage => {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new InvalidMessageError('body is not JSON');
  }
  if (!isObject(value)) throw new InvalidMessageError('body is not an object');
  const { v, batchId, runId, user, acceptedAt, measurements } = value;
  if (v !== QUEUE_MESSAGE_VERSION)
    throw new InvalidMessageError(`unsupported version ${String(v)}`);
  if (typeof batchId !== 'string' || !BATCH_ID.test(batchId))
    throw new InvalidMessageError('batchId');
  if (typeof runId !== 'string' || !RUN_ID.test(runId)) throw new InvalidMessageError('runId');
  if (typeof user !== 'string' || user === '' || user.length > MAX_USER_LENGTH) {
    throw new InvalidMessageError('user');
  }
  if (!isTimestamp(acceptedAt)) throw new InvalidMessageError('acceptedAt');
  if (
    !Array.isArray(measurements) ||
    measurements.length === 0 ||
    measurements.length > MAX_READINGS
  ) {
    throw new InvalidMessageError('measurements');
  }
  return {
    v: QUEUE_MESSAGE_VERSION,
    batchId,
    runId,
    user,
    acceptedAt,
    measurements: measurements.map(parseMeasurement),
  };
};
