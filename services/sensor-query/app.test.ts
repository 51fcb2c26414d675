import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toSensorDataItem, type MeasurementView } from '#shared/measurement.ts';
import { countCommands, startTestDynamoDb, type TestDynamoDb } from '#test/support/dynamodb.ts';
import { httpEvent } from '#test/support/http-event.ts';
import { lambdaContext } from '#test/support/lambda-context.ts';
import { makeHandler } from './app.ts';
import { DynamoMeasurementQuery } from './query.ts';

const BASE = Date.UTC(2030, 0, 1, 12);
const iso = (offsetMs: number) => new Date(BASE + offsetMs).toISOString();

let db: TestDynamoDb;
let table: string;

beforeAll(async () => {
  db = await startTestDynamoDb();
  table = await db.createTable('sensorData');
});
afterAll(async () => {
  await db?.close();
});

/** Stores readings as the consumer does (same key functions). */
const seed = async (
  runId: string,
  readings: { sensorId: string; type?: string; offsetMs: number; reading?: number }[],
  user = 'ana',
) => {
  const items = readings.map((r, i) =>
    toSensorDataItem(
      { runId, user, batchId: 'AbCdEfGhIjKlMnOpQrStUv.0' },
      {
        sensorId: r.sensorId,
        type: r.type ?? 'temperature',
        reading: r.reading ?? i,
        timestamp: iso(r.offsetMs),
      },
      30,
    ),
  );
  const documents = db.documents();
  for (let i = 0; i < items.length; i += 25) {
    await documents.send(
      new BatchWriteCommand({
        RequestItems: { [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) },
      }),
    );
  }
};

const setup = () => {
  const client = db.client();
  const counts = countCommands(client);
  const documents = db.documents(client);
  const handler = makeHandler({
    logger: new Logger({ serviceName: 'sensor-query', logLevel: 'SILENT' }),
    measurements: new DynamoMeasurementQuery((c) => documents.send(c), table),
  });
  const get = async (params: Record<string, string>) => {
    const result = await handler(
      httpEvent('GET /api/sensors/data', { queryStringParameters: params }),
      lambdaContext(),
    );
    return {
      status: result.statusCode,
      body: JSON.parse(result.body ?? 'null') as {
        items: MeasurementView[];
        count: number;
        nextKey?: string;
        error?: string;
      },
    };
  };
  /** Follows nextKey until it is gone; returns every page. */
  const allPages = async (params: Record<string, string>) => {
    const pages: MeasurementView[][] = [];
    let nextKey: string | undefined;
    do {
      const { status, body } = await get({ ...params, ...(nextKey ? { nextKey } : {}) });
      expect(status).toBe(200);
      expect(body.count).toBe(body.items.length);
      pages.push(body.items);
      nextKey = body.nextKey;
    } while (nextKey !== undefined && pages.length < 50);
    return pages;
  };
  return { get, allPages, counts };
};

describe('GET /api/sensors/data', () => {
  it('pages through a run in time order with a real cursor', async () => {
    const runId = randomUUID();
    // Inserted out of time order, two sensors.
    const readings = Array.from({ length: 25 }, (_, i) => ({
      sensorId: `s-${i % 2}`,
      offsetMs: ((i * 7) % 25) * 1000,
    }));
    await seed(runId, readings);
    const { allPages, counts } = setup();
    const pages = await allPages({ runId, limit: '10' });
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
    const timestamps = pages.flat().map((m) => m.timestamp);
    expect(timestamps).toEqual([...timestamps].sort());
    expect(new Set(timestamps).size).toBe(25);
    expect(pages[0]![0]).toEqual({
      runId,
      sensorId: 's-0',
      type: 'temperature',
      reading: 0,
      timestamp: iso(0),
      user: 'ana',
    });
    expect(counts.get('QueryCommand')).toBe(3);
    expect(counts.get('ScanCommand')).toBeUndefined();
  });

  it('filters a run by from/to (inclusive) on the key', async () => {
    const runId = randomUUID();
    await seed(
      runId,
      Array.from({ length: 10 }, (_, i) => ({ sensorId: 's', offsetMs: i * 1000 })),
    );
    const { get } = setup();
    const { body } = await get({ runId, from: iso(3000), to: String(BASE + 6000) });
    expect(body.items.map((m) => m.timestamp)).toEqual([
      iso(3000),
      iso(4000),
      iso(5000),
      iso(6000),
    ]);
    expect(body.nextKey).toBeUndefined();
  });

  it('reads a sensor across runs through the bySensor index, paging with its cursor', async () => {
    const sensorId = `sensor-${randomUUID()}`;
    const [runA, runB] = [randomUUID(), randomUUID()];
    await seed(
      runA,
      [0, 2, 4, 6].map((s) => ({ sensorId, offsetMs: s * 1000 })),
    );
    await seed(
      runB,
      [1, 3, 5].map((s) => ({ sensorId, offsetMs: s * 1000 })),
      'bo',
    );
    await seed(runB, [{ sensorId: 'someone-else', offsetMs: 500 }]);
    const { allPages } = setup();
    const pages = await allPages({ sensorId, limit: '3', from: iso(1000) });
    const items = pages.flat();
    expect(items.map((m) => [m.runId, m.timestamp])).toEqual([
      [runB, iso(1000)],
      [runA, iso(2000)],
      [runB, iso(3000)],
      [runA, iso(4000)],
      [runB, iso(5000)],
      [runA, iso(6000)],
    ]);
    expect(items.find((m) => m.runId === runB)?.user).toBe('bo');
  });

  it('filters a run to one sensor and still fills pages', async () => {
    const runId = randomUUID();
    // The wanted sensor is one reading in four.
    await seed(
      runId,
      Array.from({ length: 40 }, (_, i) => ({
        sensorId: i % 4 === 0 ? 'wanted' : `noise-${i}`,
        offsetMs: i * 1000,
      })),
    );
    const { get, allPages } = setup();
    const first = await get({ runId, sensorId: 'wanted', limit: '4' });
    expect(first.body.items).toHaveLength(4);
    const items = (await allPages({ runId, sensorId: 'wanted', limit: '4' })).flat();
    expect(items.map((m) => m.sensorId)).toEqual(Array(10).fill('wanted'));
    expect(items.map((m) => m.timestamp)).toEqual(
      Array.from({ length: 10 }, (_, i) => iso(i * 4000)),
    );
  });

  it('answers 400 without runId or sensorId, and never scans', async () => {
    const { get, counts } = setup();
    const { status, body } = await get({ limit: '5' });
    expect(status).toBe(400);
    expect(body.error).toEqual(expect.any(String));
    expect(counts.size).toBe(0);
  });

  it('answers 400, not 500, to a tampered cursor or one from another query', async () => {
    const runId = randomUUID();
    await seed(
      runId,
      Array.from({ length: 5 }, (_, i) => ({ sensorId: 's', offsetMs: i })),
    );
    const { get } = setup();
    const { body } = await get({ runId, limit: '2' });
    expect(body.nextKey).toEqual(expect.any(String));
    const key = JSON.parse(Buffer.from(body.nextKey!, 'base64url').toString()) as Record<
      string,
      string
    >;

    const tampered = Buffer.from(JSON.stringify({ ...key, readingKey: 'x' })).toString('base64url');
    expect((await get({ runId, nextKey: tampered })).status).toBe(400);
    expect((await get({ runId: randomUUID(), nextKey: body.nextKey! })).status).toBe(400);
    expect((await get({ sensorId: 's', nextKey: body.nextKey! })).status).toBe(400);
    expect((await get({ runId, from: iso(10), nextKey: body.nextKey! })).status).toBe(400);
    expect((await get({ runId, nextKey: `${body.nextKey!}!` })).status).toBe(400);
  });
});
