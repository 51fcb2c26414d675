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

export const chunk = <T>(values: readonly T[], size: number): T[][] => {
  const chunks: T[][] = [];
  for (let i = 0; i < values.length; i += size) chunks.push(values.slice(i, i + size));
  return chunks;
};
