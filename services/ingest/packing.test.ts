import { packsOf } from '#shared/reading-pack.ts';
import { describe, expect, it } from 'vitest';
import {
  MAX_MESSAGE_BYTES,
  type QueueMeasurement,
  type QueueMessage,
} from '#shared/measurement.ts';
import {
  groupForSend,
  packMessages,
  SEND_BATCH_LIMITS,
  toQueueMeasurements,
  type PackedMessage,
} from './packing.ts';

const envelope = {
  runId: '11111111-2222-4333-8444-555555555555',
  user: 'ana',
  acceptedAt: '2030-01-01T12:00:00.000Z',
};
const TAG = 'AbCdEfGhIjKlMnOpQrStUv';

const reading = (i: number, sensorId = `sensor-${i % 7}`): QueueMeasurement => ({
  sensorId,
  type: 'temperature',
  reading: 20 + i / 100,
  timestamp: new Date(Date.UTC(2030, 0, 1, 11) + i).toISOString(),
});

const decode = (m: PackedMessage): QueueMessage => JSON.parse(m.body) as QueueMessage;

describe('toQueueMeasurements', () => {
  it('writes canonical timestamps and gives server-stamped readings a per-position server id', () => {
    const now = Date.UTC(2030, 0, 1, 12);
    const out = toQueueMeasurements(
      [
        { sensorId: 'a', type: 't', reading: 1, timestamp: now, serverTimestamp: true },
        { sensorId: 'a', type: 't', reading: 2, timestamp: now, serverTimestamp: true },
        {
          sensorId: 'a',
          type: 't',
          reading: 3,
          timestamp: now - 5,
          serverTimestamp: false,
          id: 'c-1',
        },
        { sensorId: 'a', type: 't', reading: 4, timestamp: now - 9, serverTimestamp: false },
      ],
      TAG,
    );
    expect(out).toEqual([
      {
        sensorId: 'a',
        type: 't',
        reading: 1,
        timestamp: '2030-01-01T12:00:00.000Z',
        id: `@${TAG}.0`,
      },
      {
        sensorId: 'a',
        type: 't',
        reading: 2,
        timestamp: '2030-01-01T12:00:00.000Z',
        id: `@${TAG}.1`,
      },
      { sensorId: 'a', type: 't', reading: 3, timestamp: '2030-01-01T11:59:59.995Z', id: 'c-1' },
      { sensorId: 'a', type: 't', reading: 4, timestamp: '2030-01-01T11:59:59.991Z' },
    ]);
  });
});

describe('packMessages', () => {
  it('puts a small request into one message carrying the envelope and a batch id', () => {
    const measurements = Array.from({ length: 10 }, (_, i) => reading(i));
    const [message, ...rest] = packMessages(envelope, TAG, measurements);
    expect(rest).toEqual([]);
    expect(decode(message!)).toEqual({ v: 1, batchId: `${TAG}.0`, ...envelope, measurements });
    expect(message!.count).toBe(10);
  });

  it('counts the distinct readings of each message, as the consumer stores them', () => {
    const measurements = Array.from({ length: 1500 }, (_, i) => reading(i % 200));
    const messages = packMessages(envelope, TAG, measurements);
    for (const m of messages) {
      const decoded = decode(m).measurements;
      expect(m.distinct).toBe(
        packsOf({ ...decode(m) }, 30).reduce((n, p) => n + p.values.length, 0),
      );
      expect(m.distinct).toBeLessThanOrEqual(decoded.length);
    }
    expect(messages.some((m) => m.distinct < m.count)).toBe(true);
  });

  it('produces exactly JSON.stringify of the message and measures UTF-8 bytes', () => {
    const measurements = [reading(1), reading(2)];
    const [message] = packMessages({ ...envelope, user: 'Zoë Ångström' }, TAG, measurements);
    expect(message!.body).toBe(JSON.stringify(decode(message!)));
    expect(message!.bytes).toBe(Buffer.byteLength(message!.body, 'utf8'));
    expect(message!.bytes).toBeGreaterThan(message!.body.length);
  });

  it('fills messages up to 64 KiB, never over, keeping order and numbering batch ids', () => {
    const measurements = Array.from({ length: 1500 }, (_, i) => reading(i));
    const messages = packMessages(envelope, TAG, measurements);
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) {
      expect(m.bytes).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
      expect(Buffer.byteLength(m.body)).toBe(m.bytes);
    }
    // Greedy: every message but the last is too full to take the next reading.
    for (const [i, m] of messages.slice(0, -1).entries()) {
      const next = decode(messages[i + 1]!).measurements[0]!;
      expect(m.bytes + 1 + Buffer.byteLength(JSON.stringify(next))).toBeGreaterThan(
        MAX_MESSAGE_BYTES,
      );
    }
    expect(messages.map((m) => decode(m).batchId)).toEqual(messages.map((_, i) => `${TAG}.${i}`));
    expect(messages.flatMap((m) => decode(m).measurements)).toEqual(measurements);
  });

  it('splits a body that would be one byte over the limit, and not one that fits exactly', () => {
    const measurements = Array.from({ length: 20 }, (_, i) => reading(i));
    const [whole] = packMessages(envelope, TAG, measurements);
    expect(packMessages(envelope, TAG, measurements, whole!.bytes)).toHaveLength(1);
    const split = packMessages(envelope, TAG, measurements, whole!.bytes - 1);
    expect(split.map((m) => m.count)).toEqual([19, 1]);
    expect(split[0]!.bytes).toBeLessThanOrEqual(whole!.bytes - 1);
  });

  it('splits a request just over 64 KiB into two messages', () => {
    // Find how many readings fill one 64 KiB message, then add one more.
    const many = Array.from({ length: 2000 }, (_, i) => reading(i));
    const [first] = packMessages(envelope, TAG, many);
    const justOver = many.slice(0, first!.count + 1);
    const messages = packMessages(envelope, TAG, justOver);
    expect(messages.map((m) => m.count)).toEqual([first!.count, 1]);
    expect(messages[0]!.bytes).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(messages[0]!.bytes).toBeGreaterThan(MAX_MESSAGE_BYTES - 200);
  });

  it('is deterministic, so a re-sent request yields the same batch ids for the same readings', () => {
    const measurements = Array.from({ length: 1200 }, (_, i) => reading(i));
    expect(packMessages(envelope, TAG, measurements)).toEqual(
      packMessages(envelope, TAG, measurements),
    );
  });

  it('returns no message for no readings', () => {
    expect(packMessages(envelope, TAG, [])).toEqual([]);
  });
});

describe('groupForSend', () => {
  const message = (bytes: number, i: number): PackedMessage => ({
    batchId: `${TAG}.${i}`,
    body: 'x',
    distinct: 1,
    bytes,
    count: 1,
  });

  it('puts at most 10 entries in a call', () => {
    const groups = groupForSend(Array.from({ length: 23 }, (_, i) => message(100, i)));
    expect(groups.map((g) => g.length)).toEqual([10, 10, 3]);
  });

  it('keeps a call within 256 KiB in total', () => {
    const full = MAX_MESSAGE_BYTES;
    const groups = groupForSend([full, full, full, full, 1, full].map(message));
    expect(groups.map((g) => g.map((m) => m.bytes))).toEqual([
      [full, full, full, full],
      [1, full],
    ]);
    for (const g of groups) {
      expect(g.reduce((sum, m) => sum + m.bytes, 0)).toBeLessThanOrEqual(
        SEND_BATCH_LIMITS.maxBytes,
      );
    }
  });

  it('keeps the message order', () => {
    const messages = Array.from({ length: 15 }, (_, i) => message(30_000, i));
    expect(groupForSend(messages).flat()).toEqual(messages);
  });
});
