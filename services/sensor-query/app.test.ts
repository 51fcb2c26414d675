import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import type { MeasurementView, QueueMessage } from '#shared/measurement.ts';
import {
  PACK_SPAN_MS,
  packsOf,
  supersedes,
  unpack,
  type PackedReading,
  type ReadingPack,
} from '#shared/reading-pack.ts';
import { DIRECTORY_PERIOD_MS } from '#shared/sensor-directory.ts';
import { countCommands, storePacks, useTestTables } from '#test/support/dynamodb.ts';
import { httpEvent } from '#test/support/http-event.ts';
import { lambdaContext } from '#test/support/lambda-context.ts';
import { makeHandler } from './app.ts';
import { DynamoMeasurementQuery } from '#shared/measurement-query.ts';

const BASE = Date.UTC(2030, 0, 1, 12);
const iso = (offsetMs: number) => new Date(BASE + offsetMs).toISOString();

const {
  db,
  tables: { sensorData: table },
} = useTestTables('sensorData');

interface Sent {
  sensorId: string;
  type?: string;
  offsetMs: number;
  reading?: number;
}

const newBatchId = () => `${randomUUID().replaceAll('-', '')}.0`;

/** The message the edge would make of `readings`; a reading's value defaults to its position. */
const message = (
  runId: string,
  readings: Sent[],
  envelope: Partial<Pick<QueueMessage, 'user' | 'batchId' | 'acceptedAt'>> = {},
) => ({
  runId,
  user: envelope.user ?? 'ana',
  batchId: envelope.batchId ?? newBatchId(),
  acceptedAt: envelope.acceptedAt ?? iso(-60_000),
  measurements: readings.map((r, i) => ({
    sensorId: r.sensorId,
    type: r.type ?? 'temperature',
    reading: r.reading ?? i,
    timestamp: iso(r.offsetMs),
  })),
});

/** Writes packs as the consumer does: their directory entries first, then the packs. */
const writePacks = (packs: ReadingPack[]) => storePacks(db.documents(), table, packs);

/** Stores the readings of one message as the consumer does: in packs (shared/reading-pack.ts). */
const seed = (runId: string, readings: Sent[], envelope: Parameters<typeof message>[2] = {}) =>
  writePacks(packsOf(message(runId, readings, envelope), 30));

/** What the API should hand out of these packs: each reading once, the superseding copy. */
const readingsOf = (packs: ReadingPack[]): PackedReading[] => {
  const best = new Map<string, PackedReading>();
  for (const reading of packs.flatMap((pack) => unpack({ ...pack }))) {
    const held = best.get(reading.readingKey);
    if (held === undefined || supersedes(reading, held)) best.set(reading.readingKey, reading);
  }
  return [...best.values()].sort((a, b) => (a.readingKey < b.readingKey ? -1 : 1));
};

const setup = () => {
  const client = db.client();
  const counts = countCommands(client);
  const documents = db.documents(client);
  /** Packs the Queries returned, so far. */
  const packsRead = { count: 0 };
  const handler = makeHandler({
    logger: new Logger({ serviceName: 'sensor-query', logLevel: 'SILENT' }),
    measurements: new DynamoMeasurementQuery(async (c) => {
      const out = await documents.send(c);
      packsRead.count += out.Items?.length ?? 0;
      return out;
    }, table),
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
  /** Follows nextKey until it is gone; returns every page, and the packs each page read. */
  const paged = async (params: Record<string, string>) => {
    const pages: MeasurementView[][] = [];
    const packsPerPage: number[] = [];
    let nextKey: string | undefined;
    do {
      const before = packsRead.count;
      const { status, body } = await get({ ...params, ...(nextKey ? { nextKey } : {}) });
      expect(status).toBe(200);
      expect(body.count).toBe(body.items.length);
      pages.push(body.items);
      packsPerPage.push(packsRead.count - before);
      nextKey = body.nextKey;
    } while (nextKey !== undefined && pages.length < 1000);
    expect(nextKey, 'more pages than expected').toBeUndefined();
    return { pages, packsPerPage };
  };
  const allPages = async (params: Record<string, string>) => (await paged(params)).pages;
  return { get, allPages, paged, counts };
};

/** Query parameters of the access paths: by run, by sensor, and by run filtered to the sensor. */
const paths = (runId: string, sensorId: string): Record<string, string>[] => [
  { runId },
  { sensorId },
  { runId, sensorId },
];

const timestampAndReading = (m: MeasurementView) => [m.timestamp, m.reading];

describe('GET /api/sensors/data', () => {
  it('pages through a run in time order with a real cursor', async () => {
    const runId = randomUUID();
    // Out of time order, two sensors.
    const readings = Array.from({ length: 25 }, (_, i) => ({
      sensorId: `s-${i % 2}`,
      offsetMs: ((i * 7) % 25) * 1000,
    }));
    // A fixed batch id: a pack's partition follows from its key, so the layout (a few packs a
    // partition) and the count of Queries below are the same on every run; a random one now
    // and then laid them out so that one partition took a second Query (31, in a clean-clone run).
    await seed(runId, readings, { batchId: 'PagesThroughARun.0' });
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
    // Each page lists the run's sensors once and reads each one's partition once (they hold a
    // few packs each).
    expect(counts.get('QueryCommand')).toBe(3 * (1 + 2));
    expect(counts.get('ScanCommand')).toBeUndefined();
  });

  it('filters a run by from/to (inclusive), also inside a pack', async () => {
    const runId = randomUUID();
    // One message: packs of 0–5 s and 6–9 s.
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

  it('finds readings of a range whose from and to fall inside packs, on both paths', async () => {
    const runId = randomUUID();
    const sensorId = `sensor-${randomUUID()}`;
    // Packs of 0–4.9 s and 5–9.9 s, readings every 100 ms.
    await seed(
      runId,
      Array.from({ length: 100 }, (_, i) => ({ sensorId, offsetMs: i * 100, reading: i })),
    );
    const expected = Array.from({ length: 58 - 21 + 1 }, (_, i) => [iso((21 + i) * 100), 21 + i]);
    const { allPages } = setup();
    for (const path of paths(runId, sensorId)) {
      for (const limit of ['3', '1000']) {
        const pages = await allPages({ ...path, from: iso(2050), to: iso(5820), limit });
        expect(pages.flat().map(timestampAndReading), JSON.stringify(path)).toEqual(expected);
      }
    }
  });

  it('reads a sensor across runs through the directory, paging with its cursor', async () => {
    const sensorId = `sensor-${randomUUID()}`;
    const [runA, runB] = [randomUUID(), randomUUID()];
    await seed(
      runA,
      [0, 2, 4, 6].map((s) => ({ sensorId, offsetMs: s * 1000 })),
    );
    await seed(
      runB,
      [1, 3, 5].map((s) => ({ sensorId, offsetMs: s * 1000 })),
      { user: 'bo' },
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

  it('hands out a reading stored by two messages once, with the later message value, on both paths', async () => {
    const runId = randomUUID();
    const sensorId = `sensor-${randomUUID()}`;
    const series = (fromMs: number, toMs: number, value: number) =>
      Array.from({ length: (toMs - fromMs) / 500 + 1 }, (_, i) => ({
        sensorId,
        offsetMs: fromMs + i * 500,
        reading: value + i,
      }));
    // Four sends, each overlapping one before; the last one's pack starts with the same reading
    // as the second one's. Batch ids do not follow the order the sends were accepted in, so
    // neither the pack read last nor the greatest batch id picks the copy.
    const sends = [
      { readings: series(0, 4000, 100), batchId: 'MmmmmmmmMmmmmmmm.0', acceptedAt: iso(-4000) },
      { readings: series(2000, 6000, 200), batchId: 'YyyyyyyyYyyyyyyy.0', acceptedAt: iso(-3000) },
      {
        readings: [...series(4000, 4000, 300), ...series(8000, 8000, 400)],
        batchId: 'AaaaaaaaAaaaaaaa.0',
        acceptedAt: iso(-2000),
      },
      { readings: series(2000, 2000, 500), batchId: 'ZzzzzzzzZzzzzzzz.0', acceptedAt: iso(-1000) },
    ];
    const packs = sends.flatMap(({ readings, ...envelope }) =>
      packsOf(message(runId, readings, envelope), 30),
    );
    await writePacks(packs);
    const expected = [
      ...[0, 500, 1000, 1500].map((ms, i) => [iso(ms), 100 + i]),
      [iso(2000), 500],
      ...[2500, 3000, 3500].map((ms, i) => [iso(ms), 201 + i]),
      [iso(4000), 300],
      ...[4500, 5000, 5500, 6000].map((ms, i) => [iso(ms), 205 + i]),
      [iso(8000), 400],
    ];
    expect(readingsOf(packs).map((r) => [r.timestamp, r.reading])).toEqual(expected);

    const { allPages } = setup();
    for (const path of paths(runId, sensorId)) {
      for (const limit of ['1', '2', '5', '1000']) {
        const items = (await allPages({ ...path, limit })).flat();
        expect(items.map(timestampAndReading), `${JSON.stringify(path)} ${limit}`).toEqual(
          expected,
        );
      }
      // A range starting where two packs start with copies of one reading.
      const items = (await allPages({ ...path, limit: '1', from: iso(2000) })).flat();
      expect(items.map(timestampAndReading)).toEqual(expected.slice(4));
    }
  });

  it('pages through packs of many readings with small pages, each reading once and in order', async () => {
    const runId = randomUUID();
    const tag = randomUUID().slice(0, 8);
    const sensors = [0, 1, 2].map((s) => `pack-${tag}-${s}`);
    // Five messages of 4 s each, 20 readings per sensor each: packs of 20 readings that overlap
    // across sensors, and a page boundary inside nearly every pack.
    const packs = Array.from({ length: 5 }, (_, m) =>
      packsOf(
        message(
          runId,
          sensors.flatMap((sensorId, s) =>
            Array.from({ length: 20 }, (_, i) => ({
              sensorId,
              offsetMs: m * 4000 + i * 200 + s * 7,
              reading: m * 1000 + s * 100 + i,
            })),
          ),
        ),
        30,
      ),
    ).flat();
    expect(packs.every((pack) => pack.values.length === 20)).toBe(true);
    await writePacks(packs);
    const expected = readingsOf(packs).map((r) => [r.timestamp, r.reading]);
    expect(expected).toHaveLength(300);

    const { allPages } = setup();
    for (const limit of ['2', '3', '7', '20']) {
      const pages = await allPages({ runId, limit });
      expect(pages.flat().map(timestampAndReading), limit).toEqual(expected);
      expect(pages.slice(0, -1).every((page) => page.length === Number(limit))).toBe(true);
    }
    const ofSensor = readingsOf(packs)
      .filter((r) => r.sensorId === sensors[1])
      .map((r) => [r.timestamp, r.reading]);
    for (const limit of ['1', '6']) {
      const items = (await allPages({ sensorId: sensors[1]!, limit })).flat();
      expect(items.map(timestampAndReading)).toEqual(ofSensor);
    }
  }, 30_000);

  it('resumes after its last reading, reading the packs of a pack span before it again', async () => {
    const runId = randomUUID();
    const sensorId = `sensor-${randomUUID()}`;
    // 500 readings within one pack span, each sent alone: 500 packs of one reading.
    const packs = Array.from({ length: 500 }, (_, i) =>
      packsOf(message(runId, [{ sensorId, offsetMs: i * 9, reading: i }]), 30),
    ).flat();
    expect(packs).toHaveLength(500);
    expect(499 * 9).toBeLessThan(PACK_SPAN_MS);
    await writePacks(packs);
    const { paged } = setup();
    for (const path of paths(runId, sensorId).slice(0, 2)) {
      const { pages, packsPerPage } = await paged({ ...path, limit: '20' });
      expect(pages.flat().map((m) => m.reading)).toEqual(Array.from({ length: 500 }, (_, i) => i));
      // Every pack of the span before its cursor may hold a later reading (one stored late): a
      // page reads them again, the 25th page nearly all 500, and little past them.
      expect(Math.max(...packsPerPage), JSON.stringify(path)).toBeLessThanOrEqual(
        500 + 2 * packsPerPage[0]!,
      );
      expect(packsPerPage[0]).toBeLessThan(150);
    }
  }, 30_000);

  it('continues a cursor with a reading stored after its page, below where that page read to', async () => {
    const runId = randomUUID();
    const sensor = (name: string) => `${name}-${runId.slice(0, 8)}`;
    // A@0 and A@2s, then a page of one; then B@1s is stored (as SQS delivers a message late).
    await writePacks([
      ...packsOf(message(runId, [{ sensorId: sensor('a'), offsetMs: 0, reading: 1 }]), 30),
      ...packsOf(message(runId, [{ sensorId: sensor('a'), offsetMs: 2000, reading: 3 }]), 30),
    ]);
    const { get } = setup();
    const first = await get({ runId, limit: '1' });
    expect(first.body.items.map((m: MeasurementView) => m.reading)).toEqual([1]);
    await writePacks(
      packsOf(message(runId, [{ sensorId: sensor('b'), offsetMs: 1000, reading: 2 }]), 30),
    );
    const rest = await get({ runId, limit: '10', nextKey: first.body.nextKey! });
    expect(rest.body.items.map((m: MeasurementView) => m.reading)).toEqual([2, 3]);
  });

  it("merges a run's partitions exactly: every page size, range and filter gives each reading once, in order", async () => {
    const runId = randomUUID();
    const tag = randomUUID().slice(0, 8);
    const sensors = Array.from({ length: 7 }, (_, s) => `skew-${tag}-${s}`);
    // Readings of 7 sensors, several in the same millisecond, in 40 messages that each cover
    // the whole time: packs of a few readings, overlapping in time, and now and then one reading
    // in two messages. Skewed: one partition (a sensor's) holds every one of its packs, the
    // others one in eight of theirs, so partitions run dry at different points of the merge.
    const candidates = Array.from({ length: 2400 }, (_, i) => ({
      sensorId: sensors[(i * 5) % 7]!,
      offsetMs: Math.floor(((i * 389) % 2400) * 2.5 + (i % 3)),
      reading: i,
    }));
    const packs = Array.from({ length: 40 }, (_, m) =>
      packsOf(
        message(
          runId,
          candidates.filter((_, i) => i % 40 === m),
          { acceptedAt: iso(-60_000 + m * 10) },
        ),
        30,
      ),
    )
      .flat()
      .filter((pack, i) => pack.sensorId === sensors[0] || i % 8 === 0);
    await writePacks(packs);
    const key = (m: MeasurementView) => `${m.timestamp}#${m.sensorId}#${m.reading}`;
    const expected = readingsOf(packs).map((r) => key(r));
    expect(expected.length).toBeGreaterThan(300);
    expect(packs.some((pack) => pack.values.length > 1)).toBe(true);

    const { get, allPages } = setup();
    const everything = (await get({ runId, limit: '1000' })).body.items as MeasurementView[];
    expect(everything.map(key)).toEqual(expected);

    const queries: Record<string, string>[] = [
      { runId, limit: '1', to: iso(300) },
      { runId, limit: '7', from: iso(5000) },
      { runId, limit: '113', from: iso(1000), to: iso(4500) },
      { runId, limit: '9', sensorId: sensors[3]! },
      { runId, limit: '50', sensorId: sensors[6]!, from: iso(2000) },
      { sensorId: sensors[2]!, limit: '9' },
      { sensorId: sensors[5]!, limit: '50', from: iso(1000), to: iso(4500) },
    ];
    for (const query of queries) {
      const pages = await allPages(query);
      const got = pages.flat().map(key);
      const wanted = everything
        .filter((m) => query.sensorId === undefined || m.sensorId === query.sensorId)
        .filter((m) => query.from === undefined || m.timestamp >= query.from)
        .filter((m) => query.to === undefined || m.timestamp <= query.to)
        .map(key);
      expect(got, JSON.stringify(query)).toEqual(wanted);
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
    expect(Object.keys(key).sort()).toEqual(['readingKey', 'runId']);
    const encode = (tampered: Record<string, string>) =>
      Buffer.from(JSON.stringify(tampered)).toString('base64url');

    expect((await get({ runId, nextKey: encode({ ...key, readingKey: 'x' }) })).status).toBe(400);
    // Well shaped, but no instant: month 13, February 30.
    for (const date of ['2030-13-01', '2030-02-30']) {
      const impossible = { ...key, readingKey: `${date}${key.readingKey!.slice(10)}` };
      expect((await get({ runId, nextKey: encode(impossible) })).status).toBe(400);
    }
    // A last key after the range's end would make DynamoDB refuse the key condition.
    const late = { ...key, readingKey: `${iso(60_000)}#s#temperature` };
    expect((await get({ runId, to: iso(10), nextKey: encode(late) })).status).toBe(400);
    expect((await get({ runId: randomUUID(), nextKey: body.nextKey! })).status).toBe(400);
    expect((await get({ sensorId: 's', nextKey: body.nextKey! })).status).toBe(400);
    expect((await get({ runId, from: iso(10), nextKey: body.nextKey! })).status).toBe(400);
    expect((await get({ runId, nextKey: `${body.nextKey!}!` })).status).toBe(400);
  });
});

describe('GET /api/sensors/data by sensor, and by run and sensor, on the directory', () => {
  /** Readings of a sensor in `runs`, periods apart, as a few messages each; some sent twice. */
  const layout = fc.record({
    // More runs than a page reads partitions (ten), at times.
    runs: fc.integer({ min: 1, max: 14 }),
    /** Directory periods between two runs' readings: 0 puts runs side by side in one. */
    periodsApart: fc.constantFrom(0, 0.5, 1, 3),
    readings: fc.integer({ min: 1, max: 30 }),
    /** Readings per message (a pack holds a message's readings of a sensor within 5 s). */
    perMessage: fc.integer({ min: 1, max: 12 }),
    stepMs: fc.constantFrom(250, 1000, 2600),
    resent: fc.boolean(),
  });

  const storeLayout = async (
    shape: {
      runs: number;
      periodsApart: number;
      readings: number;
      perMessage: number;
      stepMs: number;
      resent: boolean;
    },
    sensorId: string,
    runIds: string[],
    offsetMs = 0,
    acceptedAt = iso(-60_000),
  ) => {
    const packs: ReadingPack[] = [];
    for (const [r, runId] of runIds.entries()) {
      const start = offsetMs + r * shape.periodsApart * DIRECTORY_PERIOD_MS;
      // Two types a timestamp, so a message may end between them: two packs of a partition
      // then start at one instant, and the other runs' readings of that instant must wait.
      const readings = Array.from({ length: shape.readings }, (_, i) => ({
        sensorId,
        type: i % 2 === 0 ? 'humidity' : 'temperature',
        offsetMs: start + Math.floor(i / 2) * shape.stepMs,
        reading: r * 1000 + i,
      }));
      for (let i = 0; i < readings.length; i += shape.perMessage) {
        packs.push(
          ...packsOf(message(runId, readings.slice(i, i + shape.perMessage), { acceptedAt }), 30),
        );
      }
      if (shape.resent) {
        // One reading sent again in a later request, with another value: that copy wins.
        const again = { ...readings[0]!, reading: -1 - r };
        packs.push(...packsOf(message(runId, [again], { acceptedAt: iso(-30_000) }), 30));
      }
    }
    await writePacks(packs);
    return packs;
  };

  /** The key a path orders a reading by (no reading here has an id). */
  const keyOf = (m: MeasurementView, path: 'sensor' | 'run') =>
    path === 'sensor'
      ? `${m.timestamp}#${m.runId}#${m.type}`
      : `${m.timestamp}#${m.sensorId}#${m.type}`;
  const viewOf = (m: MeasurementView) => [m.runId, m.timestamp, m.type, m.reading];

  /** The readings a query should hand out, in its key order: the superseding copy of each. */
  const expected = (packs: ReadingPack[], path: 'sensor' | 'run') => {
    const best = new Map<string, PackedReading>();
    for (const reading of packs.flatMap((pack) => unpack({ ...pack }))) {
      const identity = `${reading.runId}#${reading.readingKey}`;
      const held = best.get(identity);
      if (held === undefined || supersedes(reading, held)) best.set(identity, reading);
    }
    return [...best.values()]
      .map((r) => ({ key: keyOf(r, path), view: viewOf(r) }))
      .sort((a, b) => (a.key < b.key ? -1 : 1));
  };

  it('by sensor, waits for every pack of a run that starts at a reading before handing it out', async () => {
    // A reading at 0 s, then one at 1 s sent twice, the later send's pack sorting last. A page
    // of one reads two packs at a time: it must not hand out the first copy of the 1 s reading
    // before reading the second (the frontier of the run's partition, in sensorKey terms).
    const sensorId = `z-${randomUUID().slice(0, 8)}`;
    const runId = randomUUID();
    await seed(runId, [{ sensorId, offsetMs: 0, reading: 1 }], { batchId: 'AaaaaaaaAaaaaaaa.0' });
    await seed(runId, [{ sensorId, offsetMs: 1000, reading: 2 }], {
      batchId: 'BbbbbbbbBbbbbbbb.0',
      acceptedAt: iso(-50_000),
    });
    await seed(runId, [{ sensorId, offsetMs: 1000, reading: 3 }], {
      batchId: 'CcccccccCccccccc.0',
      acceptedAt: iso(-40_000),
    });
    const { allPages } = setup();
    const items = (await allPages({ sensorId, limit: '1' })).flat();
    expect(items.map((m) => m.reading)).toEqual([1, 3]);
  });

  it('by sensor across runs: every stored reading once, in order, whatever the page size and layout', async () => {
    const { allPages } = setup();
    await fc.assert(
      fc.asyncProperty(layout, fc.integer({ min: 1, max: 40 }), async (shape, limit) => {
        // After every run id: a frontier taken from the wrong key would let readings out early.
        const sensorId = `z-dir-${randomUUID().slice(0, 8)}`;
        const runIds = Array.from({ length: shape.runs }, () => randomUUID());
        const packs = await storeLayout(shape, sensorId, runIds);
        const pages = await allPages({ sensorId, limit: String(limit) });
        expect(pages.flat().map(viewOf)).toEqual(expected(packs, 'sensor').map((e) => e.view));
        expect(pages.every((page) => page.length <= limit)).toBe(true);
      }),
      { numRuns: 25 },
    );
  }, 120_000);

  it('by run and sensor: every stored reading once, in order, whatever the page size and layout', async () => {
    const { allPages } = setup();
    await fc.assert(
      fc.asyncProperty(layout, fc.integer({ min: 1, max: 40 }), async (shape, limit) => {
        const sensorId = `one-${randomUUID().slice(0, 8)}`;
        const runId = randomUUID();
        // The sensor in the run, beside another sensor of the run and the sensor in other runs.
        const packs = await storeLayout({ ...shape, runs: 1 }, sensorId, [runId]);
        await storeLayout({ ...shape, runs: 1 }, `${sensorId}-x`, [runId]);
        await storeLayout(
          shape,
          sensorId,
          Array.from({ length: shape.runs }, () => randomUUID()),
        );
        const pages = await allPages({ runId, sensorId, limit: String(limit) });
        expect(pages.flat().map(viewOf)).toEqual(expected(packs, 'run').map((e) => e.view));
        expect(pages.every((page) => page.length <= limit)).toBe(true);
      }),
      { numRuns: 25 },
    );
  }, 120_000);

  it('hands out, after a cursor, every reading stored later that sorts after it, in a run or of a run it did not know', async () => {
    const { get } = setup();
    await fc.assert(
      fc.asyncProperty(
        layout,
        fc.constantFrom<'sensor' | 'run'>('sensor', 'run'),
        fc.integer({ min: 1, max: 15 }),
        fc.integer({ min: 1, max: 4 }),
        async (shape, path, limit, afterPage) => {
          const sensorId = `z-late-${randomUUID().slice(0, 8)}`;
          const runIds = Array.from({ length: shape.runs }, () => randomUUID());
          const query = (runId: string | undefined) => ({
            sensorId,
            ...(path === 'run' ? { runId } : {}),
            limit: String(limit),
          });
          const early = await storeLayout(shape, sensorId, runIds);
          const handedOut: MeasurementView[] = [];
          let nextKey: string | undefined;
          let lateAfter: string | undefined;
          let late: ReadingPack[] = [];
          let pages = 0;
          do {
            if (pages === afterPage) {
              // Stored late, below and above the cursor: readings of the known runs shifted by
              // half a step, and (by sensor) of a run the first pages did not know.
              const last = handedOut.at(-1);
              lateAfter = last === undefined ? '' : keyOf(last, path);
              const newRuns = path === 'sensor' ? [randomUUID()] : [];
              late = await storeLayout(
                { ...shape, runs: runIds.length + newRuns.length, resent: false },
                sensorId,
                [...runIds, ...newRuns],
                shape.stepMs / 2,
                iso(-10_000),
              );
            }
            const page = await get({ ...query(runIds[0]), ...(nextKey ? { nextKey } : {}) });
            expect(page.status).toBe(200);
            handedOut.push(...page.body.items);
            nextKey = page.body.nextKey;
            pages++;
          } while (nextKey !== undefined && pages < 2000);
          expect(nextKey).toBeUndefined();
          const inScope = (packs: ReadingPack[]) =>
            path === 'run' ? packs.filter((p) => p.runId === runIds[0]) : packs;
          const want =
            lateAfter === undefined
              ? expected(inScope(early), path)
              : [
                  ...expected(inScope(early), path).filter((e) => e.key <= lateAfter!),
                  ...expected(inScope([...early, ...late]), path).filter((e) => e.key > lateAfter!),
                ];
          expect(handedOut.map(viewOf)).toEqual(want.map((e) => e.view));
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);
});
