import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RUN_PARTITIONS,
  runPartition,
  toSensorDataItem,
  type MeasurementView,
} from '#shared/measurement.ts';
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
    // Each page reads each of the run's partitions once (they hold a few readings each).
    expect(counts.get('QueryCommand')).toBe(3 * RUN_PARTITIONS);
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

  it("merges a run's partitions exactly: every page size, range and filter gives each reading once, in order", async () => {
    const runId = randomUUID();
    // Readings of 7 sensors, several in the same millisecond, inserted out of order, and skewed:
    // one partition holds every one of its readings, the others one in eight of theirs, so
    // partitions run dry at different points of the merge.
    const readings = Array.from({ length: 2400 }, (_, i) => ({
      sensorId: `s-${(i * 5) % 7}`,
      offsetMs: ((i * 389) % 2400) * 2.5 + (i % 3),
    }))
      .map((r) => ({ ...r, offsetMs: Math.floor(r.offsetMs) }))
      .filter((r, i) => {
        const partition = runPartition(runId, `${iso(r.offsetMs)}#${r.sensorId}#temperature`);
        return partition.endsWith('#0') || i % 8 === 0;
      })
      .slice(0, 600);
    await seed(runId, readings);
    const key = (m: MeasurementView) => `${m.timestamp}#${m.sensorId}`;
    const { get, allPages } = setup();
    const everything = (await get({ runId, limit: '1000' })).body.items as MeasurementView[];
    expect(everything).toHaveLength(readings.length);
    const sorted = everything.map(key);
    expect(sorted).toEqual([...sorted].sort());
    expect(new Set(sorted).size).toBe(readings.length);

    const queries: Record<string, string>[] = [
      { limit: '1', to: iso(300) },
      { limit: '7', from: iso(5000) },
      { limit: '113', from: iso(1000), to: iso(4500) },
      { limit: '9', sensorId: 's-3' },
      { limit: '50', sensorId: 's-6', from: iso(2000) },
    ];
    for (const query of queries) {
      const pages = await allPages({ runId, ...query });
      const got = pages.flat().map(key);
      const expected = everything
        .filter((m) => query.sensorId === undefined || m.sensorId === query.sensorId)
        .filter((m) => query.from === undefined || m.timestamp >= query.from)
        .filter((m) => query.to === undefined || m.timestamp <= query.to)
        .map(key);
      expect(got, JSON.stringify(query)).toEqual(expected);
      if (query.sensorId === undefined) {
        // Without a filter every page but the last is full.
        expect(pages.slice(0, -1).every((page) => page.length === Number(query.limit))).toBe(true);
      }
    }
  }, 60_000);

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
