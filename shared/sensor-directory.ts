/**
 * The directory of the sensorData table: which sensors a run has, and which runs a sensor has,
 * ten minutes at a time. Packs lie in one partition per run and sensor (shared/reading-pack.ts),
 * so a query of a run merges the partitions of its sensors and a query of a sensor those of its
 * runs; the directory names them, without an index (an index costs a write unit per pack, the
 * directory two per run, sensor and period). Two small items per run, sensor and period, in the
 * same table:
 *
 *   runs of a sensor:   runPartition = runs#<sensorId>     packKey = <period>#<runId>
 *   sensors of a run:   runPartition = sensors#<runId>     packKey = <period>#<sensorId>
 *
 * `<period>` is the canonical ISO instant starting the period (DIRECTORY_PERIOD_MS) of a pack's
 * first reading, so a partition lists its members in time order: a reader takes the members of
 * the periods its readings may lie in and no others (chooseWindow). A run of a few minutes has
 * an entry or two per sensor; ten minutes keeps apart the runs a busy sensor has in an hour. No
 * partition of a run's sensor starts with a word, so no reader of packs meets these items.
 *
 * The consumer writes a pack's entries before the pack (services/ingest-consumer/directory.ts):
 * a reader that lists the directory after a pack was stored finds the pack's run and sensor, so
 * a continuation still hands out a reading stored late, whatever run or sensor it is of. An
 * entry's content follows from its key, so writing it twice changes nothing. Pure.
 */
import { toCanonicalTimestamp } from './measurement.ts';
import { PACK_SPAN_MS, type ReadingPack } from './reading-pack.ts';

/** The directory's unit of time: an entry says "this run has this sensor in this period". */
export const DIRECTORY_PERIOD_MS = 600_000;

/**
 * What a window takes beyond the periods it starts in (chooseWindow): no new member, so a page
 * reads the partitions that may hold its next readings and moves on window by window; and at
 * most six periods (an hour), so a page of a long run lists an hour of its directory, not all.
 */
export const WINDOW_LIMITS = { members: 0, periods: 6 } as const;

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

/** The start of the period `epochMs` lies in. */
export const periodOf = (epochMs: number): number =>
  epochMs - (((epochMs % DIRECTORY_PERIOD_MS) + DIRECTORY_PERIOD_MS) % DIRECTORY_PERIOD_MS);

/** A directory sort key's period part: every entry of the period sorts at or after it. */
export const periodKey = (epochMs: number): string => toCanonicalTimestamp(periodOf(epochMs));

/** Where an entry is stored and what names it. */
export const directoryEntryKey = (entry: Pick<DirectoryEntry, 'runPartition' | 'packKey'>) =>
  `${entry.runPartition}\n${entry.packKey}`;

/** The entries the packs need: for each pack's run, sensor and period, one of each kind. */
export const directoryEntriesOf = (
  packs: readonly Pick<ReadingPack, 'runId' | 'sensorId' | 'packKey'>[],
  retentionDays: number,
): DirectoryEntry[] => {
  const entries = new Map<string, DirectoryEntry>();
  for (const pack of packs) {
    const period = periodOf(Date.parse(pack.packKey.slice(0, 24)));
    // A pack's last reading lies within PACK_SPAN_MS of its first, which lies in the period.
    const expiresAt =
      Math.floor((period + DIRECTORY_PERIOD_MS + PACK_SPAN_MS) / 1000) + retentionDays * 86_400;
    const kinds: [string, string][] = [
      [sensorRunsPartition(pack.sensorId), pack.runId],
      [runSensorsPartition(pack.runId), pack.sensorId],
    ];
    for (const [runPartition, member] of kinds) {
      const entry: DirectoryEntry = {
        runPartition,
        packKey: `${toCanonicalTimestamp(period)}#${member}`,
        runId: pack.runId,
        sensorId: pack.sensorId,
        expiresAt,
      };
      entries.set(directoryEntryKey(entry), entry);
    }
  }
  return [...entries.values()];
};

/** A directory entry as a reader lists it: its period and its member (a run or a sensor). */
export interface Listed {
  period: number;
  member: string;
}

/** The member and period of an entry's sort key. */
export const listedOf = (packKey: string): Listed => ({
  period: Date.parse(packKey.slice(0, 24)),
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
 * period of `start − PACK_SPAN_MS` (a pack that started that long before may hold a reading at
 * `start`) in key order: every member of the periods up to the one of `start` (or up to the
 * first listed, if later), then of later periods as long as they bring at most `limits.members`
 * new ones, `limits.periods` periods at most. The window ends where the first period it does not
 * take starts: every reading before that instant is in a pack that started before it, whose
 * entry is listed. Reads the entries only that far.
 */
export const chooseWindow = async (
  entries: AsyncIterable<Listed>,
  start: number,
  limits: { members: number; periods: number },
): Promise<DirectoryWindow> => {
  const members = new Set<string>();
  let added = 0;
  /** Periods up to this one are taken whole, so the window gets past `start`. */
  let whole: number | undefined;
  for await (const { period, member } of entries) {
    whole ??= Math.max(periodOf(start), period);
    if (period > whole + limits.periods * DIRECTORY_PERIOD_MS) {
      return { members: [...members], until: period };
    }
    if (members.has(member)) continue;
    if (period > whole) {
      if (added >= limits.members) return { members: [...members], until: period };
      added++;
    }
    members.add(member);
  }
  return { members: [...members] };
};
