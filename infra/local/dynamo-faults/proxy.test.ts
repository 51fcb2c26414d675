/**
 * The fault proxy in front of dynalite, through the real DynamoDB client: handing requests to
 * dynalite's handler in its thread as the local stack does, and over HTTP.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  ScanCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbMeter } from '../meter/index.ts';
import { inProcessTarget } from './in-process.ts';
import { startDynamoFaultProxy, type DynamoFaultProxy } from './proxy.ts';

const clientFor = (endpoint: string, maxAttempts = 1) =>
  new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts,
  });

let dynaliteServer: Server;
let proxy: DynamoFaultProxy;
let viaProxy: DynamoDBClient;
/** Straight to dynalite: what was really written, without counting requests. */
let direct: DynamoDBClient;

beforeAll(async () => {
  dynaliteServer = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => dynaliteServer.listen(0, '127.0.0.1', resolve));
  const dynaliteEndpoint = `http://127.0.0.1:${(dynaliteServer.address() as AddressInfo).port}`;
  proxy = await startDynamoFaultProxy({ target: inProcessTarget(dynaliteServer) });
  viaProxy = clientFor(proxy.endpoint);
  direct = clientFor(dynaliteEndpoint);
});

afterAll(async () => {
  viaProxy.destroy();
  direct.destroy();
  await proxy.close();
  await new Promise<void>((resolve, reject) =>
    dynaliteServer.close((error) => (error ? reject(error) : resolve())),
  );
});

beforeEach(() => {
  proxy.clearFaults();
  proxy.resetStats();
});

const createTable = async (): Promise<string> => {
  const name = `faults-${randomUUID().slice(0, 8)}`;
  await direct.send(
    new CreateTableCommand({
      TableName: name,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  return name;
};

const put = (id: string): WriteRequest => ({
  PutRequest: { Item: { pk: { S: id }, value: { N: '1' } } },
});

const keysIn = async (table: string): Promise<string[]> => {
  const { Items = [] } = await direct.send(new ScanCommand({ TableName: table }));
  return Items.map((item) => item['pk']?.S ?? '').sort();
};

describe('pass-through', () => {
  it('forwards requests unchanged and counts them per operation', async () => {
    const table = await createTable();
    await viaProxy.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'k1' } } }));
    await viaProxy.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'k2' } } }));
    const { Item } = await viaProxy.send(
      new GetItemCommand({ TableName: table, Key: { pk: { S: 'k2' } } }),
    );

    expect(Item).toEqual({ pk: { S: 'k2' } });
    expect(proxy.stats()).toEqual({
      requests: { PutItem: 2, GetItem: 1 },
      throttled: {},
      unprocessedItems: 0,
    });
    proxy.resetStats();
    expect(proxy.stats().requests).toEqual({});
  });
});

describe('dynalite in this thread', () => {
  it('answers as dynalite does over HTTP: items, errors, status codes and checksums', async () => {
    const table = await createTable();
    const overHttp = await startDynamoFaultProxy({
      target: `http://127.0.0.1:${(dynaliteServer.address() as AddressInfo).port}`,
    });
    const viaHttp = clientFor(overHttp.endpoint);
    try {
      await viaProxy.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'same' } } }));
      const get = new GetItemCommand({ TableName: table, Key: { pk: { S: 'same' } } });
      expect((await viaProxy.send(get)).Item).toEqual((await viaHttp.send(get)).Item);
      // An error dynalite answers (unknown table) comes back the same either way.
      const missing = new GetItemCommand({ TableName: 'no-such-table', Key: { pk: { S: 'x' } } });
      const errors = await Promise.all(
        [viaProxy, viaHttp].map((client) => client.send(missing).catch((e: unknown) => e)),
      );
      expect(errors.map((e) => [(e as Error).name, (e as Error).message])).toEqual([
        ['ResourceNotFoundException', 'Requested resource not found'],
        ['ResourceNotFoundException', 'Requested resource not found'],
      ]);
      // The SDK checks x-amz-crc32 of every answer: a wrong one would have failed the calls.
      const answer = await fetch(proxy.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'DynamoDB_20120810.GetItem',
          authorization:
            'AWS4-HMAC-SHA256 Credential=local/20300101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00',
          'x-amz-date': '20300101T000000Z',
        },
        body: JSON.stringify({ TableName: table, Key: { pk: { S: 'same' } } }),
      });
      const body = Buffer.from(await answer.arrayBuffer());
      expect(answer.headers.get('x-amz-crc32')).toBe(String(crc32(body)));
      expect(answer.headers.get('x-amzn-requestid')).toMatch(/^[A-Z0-9]{52}$/);
    } finally {
      viaHttp.destroy();
      await overHttp.close();
    }
  });

  it('refuses a server that has no request handler', () => {
    expect(() => inProcessTarget(createServer())).toThrow('no request handler');
  });
});

describe('unprocessed BatchWriteItem', () => {
  it('returns part of the batch in UnprocessedItems until the caller retried it all', async () => {
    // Prepare
    const tableA = await createTable();
    const tableB = await createTable();
    const writesA = Array.from({ length: 10 }, (_, index) => put(`a${index}`));
    const writesB = [put('b0'), put('b1')];
    proxy.unprocessed(2);
    // Act
    const first = await viaProxy.send(
      new BatchWriteItemCommand({ RequestItems: { [tableA]: writesA, [tableB]: writesB } }),
    );
    const afterFirst = { a: await keysIn(tableA), b: await keysIn(tableB) };
    let pending = first.UnprocessedItems ?? {};
    let attempts = 1;
    while (Object.keys(pending).length > 0 && attempts < 10) {
      const retry = await viaProxy.send(new BatchWriteItemCommand({ RequestItems: pending }));
      pending = retry.UnprocessedItems ?? {};
      attempts += 1;
    }
    // Assess
    expect(first.UnprocessedItems).toEqual({
      [tableA]: writesA.slice(5),
      [tableB]: writesB.slice(1),
    });
    expect(afterFirst).toEqual({ a: ['a0', 'a1', 'a2', 'a3', 'a4'], b: ['b0'] });
    expect(await keysIn(tableA)).toEqual(writesA.map((w) => w.PutRequest?.Item?.['pk']?.S).sort());
    expect(await keysIn(tableB)).toEqual(['b0', 'b1']);
    // 10+2 → 6 unprocessed; retry 5+1 → 3+1 unprocessed; the third request goes through.
    expect(attempts).toBe(3);
    expect(proxy.stats()).toMatchObject({ requests: { BatchWriteItem: 3 }, unprocessedItems: 10 });
  });

  it('tells onRequest the answer the client got, so what came back unprocessed is not billed', async () => {
    // Prepare
    const told: { body: Buffer; statusCode: number; answer?: Buffer }[] = [];
    const metered = await startDynamoFaultProxy({
      target: `http://127.0.0.1:${(dynaliteServer.address() as AddressInfo).port}`,
      onRequest: (_operation, body, statusCode, answer) =>
        told.push({ body, statusCode, ...(answer && { answer }) }),
    });
    const client = clientFor(metered.endpoint);
    const table = await createTable();
    metered.unprocessed(1);
    // Act
    const result = await client.send(
      new BatchWriteItemCommand({
        RequestItems: { [table]: Array.from({ length: 4 }, (_, index) => put(`m${index}`)) },
      }),
    );
    client.destroy();
    await metered.close();
    // Assess
    expect(told).toHaveLength(1);
    const [{ body, statusCode, answer }] = told as [(typeof told)[number]];
    expect(JSON.parse(answer!.toString('utf8')).UnprocessedItems).toEqual(result.UnprocessedItems);
    const exchange = new DynamoDbMeter({}).measure('BatchWriteItem', body, statusCode, answer);
    expect(exchange?.charges).toEqual([{ table, writeUnits: 2, readUnits: 0 }]);
  });

  it('hands back a one-item batch whole, writing nothing', async () => {
    const table = await createTable();
    proxy.unprocessed(1);
    const result = await viaProxy.send(
      new BatchWriteItemCommand({ RequestItems: { [table]: [put('solo')] } }),
    );
    expect(result.UnprocessedItems).toEqual({ [table]: [put('solo')] });
    expect(await keysIn(table)).toEqual([]);
  });

  it('recomputes x-amz-crc32 for the body it rewrote', async () => {
    const table = await createTable();
    proxy.unprocessed(1);
    const response = await fetch(proxy.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.BatchWriteItem',
        authorization:
          'AWS4-HMAC-SHA256 Credential=local/20300101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00',
        'x-amz-date': '20300101T000000Z',
      },
      body: JSON.stringify({ RequestItems: { [table]: [put('x1'), put('x2')] } }),
    });
    const body = Buffer.from(await response.arrayBuffer());
    expect(response.status).toBe(200);
    expect(JSON.parse(body.toString())).toEqual({ UnprocessedItems: { [table]: [put('x2')] } });
    expect(response.headers.get('x-amz-crc32')).toBe(String(crc32(body)));
    expect(await keysIn(table)).toEqual(['x1']);
  });
});

describe('throttling', () => {
  it('answers ProvisionedThroughputExceededException without reaching DynamoDB', async () => {
    const table = await createTable();
    proxy.throttle('PutItem', 1);
    const error = await viaProxy
      .send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'throttled' } } }))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ProvisionedThroughputExceededException);
    expect(await keysIn(table)).toEqual([]);
    await viaProxy.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'later' } } }));
    expect(await keysIn(table)).toEqual(['later']);
    expect(proxy.stats()).toMatchObject({ requests: { PutItem: 2 }, throttled: { PutItem: 1 } });
  });

  it('only throttles the operation it was told to', async () => {
    const table = await createTable();
    proxy.throttle('GetItem', 5);
    await viaProxy.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'k' } } }));
    expect(await keysIn(table)).toEqual(['k']);
    expect(proxy.stats().throttled).toEqual({});
  });

  it('is retried by an SDK client with retries left', async () => {
    const table = await createTable();
    const retrying = clientFor(proxy.endpoint, 3);
    try {
      proxy.throttle('PutItem', 2);
      await retrying.send(
        new PutItemCommand({ TableName: table, Item: { pk: { S: 'eventually' } } }),
      );
      expect(await keysIn(table)).toEqual(['eventually']);
      expect(proxy.stats()).toMatchObject({ requests: { PutItem: 3 }, throttled: { PutItem: 2 } });
    } finally {
      retrying.destroy();
    }
  });
});
