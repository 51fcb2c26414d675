/**
 * From a queue message to table rows: one row per reading, keyed by its identity, with duplicate
 * keys removed (DynamoDB refuses a BatchWriteItem naming one key twice) and split into the chunks
 * of 25 that BatchWriteItem takes. Pure.
 */
import { toSensorDataItem, type QueueMessage, type SensorDataItem } from '#shared/measurement.ts';

export const BATCH_WRITE_LIMIT = 25;

/**
 * Rows of a message, one per distinct key. Readings with the same identity are the same reading
 * sent twice; the last one wins, as it would with two successive writes.
 */
export const itemsOf = (message: QueueMessage, retentionDays: number): SensorDataItem[] => {
  const byKey = new Map<string, SensorDataItem>();
  for (const measurement of message.measurements) {
    const item = toSensorDataItem(message, measurement, retentionDays);
    byKey.delete(item.readingKey); // re-insert so the order follows the last occurrence
    byKey.set(item.readingKey, item);
  }
  return [...byKey.values()];
};

/**
 * A reading the table refused for good (e.g. a number DynamoDB cannot hold), kept in the same
 * table under the partition `parked#<runId>` — beside its run, out of every query path (no run
 * partition starts with `parked#`, and without `sensorId` it stays out of the `bySensor` index). The refused
 * row is kept whole as text, so an operator can read, fix and re-send it.
 */
export interface ParkedRow {
  runPartition: string;
  runId: string;
  readingKey: string;
  row: string;
  reason: string;
  parkedAt: string;
  batchId: string;
  expiresAt: number;
}

export const parkedPartition = (runId: string): string => `parked#${runId}`;

export const toParkedRow = (
  refused: { item: SensorDataItem; reason: string },
  parkedAtMs: number,
): ParkedRow => ({
  runPartition: parkedPartition(refused.item.runId),
  runId: refused.item.runId,
  readingKey: refused.item.readingKey,
  row: JSON.stringify(refused.item),
  reason: refused.reason.slice(0, 1000),
  parkedAt: new Date(parkedAtMs).toISOString(),
  batchId: refused.item.batchId,
  expiresAt: refused.item.expiresAt,
});

export const chunk = <T>(values: readonly T[], size: number): T[][] => {
  const chunks: T[][] = [];
  for (let i = 0; i < values.length; i += size) chunks.push(values.slice(i, i + size));
  return chunks;
};
