import { randomUUID } from 'node:crypto';
import { BatchWriteCommand, type BatchWriteCommandOutput } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { packsOf, type ReadingPack } from '#shared/reading-pack.ts';
import { itemsOf, useTestTables } from '#test/support/dynamodb.ts';
import {
  DynamoMeasurementStore,
  UnprocessedItemsError,
  type SendBatchWrite,
  type WriteContext,
} from './store.ts';

const {
  db,
  tables: { sensorData: table },
} = useTestTables('sensorData');

/** `count` packs of one reading each (one per sensor). */
const items = (count: number, runId = randomUUID()): ReadingPack[] =>
  packsOf(
    {
      runId,
      user: 'ana',
      batchId: 'AbCdEfGhIjKlMnOpQrStUv.0',
      acceptedAt: '2030-01-01T12:00:01.000Z',
      measurements: Array.from({ length: count }, (_, i) => ({
        sensorId: `s-${i}`,
        type: 'temperature',
        reading: i,
        timestamp: '2030-01-01T12:00:00.000Z',
      })),
    },
    30,
  );

/** Rows stored in the partitions of `rows` (a partition per run and sensor). */
const rowsOf = async (rows: readonly ReadingPack[]): Promise<number> => {
  let count = 0;
  for (const partition of new Set(rows.map((row) => row.runPartition))) {
    count += (await itemsOf(db.documents(), table, partition)).length;
  }
  return count;
};

const context = (remainingMs = 10_000): WriteContext & { retries: number[] } => {
  const retries: number[] = [];
  return { retries, remainingMs: () => remainingMs, onRetry: (n) => void retries.push(n) };
};

/** A real client whose first `unprocessedCalls` calls write only half and hand back the rest. */
const flaky = (unprocessedCalls: number) => {
  const documents = db.documents();
  const calls: number[] = [];
  const send: SendBatchWrite = async (command) => {
    const requests = command.input.RequestItems?.[table] ?? [];
    calls.push(requests.length);
    if (calls.length > unprocessedCalls) return documents.send(command);
    const keep = requests.slice(0, Math.floor(requests.length / 2));
    const rest = requests.slice(keep.length);
    if (keep.length > 0)
      await documents.send(new BatchWriteCommand({ RequestItems: { [table]: keep } }));
    return { UnprocessedItems: { [table]: rest }, $metadata: {} } as BatchWriteCommandOutput;
  };
  return { send, calls };
};

const tools = () => {
  const sleeps: number[] = [];
  return { sleeps, sleep: async (ms: number) => void sleeps.push(ms), random: () => 1 };
};

const policy = {
  maxAttempts: 4,
  baseDelayMs: 10,
  maxDelayMs: 25,
  reserveMs: 1_000,
  concurrency: 2,
};

/** A store on the table whose every BatchWriteItem call notes its row count in `calls`. */
const countingStore = (calls: number[]) => {
  const documents = db.documents();
  return new DynamoMeasurementStore(
    (command) => {
      calls.push(command.input.RequestItems?.[table]?.length ?? 0);
      return documents.send(command);
    },
    table,
    policy,
    tools(),
  );
};

describe('DynamoMeasurementStore', () => {
  it('writes in BatchWriteItem chunks of 25', async () => {
    const rows = items(60);
    const calls: number[] = [];
    const store = countingStore(calls);
    await store.putAll(rows, context());
    expect(calls.sort()).toEqual([10, 25, 25]);
    expect(await rowsOf(rows)).toBe(60);
  });

  it('retries UnprocessedItems with backoff until all are written', async () => {
    const rows = items(20);
    const { send, calls } = flaky(2);
    const t = tools();
    const ctx = context();
    await new DynamoMeasurementStore(send, table, policy, t).putAll(rows, ctx);
    expect(calls).toEqual([20, 10, 5]);
    expect(ctx.retries).toEqual([10, 5]);
    expect(t.sleeps).toEqual([10, 20]);
    expect(await rowsOf(rows)).toBe(20);
  });

  it('gives up after the last attempt', async () => {
    const { send, calls } = flaky(10);
    await expect(
      new DynamoMeasurementStore(send, table, policy, tools()).putAll(items(8), context()),
    ).rejects.toBeInstanceOf(UnprocessedItemsError);
    expect(calls).toHaveLength(policy.maxAttempts);
  });

  it('gives up rather than retry into the time the invocation keeps back', async () => {
    const { send, calls } = flaky(10);
    const t = tools();
    await expect(
      new DynamoMeasurementStore(send, table, policy, t).putAll(
        items(8),
        context(policy.reserveMs + 5),
      ),
    ).rejects.toThrow(/running out of time/);
    expect(calls).toHaveLength(1);
    expect(t.sleeps).toEqual([]);
  });

  it('leaves one row when the same rows are written twice', async () => {
    const rows = items(5);
    const store = new DynamoMeasurementStore((c) => db.documents().send(c), table, policy, tools());
    await store.putAll(rows, context());
    await store.putAll(rows, context());
    expect(await rowsOf(rows)).toBe(5);
  });

  it('isolates the rows DynamoDB refuses and writes every other row of their chunk', async () => {
    // Built past the edge's checks: the table itself refuses these numbers ("Number underflow").
    const rows = items(25).map((row, i) =>
      i === 3 || i === 17 ? { ...row, values: [1e-320] } : row,
    );
    const calls: number[] = [];
    const store = countingStore(calls);
    const refused = await store.putAll(rows, context());
    expect(refused.map(({ item }) => item.sensorId)).toEqual(['s-3', 's-17']);
    expect(refused[0]?.reason).toMatch(/underflow/i);
    expect(await rowsOf(rows)).toBe(23);
    // Halving: log2(25) levels at most, far fewer calls than one per row.
    expect(calls.length).toBeLessThan(25);
  });

  it('still fails the write when the error is one a retry may fix', async () => {
    const throttled = Object.assign(new Error('Throughput exceeds the current capacity'), {
      name: 'ProvisionedThroughputExceededException',
    });
    const store = new DynamoMeasurementStore(
      async () => {
        throw throttled;
      },
      table,
      policy,
      tools(),
    );
    await expect(store.putAll(items(3), context())).rejects.toBe(throttled);
  });
});
