import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readingKey, RUN_PARTITIONS, sensorKey, type QueueMeasurement } from './measurement.ts';
import { mergePacks, type ReadPacks } from './pack-merge.ts';
import {
  PACK_SPAN_MS,
  packLowerBound,
  packsOf,
  type PackedReading,
  type ReadingPack,
} from './reading-pack.ts';

const RUN = '11111111-2222-4333-8444-555555555555';
const OTHER_RUN = '99999999-2222-4333-8444-555555555555';
const T0 = Date.UTC(2030, 0, 1, 12);
const at = (ms: number) => new Date(T0 + ms).toISOString();

interface Message {
  runId: string;
  batchId: string;
  acceptedAt: string;
  measurements: QueueMeasurement[];
}

type Path = { kind: 'run'; sensorId?: string } | { kind: 'sensor'; sensorId: string };

/** How a path sees the table: its streams of packs in sort-key order, and its reading keys. */
const view = (messages: Message[], path: Path) => {
  const sortKey = path.kind === 'run' ? ('packKey' as const) : ('sensorPackKey' as const);
  const streams = new Map<string, ReadingPack[]>();
  for (const message of messages) {
    for (const pack of packsOf({ ...message, user: 'ana' }, 30)) {
      if (path.kind === 'run' && pack.runId !== RUN) continue;
      if (path.kind === 'sensor' && pack.sensorId !== path.sensorId) continue;
      const name = path.kind === 'run' ? pack.runPartition : pack.sensorId;
      streams.set(name, [...(streams.get(name) ?? []), pack]);
    }
  }
  for (const packs of streams.values()) packs.sort((a, b) => (a[sortKey] < b[sortKey] ? -1 : 1));
  const keyOf = (r: PackedReading) => (path.kind === 'run' ? r.readingKey : r.sensorKey);
  return { sortKey, streams, keyOf };
};

/**
 * A Query as DynamoDB answers it: packs between the bounds after the start key, `Limit` of them
 * or fewer when `cut` says the 1 MB ran out, a LastEvaluatedKey unless the packs ran out first,
 * and a filter applied after counting. Counts the packs it returns.
 */
const fakeQuery = (
  streams: Map<string, ReadingPack[]>,
  sortKey: 'packKey' | 'sensorPackKey',
  bounds: { lower?: string; upper?: string; sensorId?: string },
  cut: () => number,
): ReadPacks & { returned: number } => {
  const read = Object.assign(
    async (stream: string, limit: number, startKey: Record<string, unknown> | undefined) => {
      const packs = (streams.get(stream) ?? []).filter(
        (p) =>
          (bounds.lower === undefined || p[sortKey] >= bounds.lower) &&
          (bounds.upper === undefined || p[sortKey] <= bounds.upper) &&
          (startKey === undefined || p[sortKey] > String(startKey[sortKey])),
      );
      const size = Math.min(limit, cut());
      const evaluated = packs.slice(0, size);
      const items = evaluated.filter(
        (p) => bounds.sensorId === undefined || p.sensorId === bounds.sensorId,
      );
      read.returned += items.length;
      const last = evaluated.at(-1);
      return {
        packs: items as unknown as Record<string, unknown>[],
        ...(last !== undefined && evaluated.length === size
          ? { lastKey: { [sortKey]: last[sortKey], partition: stream } }
          : {}),
      };
    },
    { returned: 0 },
  );
  return read;
};

/** Every reading the path should hand out once, in order: the copy of the message accepted last. */
const expectedReadings = (
  messages: Message[],
  path: Path,
  range: { from?: number; to?: number },
): [string, number][] => {
  const best = new Map<string, { reading: number; message: Message }>();
  for (const message of messages) {
    if (path.kind === 'run' && message.runId !== RUN) continue;
    // Within a message the last of two equal readings is the one sent.
    const distinct = new Map(message.measurements.map((m) => [readingKey(m), m]));
    for (const m of distinct.values()) {
      if (path.sensorId !== undefined && m.sensorId !== path.sensorId) continue;
      const ms = Date.parse(m.timestamp);
      if (
        (range.from !== undefined && ms < range.from) ||
        (range.to !== undefined && ms > range.to)
      )
        continue;
      const key = path.kind === 'run' ? readingKey(m) : sensorKey(message.runId, m);
      const held = best.get(key)?.message;
      const later =
        held === undefined ||
        message.acceptedAt > held.acceptedAt ||
        (message.acceptedAt === held.acceptedAt && message.batchId > held.batchId);
      if (later) best.set(key, { reading: m.reading, message });
    }
  }
  return [...best.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, { reading }]) => [key, reading]);
};

/** The first pack key a page after `after` reads from, as the reader computes it. */
const resumeBound = (after: string) => packLowerBound(Date.parse(after.slice(0, 24)));

/**
 * Pages through the path as the reader does, resuming after each page's last reading. `late`
 * messages are stored after page `afterPage` (as SQS delivers a message late).
 */
const pageThrough = async (
  messages: Message[],
  path: Path,
  options: {
    from?: number;
    to?: number;
    limit: number;
    maxCalls: number;
    cut?: () => number;
    late?: { afterPage: number; messages: Message[] };
  },
) => {
  const { sortKey, streams, keyOf } = view(messages, path);
  const from = options.from === undefined ? undefined : at(options.from - T0);
  const to = options.to === undefined ? undefined : at(options.to - T0);
  const upper = to === undefined ? undefined : `${to}$`;
  let resume: { after: string } | undefined;
  /** The cursor's last key when the late messages were stored. */
  let lateAfter: string | undefined;
  const pages: PackedReading[][] = [];
  const returned: number[] = [];
  let packReadings = 0;
  const packs = view([...messages, ...(options.late?.messages ?? [])], path).streams;
  const packCount = [...packs.values()].flat().length;
  const readingCount = [...packs.values()].flat().reduce((n, p) => n + p.values.length, 0);
  do {
    if (options.late !== undefined && pages.length === options.late.afterPage) {
      const stored = view([...messages, ...options.late.messages], path).streams;
      streams.clear();
      for (const [name, list] of stored) streams.set(name, list);
      lateAfter = resume?.after ?? '';
    }
    const lower =
      resume === undefined
        ? options.from === undefined
          ? undefined
          : packLowerBound(options.from)
        : resumeBound(resume.after);
    const read = fakeQuery(
      streams,
      sortKey,
      {
        ...(lower === undefined ? {} : { lower }),
        ...(upper === undefined ? {} : { upper }),
        ...(path.kind === 'run' && path.sensorId !== undefined ? { sensorId: path.sensorId } : {}),
      },
      options.cut ?? (() => Infinity),
    );
    const page = await mergePacks({
      streams: [...streams.keys()],
      read,
      sortKey,
      keyOf,
      wanted: (r) =>
        (from === undefined || r.timestamp >= from) && (to === undefined || r.timestamp <= to),
      after: resume?.after ?? `${from ?? at(-T0)}#`,
      limit: options.limit,
      maxCalls: options.maxCalls,
      ...(lower === undefined ? {} : { lowerBound: lower }),
      filtered: path.kind === 'run' && path.sensorId !== undefined,
    });
    returned.push(read.returned);
    pages.push(page.readings);
    packReadings += page.packReadings;
    resume = page.resume;
    // Each page but the last hands out a reading, so this many pages is a loop.
    if (pages.length > readingCount + packCount + 2) throw new Error('no progress');
  } while (resume !== undefined);
  return {
    pages,
    got: pages.flat().map((r): [string, number] => [keyOf(r), r.reading]),
    returned,
    packReadings,
    lateAfter,
    /** Readings of every pack on the path, each copy. */
    stored: [...streams.values()].flat().reduce((n, pack) => n + pack.values.length, 0),
  };
};

/** Readings as sensors take them; messages send some of them, resent ones with other values. */
const taken = fc.array(
  fc.record(
    {
      sensorId: fc.constantFrom('s-0', 's-1', 's-2'),
      type: fc.constantFrom('temperature', 'humidity'),
      // Quarter seconds over 20 s: several pack spans.
      timestamp: fc.integer({ min: 0, max: 80 }).map((q) => at(q * 250)),
      id: fc.constantFrom('a', 'b'),
    },
    { requiredKeys: ['sensorId', 'type', 'timestamp'] },
  ),
  { minLength: 1, maxLength: 120, size: 'max' },
);

const messages = fc
  .tuple(
    taken,
    fc.array(
      fc.record({
        runId: fc.constantFrom(RUN, RUN, OTHER_RUN),
        accepted: fc.integer({ min: 0, max: 3 }),
        sent: fc.array(fc.tuple(fc.nat(), fc.integer({ min: -1000, max: 1000 })), {
          minLength: 1,
          maxLength: 80,
          size: 'max',
        }),
      }),
      { minLength: 1, maxLength: 6 },
    ),
  )
  .map(([readings, drafts]) =>
    drafts.map(({ runId, accepted, sent }, i): Message => ({
      runId,
      // Ties in acceptedAt are broken by batchId.
      batchId: `batch-${String(i).padStart(3, '0')}.0`,
      acceptedAt: at(60_000 + accepted * 1000),
      measurements: sent.map(([pick, reading]) => ({
        ...readings[pick % readings.length]!,
        reading,
      })),
    })),
  );

const paths = fc.constantFrom<Path>(
  { kind: 'run' },
  { kind: 'run', sensorId: 's-1' },
  { kind: 'sensor', sensorId: 's-0' },
);

const range = fc
  .tuple(
    fc.option(fc.integer({ min: -2_000, max: 22_000 }), { nil: undefined }),
    fc.option(fc.integer({ min: -2_000, max: 22_000 }), { nil: undefined }),
  )
  .map(([a, b]) => {
    const [from, to] = a !== undefined && b !== undefined && a > b ? [b, a] : [a, b];
    return {
      ...(from === undefined ? {} : { from: T0 + Math.max(0, from) }),
      ...(to === undefined ? {} : { to: T0 + Math.max(0, to) }),
    };
  });

describe('mergePacks', () => {
  it('pages hand out every reading once, in key order, the copy of the message accepted last', async () => {
    await fc.assert(
      fc.asyncProperty(
        messages,
        paths,
        range,
        fc.integer({ min: 1, max: 40 }),
        fc.constantFrom(1, 2, 5, Infinity),
        fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 8 }),
        async (sent, path, bounds, limit, maxCalls, cuts) => {
          let call = 0;
          const cut = () => cuts[call++ % cuts.length]!;
          const { pages, got, packReadings, stored } = await pageThrough(sent, path, {
            ...bounds,
            limit,
            maxCalls,
            cut,
          });
          expect(got).toEqual(expectedReadings(sent, path, bounds));
          expect(pages.every((page) => page.length <= limit)).toBe(true);
          // A full read counts every stored copy once (the run reports' stored count).
          if (bounds.from === undefined && bounds.to === undefined && path.kind === 'sensor') {
            expect(packReadings).toBe(stored);
          }
          if (bounds.from === undefined && bounds.to === undefined && path.sensorId === undefined) {
            expect(packReadings).toBe(stored);
          }
          // Without a bound on calls every page but the last is full.
          if (maxCalls === Infinity) {
            expect(pages.slice(0, -1).every((page) => page.length === limit)).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  }, 60_000);

  it('does not hand out a reading equal to a frontier: another pack may start with it', async () => {
    // One sensor: a reading before the range, then the same reading first in two messages'
    // packs. A page of one reads the first two packs, so its frontier is that very reading.
    const reading = (ms: number, value: number): QueueMeasurement => ({
      sensorId: 's-0',
      type: 'temperature',
      timestamp: at(ms),
      reading: value,
    });
    const sent: Message[] = [
      { runId: RUN, batchId: 'batch-000.0', acceptedAt: at(0), measurements: [reading(0, 1)] },
      { runId: RUN, batchId: 'batch-001.0', acceptedAt: at(1), measurements: [reading(4000, 2)] },
      { runId: RUN, batchId: 'batch-002.0', acceptedAt: at(2), measurements: [reading(4000, 3)] },
    ];
    const path: Path = { kind: 'sensor', sensorId: 's-0' };
    const { got } = await pageThrough(sent, path, { from: T0 + 4000, limit: 1, maxCalls: 5 });
    expect(got).toEqual([[`${at(4000)}#${RUN}#temperature`, 3]]);
  });

  it('gets somewhere on a page that starts with a long pack among many short ones before the range', async () => {
    // A pack of 50 readings over 4.9 s, and 400 packs of one reading each inside it (one per
    // message); the range starts where the long pack's last readings are.
    const long: Message = {
      runId: RUN,
      batchId: 'batch-long.0',
      acceptedAt: at(0),
      measurements: Array.from({ length: 50 }, (_, i) => ({
        sensorId: 's-0',
        type: 'temperature',
        timestamp: at(i * 100),
        reading: i,
      })),
    };
    const short = Array.from({ length: 400 }, (_, i): Message => ({
      runId: RUN,
      batchId: `batch-${String(i).padStart(4, '0')}.0`,
      acceptedAt: at(0),
      measurements: [{ sensorId: 's-0', type: 'humidity', timestamp: at(1 + i * 10), reading: -i }],
    }));
    const sent = [long, ...short];
    const path: Path = { kind: 'sensor', sensorId: 's-0' };
    const from = T0 + 4_500;
    const { pages, got } = await pageThrough(sent, path, { from, limit: 2, maxCalls: 1 });
    expect(got).toEqual(expectedReadings(sent, path, { from }));
    expect(got).toHaveLength(5);
    expect(pages.length).toBeLessThanOrEqual(5);
  });

  it('a continuation hands out every reading after its cursor, whatever was stored since', async () => {
    await fc.assert(
      fc.asyncProperty(
        messages,
        messages,
        paths,
        fc.integer({ min: 1, max: 20 }),
        fc.constantFrom(1, 5, Infinity),
        fc.integer({ min: 1, max: 6 }),
        async (early, lateDrafts, path, limit, maxCalls, afterPage) => {
          // Later messages: other batch ids, accepted after the early ones.
          const late = lateDrafts.map((m, i) => ({
            ...m,
            batchId: `late-${String(i).padStart(3, '0')}.0`,
            acceptedAt: at(120_000 + i),
          }));
          const { got, lateAfter } = await pageThrough(early, path, {
            limit,
            maxCalls,
            late: { afterPage, messages: late },
          });
          if (lateAfter === undefined) {
            // Paged through before the late messages were stored.
            expect(got).toEqual(expectedReadings(early, path, {}));
            return;
          }
          const before = expectedReadings(early, path, {}).filter(([key]) => key <= lateAfter);
          const after = expectedReadings([...early, ...late], path, {}).filter(
            ([key]) => key > lateAfter,
          );
          expect(got).toEqual([...before, ...after]);
        },
      ),
      { numRuns: 300 },
    );
  }, 60_000);

  it('finds a reading stored after a page below where that page read to (the issue 19 case)', async () => {
    // A@T and A@T+2s stored; a page of one hands out A@T; B@T+1s is stored; the next page holds
    // B@T+1s and A@T+2s. Reading on from the lowest pack still pending missed B.
    const one = (batchId: string, sensorId: string, ms: number): Message => ({
      runId: RUN,
      batchId,
      acceptedAt: at(ms),
      measurements: [{ sensorId, type: 'temperature', timestamp: at(ms), reading: ms }],
    });
    const { got } = await pageThrough(
      [one('batch-a0.0', 'a', 0), one('batch-a2.0', 'a', 2000)],
      {
        kind: 'run',
      },
      { limit: 1, maxCalls: 50, late: { afterPage: 1, messages: [one('batch-b1.0', 'b', 1000)] } },
    );
    expect(got.map(([, reading]) => reading)).toEqual([0, 1000, 2000]);
  });

  it("reads again the packs of one pack span before a page's cursor, not its whole past", async () => {
    // 2,000 packs of one reading, one every 9 ms (18 s), read 20 readings a page: the costliest
    // shape, where a span holds some 556 packs.
    const sent = Array.from({ length: 2000 }, (_, i): Message => ({
      runId: RUN,
      batchId: `batch-${String(i).padStart(4, '0')}.0`,
      acceptedAt: at(0),
      measurements: [{ sensorId: 's-0', type: 'temperature', timestamp: at(i * 9), reading: i }],
    }));
    const perSpan = Math.ceil(PACK_SPAN_MS / 9) + 1;
    for (const path of [{ kind: 'run' }, { kind: 'sensor', sensorId: 's-0' }] as Path[]) {
      const maxCalls = path.kind === 'run' ? 5 * RUN_PARTITIONS : 5;
      const { got, returned } = await pageThrough(sent, path, { limit: 20, maxCalls });
      expect(got).toHaveLength(2000);
      // The span, what the page hands out, and what its last calls read past it.
      expect(Math.max(...returned), path.kind).toBeLessThanOrEqual(2 * perSpan + returned[0]!);
      // Past the first span, pages do read the span again: the price of the promise above.
      expect(Math.max(...returned)).toBeGreaterThan(perSpan / 2);
    }
  });
});
