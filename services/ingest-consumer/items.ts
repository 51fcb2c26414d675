/**
 * From a queue message to what the table takes: its packs (shared/reading-pack.ts), split into
 * the chunks of 25 that BatchWriteItem takes, and parked rows for packs refused for good. Pure.
 */
import { parkedPartition, type ReadingPack } from '#shared/reading-pack.ts';

export const BATCH_WRITE_LIMIT = 25;

/**
 * A pack the table refused for good (e.g. a number DynamoDB cannot hold), kept in the same table
 * under the partition `parked#<runId>`: beside its run, out of every query path (queries read
 * the partitions of a run's sensors, `<runId>#<sensorId>`, and the directory names no parked
 * partition). The refused pack is kept whole as text, so an operator can read, fix and re-send
 * its readings.
 */
export interface ParkedRow {
  runPartition: string;
  runId: string;
  packKey: string;
  row: string;
  reason: string;
  parkedAt: string;
  batchId: string;
  expiresAt: number;
}

export { parkedPartition };

export const toParkedRow = (
  refused: { item: ReadingPack; reason: string },
  parkedAtMs: number,
): ParkedRow => ({
  runPartition: parkedPartition(refused.item.runId),
  runId: refused.item.runId,
  packKey: refused.item.packKey,
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
