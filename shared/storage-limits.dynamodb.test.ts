/**
 * The edge's reading rules against the local DynamoDB: whatever validation accepts goes through
 * packing, the consumer's message check and its packing, and is stored and read back
 * unchanged. The values just past the bounds show the bounds are DynamoDB's, not guesses.
 */
import { BatchWriteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { parseIngestBody } from '#services/ingest/validation.ts';
import { packMessages, toQueueMeasurements } from '#services/ingest/packing.ts';
import { parseQueueMessage } from '#services/ingest-consumer/message.ts';
import { useTestTables } from '#test/support/dynamodb.ts';
import { MEASUREMENT_LIMITS } from './measurement.ts';
import { PACK_MAX_READINGS, packsOf, type ReadingPack } from './reading-pack.ts';
import { DYNAMODB_LIMITS } from './storage-limits.ts';

const RUN = '11111111-2222-4333-8444-555555555555';
const NOW = Date.now();

/** A small seeded generator, so a failure names values that can be replayed. */
const seeded = (seed: number) => () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};

const { minAbsReading, maxAbsReading } = MEASUREMENT_LIMITS;

/** Bounds, their neighbours inside, and doubles spread over every magnitude in between. */
const candidateReadings = (): number[] => {
  const random = seeded(20261126);
  const spread = Array.from({ length: 200 }, () => {
    const exponent =
      Math.log10(minAbsReading) + random() * Math.log10(maxAbsReading / minAbsReading);
    return (random() < 0.5 ? -1 : 1) * 10 ** exponent * (1 + random());
  });
  return [
    0,
    minAbsReading,
    -minAbsReading,
    maxAbsReading,
    -maxAbsReading,
    0.1 + 0.2, // 17 significant digits
    Number.EPSILON,
    123_456_789.123_456_78,
    ...spread,
  ];
};

describe('readings the edge accepts are storable', () => {
  const {
    db,
    tables: { sensorData: table },
  } = useTestTables('sensorData');

  const acceptedItems = (readings: number[]): ReadingPack[] => {
    const accepted = readings.filter((reading) => {
      try {
        parseIngestBody({ sensorId: 's', reading }, RUN, NOW);
        return true;
      } catch {
        return false;
      }
    });
    const measurements = accepted.map((reading, i) => ({
      sensorId: `s-${i}`,
      type: 'temperature',
      reading,
      timestamp: NOW,
      serverTimestamp: false,
    }));
    const envelope = { runId: RUN, user: 'u', acceptedAt: new Date(NOW).toISOString() };
    return packMessages(envelope, 'storability', toQueueMeasurements(measurements, 'tag')).flatMap(
      (packed) => packsOf(parseQueueMessage(packed.body), 30),
    );
  };

  it('stores every accepted reading and reads it back unchanged', async () => {
    const items = acceptedItems(candidateReadings());
    expect(items.length).toBeGreaterThan(200);

    const docs = db.documents();
    for (let i = 0; i < items.length; i += 25) {
      const out = await docs.send(
        new BatchWriteCommand({
          RequestItems: {
            [table]: items.slice(i, i + 25).map((item) => ({ PutRequest: { Item: item } })),
          },
        }),
      );
      expect(out.UnprocessedItems?.[table] ?? []).toEqual([]);
    }
    for (const item of items) {
      const stored = await docs.send(
        new GetCommand({
          TableName: table,
          Key: { runPartition: item.runPartition, packKey: item.packKey },
        }),
      );
      expect(stored.Item?.values).toEqual(item.values);
    }
  });

  it('refuses what DynamoDB refuses, at the edge', async () => {
    const docs = db.documents();
    const underflow = DYNAMODB_LIMITS.minNumberMagnitude / 10;
    await expect(
      docs.send(
        new PutCommand({
          TableName: table,
          Item: { runPartition: `${RUN}#0`, packKey: 'u', values: [underflow] },
        }),
      ),
    ).rejects.toThrow(/underflow/i);
    expect(acceptedItems([underflow, 1e-320, -5e-324, maxAbsReading * 10])).toEqual([]);
  });

  it('keeps the longest keys and the largest pack the edge allows within DynamoDB sizes', async () => {
    // One sensor and type with the longest ids: readings up to a full pack, plus one more
    const longest = Array.from({ length: PACK_MAX_READINGS + 1 }, (_, i) => ({
      sensorId: 'x'.repeat(64),
      type: 'a'.repeat(MEASUREMENT_LIMITS.maxTypeLength),
      reading: -maxAbsReading * (1 - i / 1e6),
      timestamp: NOW - i,
      id: `${i}`.padStart(64, 'i'),
    }));
    const parsed = parseIngestBody({ measurements: longest }, RUN, NOW);
    const envelope = { runId: RUN, user: 'ü'.repeat(64), acceptedAt: new Date(NOW).toISOString() };
    const [packed] = packMessages(
      envelope,
      'longest-keys',
      toQueueMeasurements(parsed.measurements, 't'),
    );
    const [item] = packsOf(parseQueueMessage(packed!.body), 30);
    expect(item!.values).toHaveLength(PACK_MAX_READINGS);
    expect(Buffer.byteLength(item!.packKey)).toBeLessThanOrEqual(DYNAMODB_LIMITS.sortKeyMaxBytes);
    expect(Buffer.byteLength(item!.runPartition)).toBeLessThanOrEqual(
      DYNAMODB_LIMITS.partitionKeyMaxBytes,
    );
    expect(Buffer.byteLength(JSON.stringify(item))).toBeLessThan(DYNAMODB_LIMITS.itemMaxBytes);
    await db.documents().send(new PutCommand({ TableName: table, Item: item }));
  });
});
