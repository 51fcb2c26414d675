/**
 * DynamoDB for the local stack: dynalite and the fault proxy in their own thread
 * (dynamodb-worker.ts), in memory unless a data folder is given, with the topology's tables
 * created on start. dynalite does not expire items, so TTL is not applied locally.
 */
import { Worker } from 'node:worker_threads';
import {
  CreateTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  type AttributeDefinition,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { repoRoot } from '../bundling.ts';
import { bundleModule, bundleWorkerExecArgv } from './bundle.ts';
import { DynamoFaults } from './dynamo-faults/index.ts';
import type {
  DynamoDbWorkerSetup,
  FromDynamoDbWorker,
  ToDynamoDbWorker,
} from './dynamodb-worker.ts';
import type { DynamoDbExchange, TableIndexes } from './meter/index.ts';
import { tableNames, topology, type TableName, type TableSpec } from '../topology.ts';

export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
export const LOCAL_REGION = 'us-east-1';
/** How long a closing dynalite lets requests in flight finish before cutting them off. */
const CLOSE_GRACE_MS = 5_000;

/**
 * Physical table name of a topology table in the local stack; a new generation is a new table, as
 * in AWS, so a data folder's old table stays as it was, unread.
 */
export const localTableName = (name: TableName): string => {
  const { generation } = topology.tables[name];
  return `iot-playground-${name}${generation === undefined ? '' : `-v${generation}`}`;
};

export const createTableInput = (tableName: string, spec: TableSpec): CreateTableCommandInput => {
  const attributes = new Map<string, AttributeDefinition['AttributeType']>();
  const keys = [
    spec.partitionKey,
    spec.sortKey,
    ...spec.indexes.flatMap((i) => [i.partitionKey, i.sortKey]),
  ];
  for (const key of keys) if (key) attributes.set(key.name, key.type);
  const keySchema = (pk: { name: string }, sk?: { name: string }) => [
    { AttributeName: pk.name, KeyType: 'HASH' as const },
    ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
  ];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({
      AttributeName,
      AttributeType,
    })),
    KeySchema: keySchema(spec.partitionKey, spec.sortKey),
    ...(spec.indexes.length > 0
      ? {
          GlobalSecondaryIndexes: spec.indexes.map((index) => ({
            IndexName: index.name,
            KeySchema: keySchema(index.partitionKey, index.sortKey),
            Projection: { ProjectionType: 'ALL' },
          })),
        }
      : {}),
  };
};

export interface LocalDynamoDb {
  /** dynalite itself, without faults or metering (for tests and tools that read tables). */
  endpoint: string;
  /** The fault proxy in front of dynalite: the endpoint the functions use. */
  proxyEndpoint: string;
  /** The proxy's planned faults and request counters, shared with its thread. */
  faults: DynamoFaults;
  client: DynamoDBClient;
  close(): Promise<void>;
}

export interface DynamoDbOptions {
  dataDir?: string;
  /** Told the billed units of every request that passed the proxy. */
  onRequest?: (operation: string, exchange: DynamoDbExchange) => void;
}

/** Index names and partition keys of the local tables, for metering writes. */
const localIndexes = (): TableIndexes =>
  Object.fromEntries(
    tableNames.map((name) => [
      localTableName(name),
      topology.tables[name].indexes.map((index) => ({
        name: index.name,
        partitionKey: index.partitionKey.name,
      })),
    ]),
  );

export const startDynamoDb = async (options: DynamoDbOptions = {}): Promise<LocalDynamoDb> => {
  const faults = new DynamoFaults();
  const setup: DynamoDbWorkerSetup = {
    resolveFrom: `${repoRoot}/package.json`,
    closeGraceMs: CLOSE_GRACE_MS,
    faults: faults.shared,
    ...(options.onRequest && { indexes: localIndexes() }),
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
  };
  const worker = new Worker(await bundleModule('infra/local/dynamodb-worker.ts', 'dynamodb'), {
    workerData: setup,
    execArgv: bundleWorkerExecArgv(),
  });
  let listening: (ports: { port: number; proxyPort: number }) => void = () => undefined;
  let closed: () => void = () => undefined;
  worker.on('message', (message: FromDynamoDbWorker) => {
    if (message.type === 'request') options.onRequest?.(message.operation, message.exchange);
    else if (message.type === 'listening') listening(message);
    else closed();
  });
  const ports = await new Promise<{ port: number; proxyPort: number }>((resolve, reject) => {
    listening = resolve;
    worker.once('error', reject);
  });
  const endpoint = `http://127.0.0.1:${ports.port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });

  // A persistent data folder already holds the tables from an earlier start.
  const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames ?? []);
  for (const name of tableNames) {
    const tableName = localTableName(name);
    if (!existing.has(tableName)) {
      await client.send(new CreateTableCommand(createTableInput(tableName, topology.tables[name])));
    }
  }

  return {
    endpoint,
    proxyEndpoint: `http://127.0.0.1:${ports.proxyPort}`,
    faults,
    client,
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve) => {
        closed = resolve;
        worker.postMessage({ type: 'close' } satisfies ToDynamoDbWorker);
      });
      await worker.terminate();
    },
  };
};
