/**
 * Writing the directory (shared/sensor-directory.ts) before the packs that need it: a reader that
 * finds a pack finds its run and sensor listed. An entry says only "this run has this sensor in
 * this period" (ten minutes), and its content follows from its key, so the container remembers
 * the entries it has written and writes each once; another container writes it again once, which
 * changes nothing (a conditional put would cost the same write unit when it fails, and a round
 * trip more). So a run's sensor costs two write units a period per consumer container that
 * stores it, however many packs it has.
 *
 * The entries records ask for in the same turn of the event loop go out together (records of a
 * batch are processed in parallel); when that write fails, each record writes its own entries
 * alone, so a record fails only for its own (as services/ingest-consumer/shared-writes.ts does
 * for packs). A record waits for every entry it needs, also one another record asked for first.
 * A write that fails is forgotten, so the next record asking writes it again; the records that
 * waited for it fail and come again.
 */
import { directoryEntryKey, type DirectoryEntry } from '#shared/sensor-directory.ts';
import type { MeasurementStore, WriteContext } from './store.ts';

/**
 * Entries a container remembers, two per run's sensor and period: a container storing a hundred
 * sensors of five runs for three hours remembers them all (a few MB at most).
 */
export const DIRECTORY_MEMORY = 20_000;

export interface DirectoryRecorder {
  /** Resolves once every entry is stored, written now or before. */
  record(entries: readonly DirectoryEntry[], context: WriteContext): Promise<void>;
}

interface Request {
  entries: readonly DirectoryEntry[];
  context: WriteContext;
  resolve(): void;
  reject(error: unknown): void;
}

export class DirectoryWriter implements DirectoryRecorder {
  /** Entries written or being written, oldest first. */
  private readonly written = new Map<string, Promise<void>>();
  private waiting: Request[] = [];

  constructor(
    private readonly store: Pick<MeasurementStore, 'putDirectory'>,
    private readonly memory = DIRECTORY_MEMORY,
  ) {}

  async record(entries: readonly DirectoryEntry[], context: WriteContext): Promise<void> {
    const waits: Promise<void>[] = [];
    const fresh: DirectoryEntry[] = [];
    for (const entry of entries) {
      const held = this.written.get(directoryEntryKey(entry));
      if (held === undefined) fresh.push(entry);
      else waits.push(held);
    }
    if (fresh.length > 0) {
      const writing = this.enqueue(fresh, context);
      for (const entry of fresh) this.remember(directoryEntryKey(entry), writing);
      writing.catch(() => {
        for (const entry of fresh) {
          const key = directoryEntryKey(entry);
          if (this.written.get(key) === writing) this.written.delete(key);
        }
      });
      waits.push(writing);
    }
    await Promise.all(waits);
  }

  private remember(key: string, writing: Promise<void>): void {
    this.written.set(key, writing);
    if (this.written.size > this.memory) {
      const [oldest] = this.written.keys();
      if (oldest !== undefined) this.written.delete(oldest);
    }
  }

  /** Writes the entries with those the other records ask for in this turn of the event loop. */
  private enqueue(entries: readonly DirectoryEntry[], context: WriteContext): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.waiting.length === 0) setImmediate(() => void this.flush());
      this.waiting.push({ entries, context, resolve, reject });
    });
  }

  private async flush(): Promise<void> {
    const requests = this.waiting;
    this.waiting = [];
    const alone = (request: Request) =>
      this.store
        .putDirectory(request.entries, request.context)
        .then(request.resolve, request.reject);
    const [first] = requests;
    if (requests.length === 1 && first) return alone(first);
    try {
      await this.store.putDirectory(
        requests.flatMap((request) => request.entries),
        (first as Request).context,
      );
    } catch {
      await Promise.all(requests.map(alone));
      return;
    }
    for (const request of requests) request.resolve();
  }
}
