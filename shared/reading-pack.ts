/**
 * How readings are stored: in packs. A pack holds the readings of one queue message for one
 * sensor (all its types), in key order, within PACK_SPAN_MS of its first. Stored a row per
 * reading, every reading cost a write unit; a pack of a few dozen readings costs one. A sensor,
 * not a sensor and type: a client sends a sensor's types together (the front end's `{sensorId,
 * temperature, humidity, pressure}`), so a batch holds few readings of one type of a sensor and
 * several of the sensor.
 *
 * Item key design of the sensorData table (partition `runPartition`, sort `packKey`; no index):
 *
 *   runPartition = <runId>#<sensorId>                    (sensorPartition)
 *   packKey      = <readingKey of the first reading>!<batchId>
 *
 * - A run's packs lie in one partition per sensor, each in time order: a query of a run and a
 *   sensor reads its one partition; a query of a run merges the partitions of its sensors, and
 *   one of a sensor those of its runs, which the directory names (shared/sensor-directory.ts,
 *   written before the packs). No index: a pack costs one write unit, not two.
 * - A message is packed the same way at every delivery (its batchId is fixed at the edge), so a
 *   redelivered message overwrites its packs. Readings within a message are distinct (duplicates
 *   are dropped, the last one wins), so the first readingKey names the pack within its message.
 * - Within a pack (and a partition), reading keys and sensor keys sort alike (run and sensor are
 *   the partition's), by timestamp, then type, then id.
 * - `!` sorts below every character of a reading key, so packs sort as their first readings do;
 *   a pack's readings all sort at or after its key's reading part, and lie within PACK_SPAN_MS of
 *   its start: a time range [from, to] finds every pack it needs among keys from `from −
 *   PACK_SPAN_MS` to `to`.
 * - One reading sent twice in two requests (a retry without an Idempotency-Key) lands in two
 *   packs. Readers merge packs by reading key and keep one copy, the one of the message accepted
 *   last, as the later of two row writes would have won (supersedes below).
 */
import {
  readingKey,
  sensorKey,
  sensorPartition,
  type MeasurementView,
  type QueueMeasurement,
  type QueueMessage,
} from './measurement.ts';

/** Longest time from a pack's first reading to its last. */
export const PACK_SPAN_MS = 5_000;
/** Most readings in one pack: a pack stays a few KB, and a page of packs a few thousand readings. */
export const PACK_MAX_READINGS = 100;

/** Sorts below every character a reading key holds (it uses `#` and SAFE_ID). */
const PACK_SEPARATOR = '!';

/** A stored item of the sensorData table. */
export interface ReadingPack {
  runPartition: string;
  packKey: string;
  runId: string;
  sensorId: string;
  /** The pack's types, in order. */
  types: string[];
  /** Per reading its type's place in `types`; absent when the pack has one type. */
  typeIndex?: number[];
  user: string;
  batchId: string;
  /** When the edge accepted the message (canonical ISO): of two copies of a reading, the later wins. */
  acceptedAt: string;
  /** Milliseconds from the first reading's timestamp, one per reading, ascending. */
  offsets: number[];
  values: number[];
  /** Per reading its id, '' for none; absent when no reading of the pack has one. */
  ids?: string[];
  /** TTL attribute (epoch seconds), counted from the pack's last reading. */
  expiresAt: number;
}

/** One reading out of a pack, with the keys readers order it by. */
export interface PackedReading extends MeasurementView {
  readingKey: string;
  sensorKey: string;
  acceptedAt: string;
  batchId: string;
}

/**
 * Where the consumer keeps packs the table refused for good (services/ingest-consumer/items.ts),
 * in the same table: no partition of a run's sensor starts with `parked#`, so no query path sees
 * them.
 */
export const parkedPartition = (runId: string): string => `parked#${runId}`;

const packKeyOf = (first: string, batchId: string) => `${first}${PACK_SEPARATOR}${batchId}`;

/** The reading part of a pack key: every reading of the pack sorts at or after it. */
export const firstReadingOf = (packKey: string): string =>
  packKey.slice(0, packKey.lastIndexOf(PACK_SEPARATOR));

/** The earliest pack key that may hold a reading at `epochMs` or later. */
export const packLowerBound = (epochMs: number): string =>
  new Date(Math.max(0, epochMs - PACK_SPAN_MS)).toISOString();

/**
 * Packs of a message. Readings are grouped by sensor, ordered by key, and cut into packs at
 * PACK_SPAN_MS or PACK_MAX_READINGS.
 */
export const packsOf = (
  message: Pick<QueueMessage, 'runId' | 'user' | 'batchId' | 'acceptedAt' | 'measurements'>,
  retentionDays: number,
): ReadingPack[] => {
  const distinct = new Map<string, QueueMeasurement>();
  for (const m of message.measurements) distinct.set(readingKey(m), m);
  const series = new Map<string, [string, QueueMeasurement][]>();
  for (const entry of distinct) {
    const [, m] = entry;
    const readings = series.get(m.sensorId) ?? [];
    readings.push(entry);
    series.set(m.sensorId, readings);
  }
  const packs: ReadingPack[] = [];
  for (const readings of series.values()) {
    readings.sort(([a], [b]) => (a < b ? -1 : 1));
    let current: { pack: ReadingPack; startMs: number } | undefined;
    for (const [key, m] of readings) {
      const ms = Date.parse(m.timestamp);
      if (
        current === undefined ||
        ms - current.startMs > PACK_SPAN_MS ||
        current.pack.values.length >= PACK_MAX_READINGS
      ) {
        current = { pack: newPack(message, key, m), startMs: ms };
        packs.push(current.pack);
      }
      const { pack, startMs } = current;
      pack.offsets.push(ms - startMs);
      pack.values.push(m.reading);
      let type = pack.types.indexOf(m.type);
      if (type < 0) type = pack.types.push(m.type) - 1;
      const typeIndex = pushSparse(pack.typeIndex, type, 0, pack.values.length - 1);
      if (typeIndex) pack.typeIndex = typeIndex;
      const ids = pushSparse(pack.ids, m.id ?? '', '', pack.values.length - 1);
      if (ids) pack.ids = ids;
      pack.expiresAt = Math.floor(ms / 1000) + retentionDays * 86_400;
    }
  }
  return packs;
};

/**
 * Appends a reading's entry to a per-reading list that is kept only once some reading differs
 * from `usual` (the `before` readings already in the pack then get `usual`); absent till then.
 */
const pushSparse = <T>(list: T[] | undefined, value: T, usual: T, before: number) => {
  if (list === undefined && value === usual) return undefined;
  const entries = list ?? Array<T>(before).fill(usual);
  entries.push(value);
  return entries;
};

const newPack = (
  message: Pick<QueueMessage, 'runId' | 'user' | 'batchId' | 'acceptedAt'>,
  key: string,
  m: QueueMeasurement,
): ReadingPack => {
  return {
    runPartition: sensorPartition(message.runId, m.sensorId),
    packKey: packKeyOf(key, message.batchId),
    runId: message.runId,
    sensorId: m.sensorId,
    types: [m.type],
    user: message.user,
    batchId: message.batchId,
    acceptedAt: message.acceptedAt,
    offsets: [],
    values: [],
    expiresAt: 0,
  };
};

/**
 * The readings of a pack, in key order. Takes an item as read back (a projection holding at least
 * the fields used here).
 */
export const unpack = (item: ReadingPack | Record<string, unknown>): PackedReading[] => {
  const pack = item as ReadingPack;
  const startMs = Date.parse(pack.packKey.slice(0, 24));
  return pack.offsets.map((offset, i) => {
    const id = pack.ids?.[i] || undefined;
    const type = pack.types[pack.typeIndex?.[i] ?? 0]!;
    const m = { sensorId: pack.sensorId, type, id };
    const timestamp = new Date(startMs + Number(offset)).toISOString();
    return {
      runId: pack.runId,
      sensorId: pack.sensorId,
      type,
      reading: Number(pack.values[i]),
      timestamp,
      user: pack.user,
      readingKey: readingKey({ ...m, timestamp }),
      sensorKey: sensorKey(pack.runId, { ...m, timestamp }),
      acceptedAt: pack.acceptedAt,
      batchId: pack.batchId,
    };
  });
};

/** A batch id's request part and its message number (`<request>.<n>`), for ordering. */
const batchOrder = (batchId: string): [string, number] => {
  const dot = batchId.lastIndexOf('.');
  return [batchId.slice(0, dot), Number(batchId.slice(dot + 1))];
};

/**
 * Of two copies of one reading, whether `a` wins over `b`: the one of the message accepted last;
 * within one request, the one of its later message (as a later item of the request would).
 */
export const supersedes = (a: PackedReading, b: PackedReading): boolean => {
  if (a.acceptedAt !== b.acceptedAt) return a.acceptedAt > b.acceptedAt;
  const [requestA, numberA] = batchOrder(a.batchId);
  const [requestB, numberB] = batchOrder(b.batchId);
  return requestA !== requestB ? requestA > requestB : numberA > numberB;
};

/** The public view of a reading. */
export const toView = (r: PackedReading): MeasurementView => ({
  runId: r.runId,
  sensorId: r.sensorId,
  type: r.type,
  reading: r.reading,
  timestamp: r.timestamp,
  user: r.user,
});
