/**
 * `npm run bench:calls`: the CPU one DynamoDB call costs locally, on each side — dynalite serving
 * it (a process of its own, so its CPU is its own) and the AWS SDK client making it (signing,
 * serializing, parsing, as in the functions) — for the calls a batch-1 request makes: the run's
 * tally (UpdateItem ADD), an idempotency record (a conditional PutItem, then an UpdateItem),
 * a read (GetItem) and the consumer's pack writes (BatchWriteItem of 10 small packs).
 *
 * What it tells: how many milliseconds of CPU a request pays per call, so what a request with
 * n calls can reach on a machine with c cores at most (c × 1,000 / ms per request), before the
 * gateway, the SQS endpoint, the handlers and the load generator take their share.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';

const TABLE = 'call-costs';
const IN_FLIGHT = 16;

type FromServer = { port: number } | { cpuMs: number };

/**
 * The child: dynalite on a free port, answering `cpu` with its own CPU time so far. Plain
 * JavaScript run with `node -e`, so it needs no TypeScript loader in whatever runs this file.
 */
const SERVER = `
const dynalite = require(${JSON.stringify(createRequire(import.meta.url).resolve('dynalite'))});
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', (message) => {
  if (message !== 'cpu') process.exit(0);
  const { user, system } = process.cpuUsage();
  process.send({ cpuMs: (user + system) / 1000 });
});
`;

const ask = (child: ChildProcess, message?: string) =>
  new Promise<FromServer>((resolve) => {
    child.once('message', (answer) => resolve(answer as FromServer));
    if (message !== undefined) child.send(message);
  });

const serverCpuMs = async (child: ChildProcess) =>
  ((await ask(child, 'cpu')) as { cpuMs: number }).cpuMs;

export interface CallCost {
  call: string;
  callsPerSecond: number;
  /** dynalite's CPU per call. */
  serverCpuMs: number;
  /** This process's CPU per call: the SDK client (and the loop driving it). */
  clientCpuMs: number;
}

const measure = async (
  child: ChildProcess,
  call: string,
  count: number,
  send: (i: number) => Promise<unknown>,
): Promise<CallCost> => {
  let next = 0;
  const server0 = await serverCpuMs(child);
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < count) await send(next++);
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const client = process.cpuUsage(client0);
  const server = (await serverCpuMs(child)) - server0;
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    call,
    callsPerSecond: Math.round(count / seconds),
    serverCpuMs: round(server / count),
    clientCpuMs: round((client.user + client.system) / 1000 / count),
  };
};

export const measureCallCosts = async (count = 2_000): Promise<CallCost[]> => {
  const child = spawn(process.execPath, ['-e', SERVER], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  try {
    const { port } = (await ask(child)) as { port: number };
    const client = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const documents = DynamoDBDocumentClient.from(client);
    await client.send(
      new CreateTableCommand({
        TableName: TABLE,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    // A pack of one reading, about the size the consumer writes (shared/reading-pack.ts).
    const pack = {
      runId: '0f8fad5b-d9cb-469f-a165-70867728950e',
      sensorId: 'sensor-1',
      types: ['temperature'],
      user: 'simulator',
      batchId: 'AbCdEfGhIjKlMnOpQrStUv.0',
      acceptedAt: '2030-01-01T12:00:00.000Z',
      offsets: [0],
      values: [21.5],
      expiresAt: 1_900_000_000,
    };
    const results: CallCost[] = [];
    // Twice, keeping the second round: the first warms the JIT and dynalite's store up.
    for (const round of [0, 1]) {
      results.length = 0;
      results.push(
        await measure(child, 'UpdateItem ADD (run tally)', count, (i) =>
          documents.send(
            new UpdateCommand({
              TableName: TABLE,
              Key: { id: `tally#${i % 8}` },
              UpdateExpression: 'ADD accepted :n',
              ExpressionAttributeValues: { ':n': 1 },
            }),
          ),
        ),
        await measure(child, 'PutItem, conditional (key record)', count, (i) =>
          documents.send(
            new PutCommand({
              TableName: TABLE,
              Item: { id: `key#${round}#${i}`, hash: 'x'.repeat(44), expiration: 1_900_000_000 },
              ConditionExpression: 'attribute_not_exists(id)',
            }),
          ),
        ),
        await measure(child, 'UpdateItem (key record answer)', count, (i) =>
          documents.send(
            new UpdateCommand({
              TableName: TABLE,
              Key: { id: `key#${round}#${i}` },
              UpdateExpression: 'SET answer = :a',
              ExpressionAttributeValues: { ':a': '{"accepted":1}' },
            }),
          ),
        ),
        await measure(child, 'GetItem', count, (i) =>
          documents.send(new GetCommand({ TableName: TABLE, Key: { id: `key#${round}#${i}` } })),
        ),
        await measure(child, 'BatchWriteItem, 10 packs', Math.ceil(count / 5), (i) =>
          documents.send(
            new BatchWriteCommand({
              RequestItems: {
                [TABLE]: Array.from({ length: 10 }, (_, j) => ({
                  PutRequest: { Item: { ...pack, id: `pack#${round}#${i}#${j}` } },
                })),
              },
            }),
          ),
        ),
      );
    }
    client.destroy();
    return results;
  } finally {
    child.send('exit');
  }
};

const main = async () => {
  const costs = await measureCallCosts();
  console.log(
    `DynamoDB call costs, ${IN_FLIGHT} in flight, ${availableParallelism()} CPUs, Node ${process.version}\n`,
  );
  console.log('| call | calls/s | dynalite CPU ms | SDK client CPU ms |');
  console.log('| --- | --- | --- | --- |');
  for (const c of costs) {
    console.log(`| ${c.call} | ${c.callsPerSecond} | ${c.serverCpuMs} | ${c.clientCpuMs} |`);
  }
};

if (import.meta.url === `file://${process.argv[1]}`) await main();
