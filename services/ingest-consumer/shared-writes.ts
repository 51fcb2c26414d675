/**
 * Rows of the records of one batch written together. Records are processed in parallel and each
 * asks the store for its own rows; asked alone, a batch of ten one-reading messages makes ten
 * BatchWriteItem calls of one row. Here the rows of records smaller than a chunk, asked for in
 * the same turn of the event loop, go out as one list (chunks of 25, keys made distinct), and
 * each record learns its own outcome.
 *
 * When the shared write fails, every record writes its own rows again on its own, so a record
 * whose rows cannot be written fails alone, as it would without sharing (rows are idempotent by
 * key: writing one twice is harmless).
 */
import type { ReadingPack } from '#shared/reading-pack.ts';
import { BATCH_WRITE_LIMIT } from './items.ts';
import type { MeasurementStore, RefusedRow, WriteContext } from './store.ts';

interface Request {
  items: readonly ReadingPack[];
  context: WriteContext;
  resolve(refused: RefusedRow[]): void;
  reject(error: unknown): void;
}

const keyOf = (item: ReadingPack) => `${item.runPartition}\n${item.packKey}`;

export class SharedWritesStore implements MeasurementStore {
  private waiting: Request[] = [];

  constructor(private readonly inner: MeasurementStore) {}

  putAll(items: readonly ReadingPack[], context: WriteContext): Promise<RefusedRow[]> {
    // A record of a chunk or more fills its own calls; shared, it would only queue behind the
    // others (the store writes a few chunks at a time): batches of 100 readings stored 17 %
    // slower on the bench that way.
    if (items.length >= BATCH_WRITE_LIMIT) return this.inner.putAll(items, context);
    return new Promise((resolve, reject) => {
      if (this.waiting.length === 0) setImmediate(() => void this.flush());
      this.waiting.push({ items, context, resolve, reject });
    });
  }

  park: MeasurementStore['park'] = (rows, context) => this.inner.park(rows, context);

  putDirectory: MeasurementStore['putDirectory'] = (entries, context) =>
    this.inner.putDirectory(entries, context);

  private async flush(): Promise<void> {
    const requests = this.waiting;
    this.waiting = [];
    const [first] = requests;
    if (requests.length === 1 && first) return this.writeAlone(first);
    // The last row of a key wins, as with successive writes; each key is written once.
    const rows = new Map<string, ReadingPack>();
    for (const request of requests) for (const item of request.items) rows.set(keyOf(item), item);
    let refused: RefusedRow[];
    try {
      refused = await this.inner.putAll([...rows.values()], (first as Request).context);
    } catch {
      await Promise.all(requests.map((request) => this.writeAlone(request)));
      return;
    }
    const reasons = new Map(refused.map(({ item, reason }) => [keyOf(item), reason]));
    for (const request of requests) {
      request.resolve(
        request.items.flatMap((item) => {
          const reason = reasons.get(keyOf(item));
          return reason === undefined ? [] : [{ item, reason }];
        }),
      );
    }
  }

  private writeAlone(request: Request): Promise<void> {
    return this.inner.putAll(request.items, request.context).then(request.resolve, request.reject);
  }
}
