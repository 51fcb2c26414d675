/**
 * Queue messages for the property tests of the read side (shared/pack-merge.test.ts,
 * shared/directory-merge.test.ts): arbitrary messages re-sending arbitrary readings, and what a
 * query should hand out of them — each reading once, the copy of the message accepted last, in
 * the query's key order.
 */
import fc from 'fast-check';
import { readingKey, sensorKey, type QueueMeasurement } from '#shared/measurement.ts';

export interface Message {
  runId: string;
  batchId: string;
  acceptedAt: string;
  measurements: QueueMeasurement[];
}

/** Which readings a query reads, and by which key it orders them. */
export interface QueryScope {
  runId?: string;
  sensorId?: string;
  /** readingKey (a run's readings) or sensorKey (a sensor's across runs). */
  orderBy: 'readingKey' | 'sensorKey';
}

/** Every reading the query should hand out once, in order: the copy of the message accepted last. */
export const expectedReadings = (
  messages: Message[],
  scope: QueryScope,
  range: { from?: number; to?: number },
): [string, number][] => {
  const best = new Map<string, { reading: number; message: Message }>();
  for (const message of messages) {
    if (scope.runId !== undefined && message.runId !== scope.runId) continue;
    // Within a message the last of two equal readings is the one sent.
    const distinct = new Map(message.measurements.map((m) => [readingKey(m), m]));
    for (const m of distinct.values()) {
      if (scope.sensorId !== undefined && m.sensorId !== scope.sensorId) continue;
      const ms = Date.parse(m.timestamp);
      if (
        (range.from !== undefined && ms < range.from) ||
        (range.to !== undefined && ms > range.to)
      )
        continue;
      const key = scope.orderBy === 'readingKey' ? readingKey(m) : sensorKey(message.runId, m);
      const held = best.get(key)?.message;
      const later =
        held === undefined ||
        message.acceptedAt > held.acceptedAt ||
        (message.acceptedAt === held.acceptedAt && message.batchId > held.batchId);
      if (later) best.set(key, { reading: m.reading, message });
    }
  }
  return [...best.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, { reading }]) => [key, reading]);
};

/**
 * What paging hands out when `late` messages are stored once a page handed out `lateAfter`: the
 * early readings up to it, then every reading after it, late ones included.
 */
export const expectedAcrossLateStores = (
  early: Message[],
  late: Message[],
  lateAfter: string | undefined,
  expected: (messages: Message[]) => [string, number][],
): [string, number][] =>
  lateAfter === undefined
    ? expected(early)
    : [
        ...expected(early).filter(([key]) => key <= lateAfter),
        ...expected([...early, ...late]).filter(([key]) => key > lateAfter),
      ];

/**
 * Messages of the runs `runIds` (repeat one to weigh it), each re-sending some of the readings
 * `taken`, with other values; batch ids `<prefix>-<n>.0`, accepted at `acceptedAt(0…3)`, so ties
 * in acceptance are broken by batch id.
 */
export const messagesOf = (
  taken: fc.Arbitrary<Omit<QueueMeasurement, 'reading'>[]>,
  runIds: readonly string[],
  acceptedAt: (step: number) => string,
  options: { prefix?: string; maxMessages: number; maxReadings: number },
): fc.Arbitrary<Message[]> =>
  fc
    .tuple(
      taken,
      fc.array(
        fc.record({
          runId: fc.constantFrom(...runIds),
          accepted: fc.integer({ min: 0, max: 3 }),
          sent: fc.array(fc.tuple(fc.nat(), fc.integer({ min: -1000, max: 1000 })), {
            minLength: 1,
            maxLength: options.maxReadings,
            size: 'max',
          }),
        }),
        { minLength: 1, maxLength: options.maxMessages },
      ),
    )
    .map(([readings, drafts]) =>
      drafts.map(({ runId, accepted, sent }, i): Message => ({
        runId,
        batchId: `${options.prefix ?? 'batch'}-${String(i).padStart(3, '0')}.0`,
        acceptedAt: acceptedAt(accepted),
        measurements: sent.map(([pick, reading]) => ({
          ...readings[pick % readings.length]!,
          reading,
        })),
      })),
    );
