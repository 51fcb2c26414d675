/**
 * Packing of accepted readings into as few SQS messages as possible. SQS bills each 64 KiB chunk
 * of a message as one request, so a body stays within 64 KiB (measured in UTF-8 bytes), and a
 * SendMessageBatch call takes at most 10 entries and 256 KiB in total. Pure functions.
 */
import {
  MAX_MESSAGE_BYTES,
  QUEUE_MESSAGE_VERSION,
  readingKey,
  type QueueMeasurement,
  type QueueMessage,
  toCanonicalTimestamp,
} from '#shared/measurement.ts';
import type { ValidMeasurement } from './validation.ts';

export const SEND_BATCH_LIMITS = {
  /** Entries per SendMessageBatch call. */
  maxEntries: 10,
  /** Sum of the message bodies of one SendMessageBatch call. */
  maxBytes: 256 * 1024,
} as const;

export interface MessageEnvelope {
  runId: string;
  user: string;
  /** ISO instant of acceptance. */
  acceptedAt: string;
}

export interface PackedMessage {
  batchId: string;
  /** The JSON body, exactly `JSON.stringify` of a QueueMessage. */
  body: string;
  /** UTF-8 length of `body`. */
  bytes: number;
  /** Readings in the message. */
  count: number;
  /**
   * Distinct readings in the message (by readingKey): what the consumer stores of it, the last of
   * two equal ones winning (shared/reading-pack.ts), and what the run's accepted tally counts.
   */
  distinct: number;
}

/** `<request tag>.<n>`: the n-th message of a request; the consumer's idempotency key. */
export const batchIdOf = (requestTag: string, index: number): string => `${requestTag}.${index}`;

/**
 * Queue form of validated readings. A reading whose timestamp the server assigned gets the server
 * id `@<request tag>.<position>` so readings of one request sharing that time stay distinct rows
 * (see readingKey in #shared/measurement.ts).
 */
export const toQueueMeasurements = (
  measurements: readonly ValidMeasurement[],
  requestTag: string,
): QueueMeasurement[] =>
  measurements.map((m, position) => {
    const id = m.serverTimestamp ? `@${requestTag}.${position}` : m.id;
    return {
      sensorId: m.sensorId,
      type: m.type,
      reading: m.reading,
      timestamp: toCanonicalTimestamp(m.timestamp),
      ...(id === undefined ? {} : { id }),
    };
  });

/** The serialized message with an empty list, split where the readings go. */
const messageFrame = (envelope: MessageEnvelope, batchId: string) => {
  const empty: QueueMessage = {
    v: QUEUE_MESSAGE_VERSION,
    batchId,
    runId: envelope.runId,
    user: envelope.user,
    acceptedAt: envelope.acceptedAt,
    measurements: [],
  };
  const text = JSON.stringify(empty);
  // `…"measurements":[]}` → head `…"measurements":[` and tail `]}`; measurements is the last key.
  const head = text.slice(0, -2);
  return { head, tail: ']}', bytes: Buffer.byteLength(text, 'utf8') };
};

/**
 * Greedy, order-preserving packing: each message takes readings until the next one would push
 * its body over `maxBytes`. Deterministic for the same input, so a request re-sent with the same
 * Idempotency-Key yields the same batch ids for the same readings.
 */
export const packMessages = (
  envelope: MessageEnvelope,
  requestTag: string,
  measurements: readonly QueueMeasurement[],
  maxBytes: number = MAX_MESSAGE_BYTES,
): PackedMessage[] => {
  const messages: PackedMessage[] = [];
  let parts: string[] = [];
  let keys = new Set<string>();
  let frame = messageFrame(envelope, batchIdOf(requestTag, 0));
  let bytes = frame.bytes;

  const close = () => {
    const batchId = batchIdOf(requestTag, messages.length);
    messages.push({
      batchId,
      body: `${frame.head}${parts.join(',')}${frame.tail}`,
      bytes,
      count: parts.length,
      distinct: keys.size,
    });
    parts = [];
    keys = new Set();
    frame = messageFrame(envelope, batchIdOf(requestTag, messages.length));
    bytes = frame.bytes;
  };

  for (const measurement of measurements) {
    const json = JSON.stringify(measurement);
    const size = Buffer.byteLength(json, 'utf8');
    if (parts.length > 0 && bytes + 1 + size > maxBytes) close();
    const added = size + (parts.length > 0 ? 1 : 0);
    if (bytes + added > maxBytes) {
      // Unreachable within MEASUREMENT_LIMITS (a reading is ~150 bytes); a guard, not a path.
      throw new Error(`A reading of ${size} bytes does not fit a ${maxBytes}-byte message`);
    }
    parts.push(json);
    keys.add(readingKey(measurement));
    bytes += added;
  }
  if (parts.length > 0) close();
  return messages;
};

/** Groups messages, in order, into SendMessageBatch calls within the entry and byte limits. */
export const groupForSend = (
  messages: readonly PackedMessage[],
  limits: { maxEntries: number; maxBytes: number } = SEND_BATCH_LIMITS,
): PackedMessage[][] => {
  const groups: PackedMessage[][] = [];
  let current: PackedMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    if (
      current.length > 0 &&
      (current.length >= limits.maxEntries || bytes + message.bytes > limits.maxBytes)
    ) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += message.bytes;
  }
  if (current.length > 0) groups.push(current);
  return groups;
};
