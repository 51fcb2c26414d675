/**
 * DynamoDB for the local stack: dynalite, in memory unless a data folder is given, with the
 * topology's tables created on start. dynalite does not expire items, so TTL is not applied
 * locally.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { listen } from './listen.ts';
import {
  CreateTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  type AttributeDefinition,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { tableNames, topology, type TableName, type TableSpec } from '../topology.ts';

export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
export const LOCAL_REGION = 'us-east-1';
/** How long a closing dynalite lets requests in flight finish before cutting them off. */
const CLOSE_GRACE_MS = 5_000;

/** Physical table name of a topology table in the local stack. */
export const localTableName = (name: TableName): string => `iot-playground-${name}`;

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

/**
 * Resolves, once asked, when every request dynalite is serving has been answered (or after
 * `graceMs`). dynalite throws an uncaught exception, ending the process, when an operation of
 * a request it is still serving meets a closed database — even when the caller hung up, so
 * waiting for connections to end is not enough: the stack waits for the answers before closing
 * (a restart of the stack with requests in flight did this).
 */
const trackAnswers = (server: Server) => {
  let serving = 0;
  let idle: (() => void) | undefined;
  server.on('request', (_request: IncomingMessage, response: ServerResponse) => {
    serving += 1;
    const end = response.end.bind(response);
    response.end = ((...args: Parameters<typeof end>) => {
      serving -= 1;
      if (serving === 0) idle?.();
      return end(...args);
    }) as typeof response.end;
  });
  return (graceMs: number): Promise<void> =>
    serving === 0
      ? Promise.resolve()
      : new Promise((resolve) => {
          const timer = setTimeout(resolve, graceMs);
          idle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
};

export interface LocalDynamoDb {
  endpoint: string;
  client: DynamoDBClient;
  close(): Promise<void>;
}

export const startDynamoDb = async (options: { dataDir?: string } = {}): Promise<LocalDynamoDb> => {
  const server = dynalite({
    ...(options.dataDir ? { path: options.dataDir } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  const answered = trackAnswers(server);
  const port = await listen(server);
  const endpoint = `http://127.0.0.1:${port}`;
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
    client,
    close: async () => {
      client.destroy();
      // The stack's functions are stopped by now; what dynalite still serves is answered first.
      await answered(CLOSE_GRACE_MS);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
      await closed;
    },
  };
};
