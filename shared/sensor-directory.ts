/**
 * The directory of the sensorData table: which sensors a run has, and which runs a sensor has,
 * hour by hour. Packs lie in one partition per run and sensor (shared/reading-pack.ts), so a
 * query of a run merges the partitions of its sensors and a query of a sensor those of its runs;
 * the directory names them, without an index (an index costs a write unit per pack, the
 * directory one per run, sensor and hour). Two small items per run, sensor and hour, in the same
 * table:
 *
 *   runs of a sensor:   runPartition = runs#<sensorId>     packKey = <hour>#<runId>
 *   sensors of a run:   runPartition = sensors#<runId>     packKey = <hour>#<sensorId>
 *
 * `<hour>` is the canonical ISO instant starting the hour of a pack's first reading, so a
 * partition lists its members in time order, hour by hour: a reader takes the members of the
 * hours its readings may lie in and no others (chooseWindow). No partition of a run's sensor
 * starts with a word, so no reader of packs meets these items.
 *
 * The consumer writes a pack's entries before the pack (services/ingest-consumer/directory.ts):
 * a reader that lists the directory after a pack was stored finds the pack's run and sensor, so
 * a continuation still hands out a reading stored late, whatever run or sensor it is of. An
 * entry's content follows from its key, so writing it twice changes nothing. Pure.
 */
import { toCanonicalTimestamp } from './measurement.ts';
import { PACK_SPAN_MS, type ReadingPack } from './reading-pack.ts';

/** The directory's unit of time: an entry says "this run has this sensor in this hour". */
export const DIRECTORY_HOUR_MS = 3_600_000;

/**
 * Members a window takes beyond those of the hour it starts in (chooseWindow): a page reads that
 * many partitions and those of one hour, not every run a sensor ever had.
 */
export const WINDOW_MEMBERS = 10;

/** An item of the directory, in the sensorData table. */
export interface DirectoryEntry {
  runPartition: string;
  packKey: string;
  runId: string;
  sensorId: string;
  /** TTL: no earlier than any pack the entry names, so no pack outlives its entry. */
  expiresAt: number;
}

export const sensorRunsPartition = (sensorId: string): string => `runs#${sensorId}`;
export const runSensorsPartition = (runId: string): string => `sensors#${runId}`;

/** The start of the hour `epochMs` lies in. */
export const hourOf = (epochMs: number): number =>
  epochMs - (((epochMs % DIRECTORY_HOUR_MS) + DIRECTORY_HOUR_MS) % DIRECTORY_HOUR_MS);

/** A directory sort key's hour part: every entry of the hour sorts at or after it. */
export const hourKey = (epochMs: number): string => toCanonicalTimestamp(hourOf(epochMs));

/** Where an entry is stored and what names it. */
export const directoryEntryKey = (entry: Pick<DirectoryEntry, 'runPartition' | 'packKey'>) =>
  `${entry.runPartition}\n${entry.packKey}`;

/** The entries the packs need: for each pack's run, sensor and hour, one of each kind. */
export const directoryEntriesOf = (
  packs: readonly Pick<ReadingPack, 'runId' | 'sensorId' | 'packKey'>[],
  retentionDays: number,
): DirectoryEntry[] => {
  const entries = new Map<string, DirectoryEntry>();
  for (const pack of packs) {
    const hour = hourOf(Date.parse(pack.packKey.slice(0, 24)));
    // A pack's last reading lies within PACK_SPAN_MS of its first, which lies in the hour.
    const expiresAt =
      Math.floor((hour + DIRECTORY_HOUR_MS + PACK_SPAN_MS) / 1000) + retentionDays * 86_400;
    const kinds: [string, string][] = [
      [sensorRunsPartition(pack.sensorId), pack.runId],
      [runSensorsPartition(pack.runId), pack.sensorId],
    ];
    for (const [runPartition, member] of kinds) {
      const entry: DirectoryEntry = {
        runPartition,
        packKey: `${toCanonicalTimestamp(hour)}#${member}`,
        runId: pack.runId,
        sensorId: pack.sensorId,
        expiresAt,
      };
      entries.set(directoryEntryKey(entry), entry);
    }
  }
  return [...entries.values()];
};

/** A directory entry as a reader lists it: its hour and its member (a run or a sensor). */
export interface Listed {
  hour: number;
  member: string;
}

/** The member and hour of an entry's sort key. */
export const listedOf = (packKey: string): Listed => ({
  hour: Date.parse(packKey.slice(0, 24)),
  member: packKey.slice(25),
});

export interface DirectoryWindow {
  /** The members whose partitions may hold a reading from the window's start until `until`. */
  members: string[];
  /** Readings at or after this instant are the next window's; absent: up to the range's end. */
  until?: number;
}

/**
 * The members of a window of readings from `start` on, out of the directory's entries from the
 * hour of `start − PACK_SPAN_MS` (a pack that started that long before may hold a reading at
 * `start`) in key order: every member of the hours up to the hour of `start` (or up to the first
 * listed hour, if later), then the members of later hours as long as they come to at most
 * `maxMembers`. The window ends where the first member that does not fit starts its hour: every
 * reading before that instant is in a pack that started before it, whose entry is listed. Reads
 * the entries only that far.
 */
export const chooseWindow = async (
  entries: AsyncIterable<Listed>,
  start: number,
  maxMembers: number,
): Promise<DirectoryWindow> => {
  const members = new Set<string>();
  /** Hours up to this one are taken whole, so the window gets past `start`. */
  let whole: number | undefined;
  for await (const { hour, member } of entries) {
    whole ??= Math.max(hourOf(start), hour);
    if (members.has(member)) continue;
    if (hour > whole && members.size >= maxMembers) return { members: [...members], until: hour };
    members.add(member);
  }
  return { members: [...members] };
};
