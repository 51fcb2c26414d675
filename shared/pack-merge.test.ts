import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  expectedAcrossLateStores,
  expectedReadings as expectedOf,
  messagesOf,
  type Message,
} from '#test/support/reading-messages.ts';
import { runOfPartition, sensorKeyOfReadingKey, type QueueMeasurement } from './measurement.ts';
import { mergePacks, type ReadPacks } from './pack-merge.ts';
import {
  firstReadingOf,
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

type Path = { kind: 'run'; sensorId?: string } | { kind: 'sensor'; sensorId: string };

/**
 * How a path sees the table: the partitions it merges (a run's sensors, a sensor's runs, or the
 * one of a run's sensor), each in packKey order, and its reading keys.
 */
const view = (messages: Message[], path: Path) => {
  const streams = new Map<string, ReadingPack[]>();
  for (const message of messages) {
    for (const pack of packsOf({ ...message, user: 'ana' }, 30)) {
      if (path.kind === 'run' && pack.runId !== RUN) continue;
      if (path.sensorId !== undefined && pack.sensorId !== path.sensorId) continue;
      const name = pack.runPartition;
      streams.set(name, [...(streams.get(name) ?? []), pack]);
    }
  }
  for (const packs of streams.values()) packs.sort((a, b) => (a.packKey < b.packKey ? -1 : 1));
  const keyOf = (r: PackedReading) => (path.kind === 'run' ? r.readingKey : r.sensorKey);
  const frontierOf =
    path.kind === 'run'
      ? undefined
      : (stream: string, packKey: string) =>
          sensorKeyOfReadingKey(firstReadingOf(packKey), runOfPartition(stream));
  return { streams, keyOf, frontierOf };
};

/**
 * A Query as DynamoDB answers it: packs between the bounds after the start key, `Limit` of them
 * or fewer when `cut` says the 1 MB ran out, a LastEvaluatedKey unless the packs ran out first.
 * Counts the packs it returns.
 */
const fakeQuery = (
  streams: Map<string, ReadingPack[]>,
  bounds: { lower?: string; upper?: string },
  cut: () => number,
): ReadPacks & { returned: number } => {
  const read = Object.assign(
    async (stream: string, limit: number, startKey: Record<string, unknown> | undefined) => {
      const packs = (streams.get(stream) ?? []).filter(
        (p) =>
          (bounds.lower === undefined || p.packKey >= bounds.lower) &&
          (bounds.upper === undefined || p.packKey <= bounds.upper) &&
          (startKey === undefined || p.packKey > String(startKey.packKey)),
      );
      const size = Math.min(limit, cut());
      const evaluated = packs.slice(0, size);
      read.returned += evaluated.length;
      const last = evaluated.at(-1);
      return {
        packs: evaluated as unknown as Record<string, unknown>[],
        ...(last !== undefined && evaluated.length === size
          ? { lastKey: { packKey: last.packKey, runPartition: stream } }
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
): [string, number][] =>
  expectedOf(
    messages,
    path.kind === 'run'
      ? {
          runId: RUN,
          ...(path.sensorId === undefined ? {} : { sensorId: path.sensorId }),
          orderBy: 'readingKey',
        }
      : { sensorId: path.sensorId, orderBy: 'sensorKey' },
    range,
  );

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
  const { streams, keyOf, frontierOf } = view(messages, path);
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
      {
        ...(lower === undefined ? {} : { lower }),
        ...(upper === undefined ? {} : { upper }),
      },
      options.cut ?? (() => Infinity),
    );
    const page = await mergePacks({
      streams: [...streams.keys()],
      read,
      keyOf,
      ...(frontierOf === undefined ? {} : { frontierOf }),
      wanted: (r) =>
        (from === undefined || r.timestamp >= from) && (to === undefined || r.timestamp <= to),
      after: resume?.after ?? `${from ?? at(-T0)}#`,
      limit: options.limit,
      maxCalls: options.maxCalls,
      ...(lower === undefined ? {} : { lowerBound: lower }),
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

const messages = messagesOf(
  taken,
  [RUN, RUN, OTHER_RUN],
  (accepted) => at(60_000 + accepted * 1000),
  {
    maxMessages: 6,
    maxReadings: 80,
  },
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
      // One sensor of one run: one partition on either path.
      const maxCalls = 5;
      const { got, returned } = await pageThrough(sent, path, { limit: 20, maxCalls });
      expect(got).toHaveLength(2000);
      // The span, what the page hands out, and what its last calls read past it.
      expect(Math.max(...returned), path.kind).toBeLessThanOrEqual(2 * perSpan + returned[0]!);
      // Past the first span, pages do read the span again: the price of the promise above.
      expect(Math.max(...returned)).toBeGreaterThan(perSpan / 2);
    }
  });
});
