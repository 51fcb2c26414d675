import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  expectedAcrossLateStores,
  expectedReadings as expectedOf,
  messagesOf as messagesFrom,
  type Message,
} from '#test/support/reading-messages.ts';
import { mergeThroughDirectory, type PackBounds } from './directory-merge.ts';
import { runOfPartition, sensorKeyOfReadingKey, sensorPartition } from './measurement.ts';
import type { ReadPacks } from './pack-merge.ts';
import { firstReadingOf, packsOf, type PackedReading } from './reading-pack.ts';
import {
  DIRECTORY_PERIOD_MS,
  directoryEntriesOf,
  periodKey,
  listedOf,
  runSensorsPartition,
  sensorRunsPartition,
  type Listed,
} from './sensor-directory.ts';

const RUNS = [
  '11111111-2222-4333-8444-555555555555',
  '22222222-2222-4333-8444-555555555555',
  '33333333-2222-4333-8444-555555555555',
  '44444444-2222-4333-8444-555555555555',
];
const SENSORS = ['s-0', 's-1', 's-2'];
const RUN = RUNS[0]!;
const SENSOR = SENSORS[0]!;
/** A period's start: readings lie in the five periods from here, many near a period's edge. */
const T0 = Date.UTC(2030, 0, 1, 12);
const at = (ms: number) => new Date(T0 + ms).toISOString();

type Path = { kind: 'run'; runId: string } | { kind: 'sensor'; sensorId: string };

/** The table as the consumer leaves it: each partition's items in key order. */
const tableOf = (messages: Message[]) => {
  const partitions = new Map<string, Record<string, unknown>[]>();
  for (const message of messages) {
    const packs = packsOf({ ...message, user: 'ana' }, 30);
    for (const item of [...directoryEntriesOf(packs, 30), ...packs]) {
      const list = partitions.get(item.runPartition) ?? [];
      // A later write of a key replaces the earlier item, as DynamoDB's put does.
      const kept = list.filter((other) => other.packKey !== item.packKey);
      partitions.set(item.runPartition, [...kept, item as unknown as Record<string, unknown>]);
    }
  }
  for (const list of partitions.values()) {
    list.sort((a, b) => (String(a.packKey) < String(b.packKey) ? -1 : 1));
  }
  return partitions;
};

/**
 * A Query as DynamoDB answers it, on `table` (read when called, so items stored between pages
 * are seen): items between the bounds after the start key, `Limit` of them or fewer when `cut`
 * says the 1 MB ran out, a LastEvaluatedKey unless the items ran out first.
 */
const query = (
  table: () => Map<string, Record<string, unknown>[]>,
  cut: () => number,
  counter: { calls: number; streams: Set<string>; listed: number },
) => {
  const run = (
    partition: string,
    bounds: PackBounds,
    limit: number,
    startKey: Record<string, unknown> | undefined,
  ) => {
    counter.calls++;
    const items = (table().get(partition) ?? []).filter((item) => {
      const key = String(item.packKey);
      return (
        (bounds.lower === undefined || key >= bounds.lower) &&
        (bounds.upper === undefined || key <= bounds.upper) &&
        (startKey === undefined || key > String(startKey.packKey))
      );
    });
    const size = Math.min(limit, cut());
    const evaluated = items.slice(0, size);
    const last = evaluated.at(-1);
    return {
      items: evaluated,
      ...(last !== undefined && evaluated.length === size
        ? { lastKey: { runPartition: partition, packKey: last.packKey } }
        : {}),
    };
  };
  const readWithin =
    (bounds: PackBounds): ReadPacks =>
    async (stream, limit, startKey) => {
      counter.streams.add(stream);
      const { items, lastKey } = run(stream, bounds, limit, startKey);
      return { packs: items, ...(lastKey === undefined ? {} : { lastKey }) };
    };
  const list = (partition: string) =>
    async function* (fromPeriod: number, toPeriod: number | undefined): AsyncGenerator<Listed> {
      const bounds = {
        lower: periodKey(fromPeriod),
        ...(toPeriod === undefined ? {} : { upper: `${periodKey(toPeriod)}$` }),
      };
      let startKey: Record<string, unknown> | undefined;
      do {
        const { items, lastKey } = run(partition, bounds, 200, startKey);
        for (const item of items) {
          counter.listed++;
          yield listedOf(String(item.packKey));
        }
        startKey = lastKey;
      } while (startKey !== undefined);
    };
  return { readWithin, list };
};

/** Every reading the path should hand out once, in order: the copy of the message accepted last. */
const expectedReadings = (
  messages: Message[],
  path: Path,
  range: { from?: number; to?: number },
): [string, number][] =>
  expectedOf(
    messages,
    path.kind === 'run'
      ? { runId: path.runId, orderBy: 'readingKey' }
      : { sensorId: path.sensorId, orderBy: 'sensorKey' },
    range,
  );

interface Paging {
  from?: number;
  to?: number;
  limit: number;
  maxCallsPerStream: number;
  windowLimits: { members: number; periods: number };
  maxStreams: number;
  cut?: () => number;
  /** Messages stored after page `afterPage` (as SQS delivers a message late). */
  late?: { afterPage: number; messages: Message[] };
}

/** Pages through a run or a sensor as the reader does, resuming after each page's last reading. */
const pageThrough = async (messages: Message[], path: Path, options: Paging) => {
  let table = tableOf(messages);
  const keyOf = (r: PackedReading) => (path.kind === 'run' ? r.readingKey : r.sensorKey);
  const from = options.from === undefined ? undefined : at(options.from - T0);
  let resume: { after: string } | undefined;
  let lateAfter: string | undefined;
  const pages: PackedReading[][] = [];
  /** Partitions each page read. */
  const streamsPerPage: number[] = [];
  /** Directory entries each page listed. */
  const listedPerPage: number[] = [];
  let packReadings = 0;
  do {
    if (options.late !== undefined && pages.length === options.late.afterPage) {
      table = tableOf([...messages, ...options.late.messages]);
      lateAfter = resume?.after ?? '';
    }
    const counter = { calls: 0, streams: new Set<string>(), listed: 0 };
    const { readWithin, list } = query(() => table, options.cut ?? (() => Infinity), counter);
    const page = await mergeThroughDirectory({
      list: list(
        path.kind === 'run' ? runSensorsPartition(path.runId) : sensorRunsPartition(path.sensorId),
      ),
      streamOf:
        path.kind === 'run'
          ? (sensorId) => sensorPartition(path.runId, sensorId)
          : (runId) => sensorPartition(runId, path.sensorId),
      readWithin,
      keyOf,
      ...(path.kind === 'sensor'
        ? {
            frontierOf: (stream: string, packKey: string) =>
              sensorKeyOfReadingKey(firstReadingOf(packKey), runOfPartition(stream)),
          }
        : {}),
      ...(options.from === undefined ? {} : { from: options.from }),
      ...(options.to === undefined ? {} : { to: options.to }),
      after: resume?.after ?? `${from ?? at(-T0)}#`,
      startsAtAfter: resume !== undefined || options.from !== undefined,
      limit: options.limit,
      maxCallsPerStream: options.maxCallsPerStream,
      windowLimits: options.windowLimits,
      maxStreams: options.maxStreams,
    });
    pages.push(page.readings);
    streamsPerPage.push(counter.streams.size);
    listedPerPage.push(counter.listed);
    packReadings += page.packReadings;
    resume = page.resume;
    if (pages.length > 5000) throw new Error('no progress');
  } while (resume !== undefined);
  const stored = [...table.values()]
    .flat()
    .filter((item) => Array.isArray(item.values))
    .filter((item) =>
      path.kind === 'run' ? item.runId === path.runId : item.sensorId === path.sensorId,
    )
    .reduce((n, item) => n + (item.values as number[]).length, 0);
  return {
    pages,
    got: pages.flat().map((r): [string, number] => [keyOf(r), r.reading]),
    streamsPerPage,
    listedPerPage,
    packReadings,
    stored,
    lateAfter,
  };
};

/** Instants over five periods, many within a pack span of a period's edge, on quarter seconds. */
const instant = fc
  .tuple(
    fc.integer({ min: 0, max: 4 }),
    fc.oneof(
      fc.integer({ min: -40, max: 40 }).map((q) => q * 250),
      fc.integer({ min: 0, max: 14_399 }).map((q) => q * 250),
    ),
  )
  .map(([period, offset]) => Math.max(0, period * DIRECTORY_PERIOD_MS + offset));

/** Readings as sensors take them; messages send some of them, resent ones with other values. */
const taken = fc.array(
  fc.record(
    {
      sensorId: fc.constantFrom(...SENSORS),
      type: fc.constantFrom('temperature', 'humidity'),
      timestamp: instant.map(at),
      id: fc.constantFrom('a', 'b'),
    },
    { requiredKeys: ['sensorId', 'type', 'timestamp'] },
  ),
  { minLength: 1, maxLength: 80, size: 'max' },
);

const messagesOf = (prefix: string) =>
  messagesFrom(taken, [...RUNS, RUN], (accepted) => at(6 * DIRECTORY_PERIOD_MS + accepted * 1000), {
    prefix,
    maxMessages: 8,
    maxReadings: 60,
  });

const paths = fc.constantFrom<Path>(
  { kind: 'run', runId: RUN },
  { kind: 'sensor', sensorId: SENSOR },
  { kind: 'sensor', sensorId: SENSORS[1]! },
);

const range = fc
  .tuple(fc.option(instant, { nil: undefined }), fc.option(instant, { nil: undefined }))
  .map(([a, b]) => {
    const [from, to] = a !== undefined && b !== undefined && a > b ? [b, a] : [a, b];
    return {
      ...(from === undefined ? {} : { from: T0 + from }),
      ...(to === undefined ? {} : { to: T0 + to }),
    };
  });

/** New members and periods a window takes, and a page's partitions: small, to cut windows. */
const fanOut = fc.record({
  windowLimits: fc.record({
    members: fc.integer({ min: 0, max: 4 }),
    periods: fc.integer({ min: 0, max: 3 }),
  }),
  maxStreams: fc.integer({ min: 1, max: 6 }),
});

describe('mergeThroughDirectory', () => {
  it('pages hand out every reading of a run or a sensor once, in key order, the copy accepted last', async () => {
    await fc.assert(
      fc.asyncProperty(
        messagesOf('batch'),
        paths,
        range,
        fc.integer({ min: 1, max: 40 }),
        fc.constantFrom(1, 2, 5),
        fanOut,
        fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 8 }),
        async (sent, path, bounds, limit, maxCallsPerStream, fan, cuts) => {
          let call = 0;
          const cut = () => cuts[call++ % cuts.length]!;
          const { pages, got, packReadings, stored } = await pageThrough(sent, path, {
            ...bounds,
            ...fan,
            limit,
            maxCallsPerStream,
            cut,
          });
          expect(got).toEqual(expectedReadings(sent, path, bounds));
          expect(pages.every((page) => page.length <= limit)).toBe(true);
          // A full read counts every stored copy once (the run reports' stored count).
          if (bounds.from === undefined && bounds.to === undefined) {
            expect(packReadings).toBe(stored);
          }
        },
      ),
      { numRuns: 300 },
    );
  }, 120_000);

  it('a continuation hands out every reading after its cursor, late packs of any run or sensor included', async () => {
    await fc.assert(
      fc.asyncProperty(
        messagesOf('batch'),
        messagesOf('late'),
        paths,
        fc.integer({ min: 1, max: 20 }),
        fanOut,
        fc.integer({ min: 1, max: 6 }),
        async (early, lateDrafts, path, limit, fan, afterPage) => {
          // Later messages: other batch ids, accepted after the early ones.
          const late = lateDrafts.map((m, i) => ({
            ...m,
            acceptedAt: at(7 * DIRECTORY_PERIOD_MS + i),
          }));
          const { got, lateAfter } = await pageThrough(early, path, {
            ...fan,
            limit,
            maxCallsPerStream: 5,
            late: { afterPage, messages: late },
          });
          // Without lateAfter, it paged through before the late messages were stored.
          expect(got).toEqual(
            expectedAcrossLateStores(early, late, lateAfter, (sent) =>
              expectedReadings(sent, path, {}),
            ),
          );
        },
      ),
      { numRuns: 300 },
    );
  }, 120_000);

  it('bounds the partitions a page reads: a sensor with a run a period for 100 periods', async () => {
    const sent = Array.from({ length: 100 }, (_, h): Message => {
      const runId = `${String(h).padStart(8, '0')}-2222-4333-8444-555555555555`;
      return {
        runId,
        batchId: `batch-${h}.0`,
        acceptedAt: at(0),
        measurements: Array.from({ length: 5 }, (_, i) => ({
          sensorId: SENSOR,
          type: 'temperature',
          reading: h * 10 + i,
          timestamp: at(h * DIRECTORY_PERIOD_MS + i * 1000),
        })),
      };
    });
    const path: Path = { kind: 'sensor', sensorId: SENSOR };
    const { got, streamsPerPage, pages } = await pageThrough(sent, path, {
      limit: 12,
      maxCallsPerStream: 5,
      windowLimits: { members: 10, periods: 1000 },
      maxStreams: 10,
    });
    expect(got).toEqual(expectedReadings(sent, path, {}));
    // Not a hundred runs a page: the runs of the periods it starts in and ten more at most.
    expect(Math.max(...streamsPerPage)).toBeLessThanOrEqual(12);
    expect(pages.slice(0, -1).every((page) => page.length === 12)).toBe(true);
  });

  it("lists a window of a long run's directory a page, not all of it", async () => {
    // Three sensors of one run, a reading a minute each for 100 periods (1,000 minutes).
    const sent = Array.from({ length: 1000 }, (_, minute): Message => ({
      runId: RUN,
      batchId: `batch-${String(minute).padStart(4, '0')}.0`,
      acceptedAt: at(0),
      measurements: SENSORS.map((sensorId) => ({
        sensorId,
        type: 'temperature',
        reading: minute,
        timestamp: at(minute * 60_000),
      })),
    }));
    const path: Path = { kind: 'run', runId: RUN };
    const { got, listedPerPage, pages } = await pageThrough(sent, path, {
      limit: 50,
      maxCallsPerStream: 5,
      windowLimits: { members: 0, periods: 6 },
      maxStreams: 10,
    });
    expect(got).toEqual(expectedReadings(sent, path, {}));
    // 300 entries in all; a page lists those of its window and one period past it, at most two
    // windows' worth (a page that reaches a window's end goes on into the next).
    expect(Math.max(...listedPerPage)).toBeLessThanOrEqual(2 * 3 * (6 + 3));
    expect(pages.slice(0, -1).every((page) => page.length === 50)).toBe(true);
  });

  it('reads every member of the period a page starts in, however many, and gets past it', async () => {
    // Twenty runs of the sensor in one period: more than a window takes beyond its first.
    const sent = Array.from({ length: 20 }, (_, r): Message => ({
      runId: `${String(r).padStart(8, '0')}-2222-4333-8444-555555555555`,
      batchId: `batch-${r}.0`,
      acceptedAt: at(0),
      measurements: [
        { sensorId: SENSOR, type: 'temperature', reading: r, timestamp: at(r * 60_000) },
        {
          sensorId: SENSOR,
          type: 'temperature',
          reading: 100 + r,
          timestamp: at(DIRECTORY_PERIOD_MS + r * 60_000),
        },
      ],
    }));
    const path: Path = { kind: 'sensor', sensorId: SENSOR };
    const { got, pages } = await pageThrough(sent, path, {
      limit: 3,
      maxCallsPerStream: 5,
      windowLimits: { members: 2, periods: 1000 },
      maxStreams: 2,
    });
    expect(got).toEqual(expectedReadings(sent, path, {}));
    expect(got).toHaveLength(40);
    expect(pages.every((page) => page.length > 0)).toBe(true);
  });
});
