/**
 * A page of a run's or a sensor's readings, through the directory (shared/sensor-directory.ts):
 * the directory names the partitions (a run's sensors, or a sensor's runs) period by period, and
 * the page merges them (shared/pack-merge.ts) window by window. Pure apart from the `list` and
 * `read` it is given.
 *
 * A window is the members of the periods a page starts in, then of later periods as long as they
 * bring no more than `windowLimits` allow (chooseWindow); it hands out its readings before
 * its `until` and leaves the rest to the next window, which starts at `until`. A page goes on to
 * the next window while it is not full, as long as it has read fewer than `maxStreams`
 * partitions or handed nothing out: a query of a sensor with a run an hour over months reads a
 * few runs a page, not all.
 *
 * The cursor stays what it is without the directory: the last reading handed out. A page lists
 * the directory again from the period of its cursor, so a continuation finds every reading that
 * sorts after the cursor, in a run or of a sensor listed since: the consumer writes entries
 * before their packs. Counting (packReadings) stays exact: a pack is counted on the window that
 * hands out its first reading, which is before the window's `until`.
 */
import { toCanonicalTimestamp } from './measurement.ts';
import { mergePacks, type MergedPage, type ReadPacks } from './pack-merge.ts';
import { PACK_SPAN_MS, packLowerBound, type PackedReading } from './reading-pack.ts';
import { chooseWindow, periodOf, type Listed } from './sensor-directory.ts';

/** Pack-key bounds of the Queries of a window, both included; absent: unbounded. */
export interface PackBounds {
  lower?: string;
  upper?: string;
}

export interface DirectoryMergeOptions {
  /** The directory's entries of periods `fromPeriod` to `toPeriod` (both included), in order. */
  list: (fromPeriod: number, toPeriod: number | undefined) => AsyncIterable<Listed>;
  /** The partition holding a member's packs. */
  streamOf: (member: string) => string;
  /** Reads the streams of a window within pack-key bounds. */
  readWithin: (bounds: PackBounds) => ReadPacks;
  keyOf: (reading: PackedReading) => string;
  frontierOf?: (stream: string, packKey: string) => string;
  /** The query's range, both ends included (epoch ms). */
  from?: number;
  to?: number;
  /** The last reading handed out before this page (or a key below the range's first). */
  after: string;
  /** Whether the page starts at `after` (a cursor, or `from`), else at the first reading. */
  startsAtAfter: boolean;
  limit: number;
  /** Calls per partition and window (mergePacks' bound on calls). */
  maxCallsPerStream: number;
  /** New members and periods a window takes beyond its first periods (chooseWindow). */
  windowLimits: { members: number; periods: number };
  /** Partitions read by a page before it stops at a window's end, once it has handed out any. */
  maxStreams: number;
}

/** The instant a key starts with (every key starts with a canonical timestamp). */
const timeOf = (key: string): number => Date.parse(key.slice(0, 24));

/** The lower of two upper bounds; absent ones are no bound. */
const lowerOf = (a: string | undefined, b: string | undefined) =>
  a === undefined ? b : b === undefined || a < b ? a : b;

export const mergeThroughDirectory = async (
  options: DirectoryMergeOptions,
): Promise<MergedPage> => {
  const { keyOf, limit } = options;
  const from = options.from === undefined ? undefined : toCanonicalTimestamp(options.from);
  const to = options.to === undefined ? undefined : toCanonicalTimestamp(options.to);
  const toPeriod = options.to === undefined ? undefined : periodOf(options.to);
  const readings: PackedReading[] = [];
  let packReadings = 0;
  let after = options.after;
  let streamsRead = 0;
  /** Readings before `start` are handed out (or before the range). */
  let start = options.startsAtAfter ? timeOf(after) : 0;
  /** Pack keys the window reads from: a pack span before `start`, or every one at first. */
  let lower = options.startsAtAfter ? packLowerBound(start) : undefined;
  for (;;) {
    const window = await chooseWindow(
      options.list(periodOf(Math.max(0, start - PACK_SPAN_MS)), toPeriod),
      start,
      options.windowLimits,
    );
    const until = window.until === undefined ? undefined : toCanonicalTimestamp(window.until);
    const upper = lowerOf(
      to === undefined ? undefined : `${to}$`,
      window.until === undefined ? undefined : `${toCanonicalTimestamp(window.until - 1)}$`,
    );
    const streams = window.members.map(options.streamOf);
    const merged = await mergePacks({
      streams,
      read: options.readWithin({
        ...(lower === undefined ? {} : { lower }),
        ...(upper === undefined ? {} : { upper }),
      }),
      keyOf,
      ...(options.frontierOf === undefined ? {} : { frontierOf: options.frontierOf }),
      // The next window hands out what lies at or after `until`, in order after these.
      wanted: (reading) =>
        (from === undefined || reading.timestamp >= from) &&
        (to === undefined || reading.timestamp <= to) &&
        (until === undefined || reading.timestamp < until),
      after,
      limit: limit - readings.length,
      maxCalls: options.maxCallsPerStream * streams.length,
      ...(lower === undefined ? {} : { lowerBound: lower }),
    });
    readings.push(...merged.readings);
    packReadings += merged.packReadings;
    streamsRead += streams.length;
    if (merged.resume !== undefined) return { readings, resume: merged.resume, packReadings };
    if (window.until === undefined) return { readings, packReadings };
    const last = readings.at(-1);
    if (last !== undefined) after = keyOf(last);
    if (readings.length >= limit || (readings.length > 0 && streamsRead >= options.maxStreams)) {
      return { readings, resume: { after }, packReadings };
    }
    start = window.until;
    lower = packLowerBound(start);
  }
};
