/**
 * Merging streams of reading packs into pages of readings: exact, in key order, each reading
 * once. Every access path of the reader (shared/measurement-query.ts) goes through it: a stream
 * is the partition of one run and sensor, in packKey order; a run's sensors are merged by
 * readingKey, a sensor's runs by sensorKey (shared/directory-merge.ts picks them). Pure apart
 * from the `read` it is given.
 *
 * The frontier: a stream's packs come in key order, and every reading of a pack sorts at or
 * after its key's reading part, so a stream read through pack p holds no unread reading below
 * the key of p's first reading (frontierOf), but may hold one equal to it (another message's pack that starts with the
 * same reading). A reading is handed out only once it lies strictly below that of every open
 * stream: by then every copy of it has been read, and the one handed out is the superseding one.
 *
 * Resuming: a page that stops early names the last reading it handed out; the next page drops it
 * and everything below, and reads from the first pack key that can hold a reading above it: a
 * pack span before it (packLowerBound). That bound depends on the last reading alone, not on what
 * was stored when the page was read, so a pack stored later below the page's read positions (a
 * message SQS delivered late) is still read: a cursor means "every reading after this one", as
 * DynamoDB's LastEvaluatedKey does. The price is the packs of one span before the last reading,
 * read again by each page (docs/api.md states it per page, measured by the bench's read-back).
 *
 * Progress: a page ends at its bound on calls only once it has handed out a reading; the next
 * page would otherwise start where it did and end where it did (a long pack read first, its
 * readings in range only after many short packs whose readings are not, as at a range's `from`):
 * past the bound it reads on, doubling its `Limit`.
 *
 * Counting: over a full read (every reading wanted), each stored pack is counted once, on the
 * page that hands out its first reading (all packs starting at a reading are read before it is
 * handed out). The run reports compare that count with what the edge accepted.
 */
import { firstReadingOf, supersedes, unpack, type PackedReading } from './reading-pack.ts';

/**
 * One call on a stream: up to `limit` packs in key order, after `startKey` (a `lastKey` this
 * returned before) or from the page's lower bound; no `lastKey` once the stream is exhausted.
 */
export type ReadPacks = (
  stream: string,
  limit: number,
  startKey: Record<string, unknown> | undefined,
) => Promise<{ packs: Record<string, unknown>[]; lastKey?: Record<string, unknown> }>;

export interface MergeOptions {
  streams: readonly string[];
  read: ReadPacks;
  /** The key readings are ordered and told apart by: readingKey in a run, sensorKey by sensor. */
  keyOf: (reading: PackedReading) => string;
  /**
   * The keyOf of the first reading of the pack keyed `packKey` on `stream`; its reading part
   * (firstReadingOf) when readings are ordered by readingKey.
   */
  frontierOf?: (stream: string, packKey: string) => string;
  /** Whether a reading belongs on the page (the time range); the others are dropped. */
  wanted: (reading: PackedReading) => boolean;
  /** The last reading the previous page handed out: it and every reading below are dropped. */
  after: string;
  limit: number;
  /** Calls of `read` for the page, unless it has made no progress by then (see above). */
  maxCalls: number;
  /** The pack key the page reads from (the key condition's lower bound), if any. */
  lowerBound?: string;
}

export interface MergedPage {
  /** At most `limit` readings in key order. */
  readings: PackedReading[];
  /** Where the next page resumes; absent once every stream and every reading is through. */
  resume?: { after: string };
  /**
   * Readings of the packs whose first reading the page handed out, every copy counted (a reading
   * re-sent in another message is in two packs): summed over the pages of a full read, what the
   * table holds (see Counting above).
   */
  packReadings: number;
}

interface Stream {
  name: string;
  /** The next call's start key: the previous call's lastKey. */
  startKey?: Record<string, unknown>;
  /** Sort key of the last pack read; no unread pack sorts at or below it. */
  readThrough?: string;
  done: boolean;
  /** Packs read on the stream by this page. */
  packs: number;
}

const least = (keys: readonly string[]): string => keys.reduce((a, b) => (b < a ? b : a));

/** The instant a key starts with (every key starts with a canonical timestamp). */
const timeOf = (key: string): number => Date.parse(key.slice(0, 24));

/**
 * Readings per pack assumed before the page has read one. Guessed high, a page of one-reading
 * packs takes a second round of calls; guessed at 1, a page of packs of 5 read 6 times what it
 * handed out (and the next page read most of it again).
 */
const FIRST_GUESS_READINGS_PER_PACK = 4;

export const mergePacks = async (options: MergeOptions): Promise<MergedPage> => {
  const { keyOf, limit } = options;
  const firstKeyOf =
    options.frontierOf ?? ((_stream: string, packKey: string) => firstReadingOf(packKey));
  const streams: Stream[] = options.streams.map((name) => ({ name, done: false, packs: 0 }));
  const pending = new Map<string, PackedReading>();
  /** Readings of the packs read that start at a reading not handed out yet, by that reading. */
  const startingAt = new Map<string, number>();
  let packReadings = 0;
  const out: PackedReading[] = [];
  let calls = 0;
  /** Doubles with every round past `maxCalls`. */
  let boost = 1;
  let packsRead = 0;
  let readingsKept = 0;

  /** Readings below it are all read on the stream; '' before its first read (nothing is). */
  const frontierOf = (stream: Stream) =>
    stream.readThrough === undefined ? '' : firstKeyOf(stream.name, stream.readThrough);

  /**
   * Packs a stream still holds up to `after`, estimated from how far in time its packs read so
   * far got from the page's lower bound: a continuation reads a span of packs again before its
   * first new reading, in one or two calls rather than many small ones.
   */
  const stillBelow = (stream: Stream): number => {
    if (stream.readThrough === undefined || options.lowerBound === undefined) return 0;
    const through = timeOf(stream.readThrough);
    const remaining = timeOf(options.after) - through;
    if (!(remaining > 0)) return 0;
    const covered = Math.max(1, through - timeOf(options.lowerBound));
    return Math.ceil((stream.packs * remaining) / covered);
  };

  const read = async (stream: Stream) => {
    // `limit` counts packs. Ask a stream for its share of the readings still missing, with room
    // for streams that hold more than their share, in packs of the size seen so far (each pack
    // holds one reading at least); one more, as the last pack read only moves the frontier.
    const missing = limit - out.length;
    const share = Math.min(missing, Math.ceil((1.25 * missing) / streams.length) + 5);
    // Until a pack is read their size is a guess; what a page reads and does not hand out, the
    // next page reads again.
    const perPack =
      packsRead === 0 ? FIRST_GUESS_READINGS_PER_PACK : Math.max(1, readingsKept / packsRead);
    const packLimit = boost * (Math.ceil(share / perPack) + 1 + stillBelow(stream));
    const { packs, lastKey } = await options.read(stream.name, packLimit, stream.startKey);
    for (const pack of packs) {
      packsRead++;
      const readings = unpack(pack);
      const first = readings[0] === undefined ? undefined : keyOf(readings[0]);
      if (first !== undefined && first > options.after) {
        startingAt.set(first, (startingAt.get(first) ?? 0) + readings.length);
      }
      for (const reading of readings) {
        const key = keyOf(reading);
        if (key <= options.after || !options.wanted(reading)) continue;
        readingsKept++;
        const held = pending.get(key);
        if (held === undefined || supersedes(reading, held)) pending.set(key, reading);
      }
    }
    stream.packs += packs.length;
    stream.startKey = lastKey;
    if (lastKey === undefined) stream.done = true;
    else stream.readThrough = String(lastKey.packKey);
  };

  for (;;) {
    const open = streams.filter((stream) => !stream.done);
    const frontier = open.length === 0 ? undefined : least(open.map(frontierOf));
    const sorted = [...pending.keys()].sort();
    const ready = sorted
      .filter((key) => frontier === undefined || key < frontier)
      .slice(0, limit - out.length);
    for (const key of ready) {
      out.push(pending.get(key)!);
      pending.delete(key);
      packReadings += startingAt.get(key) ?? 0;
      startingAt.delete(key);
    }
    if (out.length >= limit || open.length === 0) break;
    // The streams that hold back the readings the page still needs, buffered readings or not:
    // those read up to the last of them at most, or every open stream when fewer are pending.
    // The streams at the frontier are among them (else those readings would be ready).
    const needed = sorted[ready.length + limit - out.length - 1];
    const behind = open.filter((stream) => needed === undefined || frontierOf(stream) <= needed);
    // The first round reads every stream whatever the bound: it gives each a read position.
    if (calls > 0 && calls + behind.length > options.maxCalls) {
      if (out.length > 0) break;
      boost *= 2;
    }
    calls += behind.length;
    await Promise.all(behind.map(read));
  }

  if (streams.every((stream) => stream.done) && pending.size === 0) {
    return { readings: out, packReadings };
  }
  // The loop ends with a reading handed out unless every stream is through.
  const last = out.at(-1);
  return {
    readings: out,
    resume: { after: last === undefined ? options.after : keyOf(last) },
    packReadings,
  };
};
