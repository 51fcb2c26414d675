/**
 * Test support: an in-process dynalite (infra/local's) with tables made from the topology specs
 * under unique names, SDK clients pointed at it, and a counter of the DynamoDB calls a client
 * makes. Never bundled into a function.
 */
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import {
  createTableInput,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  startDynamoDb,
  type LocalDynamoDb,
} from '#infra/local/index.ts';
import { topology, type TableName } from '#infra/topology.ts';
import { sensorPartition } from '#shared/measurement.ts';
import { unpack, type PackedReading, type ReadingPack } from '#shared/reading-pack.ts';
import { directoryEntriesOf, listedOf, runSensorsPartition } from '#shared/sensor-directory.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export interface TestDynamoDb {
  endpoint: string;
  /** A new low-level client for this endpoint (one SDK attempt, so faults surface). */
  client(): DynamoDBClient;
  documents(client?: DynamoDBClient): DynamoDBDocumentClient;
  /** Creates the topology table `name` under a unique physical name (or `tableName`); returns it. */
  createTable(name: TableName, tableName?: string): Promise<string>;
  close(): Promise<void>;
}

const uniqueTableName = (name: TableName) => `${name}-${randomUUID()}`;

export const startTestDynamoDb = async (): Promise<TestDynamoDb> => {
  const local: LocalDynamoDb = await startDynamoDb();
  const clients: DynamoDBClient[] = [];
  const client = () => {
    const c = new DynamoDBClient({
      endpoint: local.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 1,
    });
    clients.push(c);
    return c;
  };
  return {
    endpoint: local.endpoint,
    client,
    documents: (c = client()) =>
      DynamoDBDocumentClient.from(c, { marshallOptions: { removeUndefinedValues: true } }),
    createTable: async (name, tableName = uniqueTableName(name)) => {
      await local.client.send(
        new CreateTableCommand(createTableInput(tableName, topology.tables[name])),
      );
      return tableName;
    },
    close: async () => {
      for (const c of clients) c.destroy();
      await local.close();
    },
  };
};

/**
 * A dynalite for the enclosing test file (or describe block): started with the topology tables
 * `names` before its tests, closed after. The tables' physical names are known at once; the
 * database's methods work from the first test on.
 */
export const useTestTables = <Name extends TableName>(
  ...names: Name[]
): { db: TestDynamoDb; tables: Record<Name, string> } => {
  const tables = Object.fromEntries(names.map((name) => [name, uniqueTableName(name)]));
  let started: TestDynamoDb | undefined;
  const running = (): TestDynamoDb => {
    if (started === undefined) throw new Error('useTestTables: used before its beforeAll ran');
    return started;
  };
  beforeAll(async () => {
    started = await startTestDynamoDb();
    await Promise.all(names.map((name) => running().createTable(name, tables[name])));
  });
  afterAll(() => started?.close());
  return {
    db: {
      get endpoint() {
        return running().endpoint;
      },
      client: () => running().client(),
      documents: (client) => running().documents(client),
      createTable: (name, tableName) => running().createTable(name, tableName),
      close: () => running().close(),
    },
    tables: tables as Record<Name, string>,
  };
};

/** Counts the commands a client sends, by name (`PutItemCommand`, …). */
export const countCommands = (client: DynamoDBClient): Map<string, number> => {
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => (args) => {
      const name = context.commandName ?? 'unknown';
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: `countCommands-${randomUUID()}` },
  );
  return counts;
};

/** Every item of one partition of a table, in key order. */
export const itemsOf = async (
  documents: DynamoDBDocumentClient,
  table: string,
  partition: string,
): Promise<Record<string, unknown>[]> => {
  const rows: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await documents.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'runPartition = :p',
        ExpressionAttributeValues: { ':p': partition },
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    rows.push(...(out.Items ?? []));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return rows;
};

/**
 * Every item of a run in a sensorData table (its packs), over the partitions of the sensors the
 * directory lists for it; `parked#<runId>` reads the run's parked rows.
 */
export const rowsOfRun = async (
  documents: DynamoDBDocumentClient,
  table: string,
  runId: string,
): Promise<Record<string, unknown>[]> => {
  if (runId.startsWith('parked#')) return itemsOf(documents, table, runId);
  const listed = await itemsOf(documents, table, runSensorsPartition(runId));
  const sensors = new Set(listed.map((entry) => listedOf(String(entry.packKey)).member));
  const rows: Record<string, unknown>[] = [];
  for (const sensorId of sensors) {
    rows.push(...(await itemsOf(documents, table, sensorPartition(runId, sensorId))));
  }
  return rows;
};

/**
 * Every reading stored for a run, unpacked from its packs: a reading stored in two packs comes
 * twice (readers keep one; a test of storage sees both).
 */
export const readingsOfRun = async (
  documents: DynamoDBDocumentClient,
  table: string,
  runId: string,
): Promise<PackedReading[]> => (await rowsOfRun(documents, table, runId)).flatMap(unpack);

/**
 * Stores packs as the consumer does (services/ingest-consumer): their directory entries first,
 * then the packs, in BatchWriteItem calls of 25.
 */
export const storePacks = async (
  documents: DynamoDBDocumentClient,
  table: string,
  packs: readonly ReadingPack[],
): Promise<void> => {
  for (const items of [directoryEntriesOf(packs, 30), packs]) {
    for (let i = 0; i < items.length; i += 25) {
      await documents.send(
        new BatchWriteCommand({
          RequestItems: {
            [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })),
          },
        }),
      );
    }
  }
};
