/**
 * Writing the directory (shared/sensor-directory.ts) before the packs that need it: a reader that
 * finds a pack finds its run and sensor listed. An entry says only "this run has this sensor in
 * this period" (ten minutes), and its content follows from its key, so the container remembers
 * the entries it has stored and stores each once. Another container (up to a hundred consume a
 * queue in prod) first reads whether the table holds them: an eventually consistent read of an
 * entry costs half a read unit, a tenth of the price of the write unit a put costs — also a
 * conditional put that fails. An entry the read misses (just written elsewhere) is written again,
 * which changes nothing; one the read finds is stored, so its packs may follow. So a run's sensor
 * costs two write units a period, and a read of half a unit per entry for each further container
 * that stores its packs, however many packs it has.
 *
 * The entries records ask for in the same turn of the event loop go out together (records of a
 * batch are processed in parallel); when that write fails, each record writes its own entries
 * alone, so a record fails only for its own (as services/ingest-consumer/shared-writes.ts does
 * for packs). A record waits for every entry it needs, also one another record asked for first.
 * A write that fails is forgotten, so the next record asking writes it again; the records that
 * waited for it fail and come again.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetAll } from '#shared/run-store.ts';
import { directoryEntryKey, type DirectoryEntry } from '#shared/sensor-directory.ts';
import type { MeasurementStore, WriteContext } from './store.ts';

/**
 * Entries a container remembers, two per run's sensor and period: a container storing a hundred
 * sensors of five runs for three hours remembers them all (a few MB at most).
 */
export const DIRECTORY_MEMORY = 20_000;

/** The keys (directoryEntryKey) of the entries the table holds already. */
export type FindListed = (entries: readonly DirectoryEntry[]) => Promise<Set<string>>;

/** FindListed on DynamoDB: BatchGetItem, eventually consistent, keys only. */
export const findListedIn =
  (client: DynamoDBDocumentClient, tableName: string): FindListed =>
  async (entries) => {
    const keys = entries.map(({ runPartition, packKey }) => ({ runPartition, packKey }));
    const found = await batchGetAll(client, tableName, keys, false, {
      ProjectionExpression: '#pk, #sk',
      ExpressionAttributeNames: { '#pk': 'runPartition', '#sk': 'packKey' },
    });
    return new Set(
      found.map((item) =>
        directoryEntryKey({
          runPartition: String(item.runPartition),
          packKey: String(item.packKey),
        }),
      ),
    );
  };

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
    private readonly findListed: FindListed,
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
    const all = requests.flatMap((request) => request.entries);
    // A read that fails only costs the writes it would have saved.
    const listed = await this.findListed(all).catch(() => new Set<string>());
    const missing = (entries: readonly DirectoryEntry[]) =>
      entries.filter((entry) => !listed.has(directoryEntryKey(entry)));
    const put = async (entries: readonly DirectoryEntry[], context: WriteContext) => {
      if (entries.length > 0) await this.store.putDirectory(entries, context);
    };
    const alone = (request: Request) =>
      put(missing(request.entries), request.context).then(request.resolve, request.reject);
    const [first] = requests;
    if (requests.length === 1 && first) return alone(first);
    try {
      await put(missing(all), (first as Request).context);
    } catch {
      await Promise.all(requests.map(alone));
      return;
    }
    for (const request of requests) request.resolve();
  }
}
