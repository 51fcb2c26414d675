/**
 * Writing packs to the sensorData table: the port and its DynamoDB implementation. BatchWriteItem
 * in chunks of 25; `UnprocessedItems` are retried with exponential backoff and full jitter, within
 * a bounded number of attempts and the invocation's remaining time. Rows still unprocessed make
 * the write fail, so the record fails and SQS delivers it again (writes are idempotent by key).
 *
 * A chunk DynamoDB refuses outright (ValidationException: no retry can change the answer) is
 * split in halves until the refused rows stand alone; the others are written, and the refused
 * rows are handed back so the consumer parks them instead of failing the whole message forever.
 */
import type { BatchWriteCommandInput, BatchWriteCommandOutput } from '@aws-sdk/lib-dynamodb';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { backoffDelay } from '#shared/backoff.ts';
import type { ReadingPack } from '#shared/reading-pack.ts';
import type { DirectoryEntry } from '#shared/sensor-directory.ts';
import { BATCH_WRITE_LIMIT, chunk, type ParkedRow } from './items.ts';

export interface WriteContext {
  /** Milliseconds the invocation has left (`context.getRemainingTimeInMillis`). */
  remainingMs(): number;
  /** Called before each retry of unprocessed rows. */
  onRetry(unprocessed: number): void;
}

/** A row DynamoDB refused for good, and its answer. */
export interface RefusedRow {
  item: ReadingPack;
  reason: string;
}

export interface MeasurementStore {
  /**
   * Writes every row DynamoDB accepts and returns the ones it refuses for good; throws when
   * rows remain unwritten for a reason a later attempt may fix (throttling, time, a fault).
   */
  putAll(items: readonly ReadingPack[], context: WriteContext): Promise<RefusedRow[]>;
  /** Keeps refused rows where an operator finds them (see ParkedRow); throws if it cannot. */
  park(rows: readonly ParkedRow[], context: WriteContext): Promise<void>;
  /** Writes directory entries (shared/sensor-directory.ts); throws if any remains unwritten. */
  putDirectory(entries: readonly DirectoryEntry[], context: WriteContext): Promise<void>;
}

/** DynamoDB's answer to a request it will never accept as it is (bad number, size, key). */
const isRefusal = (error: unknown): error is Error =>
  error instanceof Error && error.name === 'ValidationException';

export class UnprocessedItemsError extends Error {
  constructor(
    readonly unprocessed: number,
    reason: string,
  ) {
    super(`${unprocessed} row(s) still unprocessed: ${reason}`);
    this.name = 'UnprocessedItemsError';
  }
}

export interface WritePolicy {
  /** BatchWriteItem calls per chunk, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Time kept back for the rest of the batch and the response; no retry eats into it. */
  reserveMs: number;
  /** Chunks of one record written at the same time. */
  concurrency: number;
}

export const DEFAULT_WRITE_POLICY: WritePolicy = {
  maxAttempts: 8,
  baseDelayMs: 50,
  maxDelayMs: 2_000,
  reserveMs: 2_000,
  concurrency: 4,
};

/** The one DynamoDB call the store makes; `(c) => documentClient.send(c)` in production. */
export type SendBatchWrite = (command: BatchWriteCommand) => Promise<BatchWriteCommandOutput>;

export class DynamoMeasurementStore implements MeasurementStore {
  constructor(
    private readonly send: SendBatchWrite,
    private readonly tableName: string,
    private readonly policy: WritePolicy = DEFAULT_WRITE_POLICY,
    private readonly tools: { sleep: (ms: number) => Promise<void>; random: () => number },
  ) {}

  async putAll(items: readonly ReadingPack[], context: WriteContext): Promise<RefusedRow[]> {
    const refused: RefusedRow[] = [];
    await this.writeAll(items, async (rows) => {
      refused.push(...(await this.writeOrIsolate(rows, context)));
    });
    return refused;
  }

  async park(rows: readonly ParkedRow[], context: WriteContext): Promise<void> {
    // A parked row holds the refused one as text, so nothing in it can be refused again.
    await this.writeAll(rows, (chunkRows) => this.writeChunk(chunkRows, context));
  }

  async putDirectory(entries: readonly DirectoryEntry[], context: WriteContext): Promise<void> {
    // An entry holds ids and an instant the edge checked: nothing in it can be refused.
    await this.writeAll(entries, (chunkRows) => this.writeChunk(chunkRows, context));
  }

  /**
   * Runs `write` over the chunks of `rows`, a few at once: fast enough, and gentle on a table
   * under pressure. After a failure no new chunk starts; the record fails as a whole and is
   * delivered again.
   */
  private async writeAll<T>(
    rows: readonly T[],
    write: (chunkRows: readonly T[]) => Promise<void>,
  ): Promise<void> {
    const chunks = chunk(rows, BATCH_WRITE_LIMIT);
    let next = 0;
    let failed = false;
    const worker = async (): Promise<void> => {
      while (!failed && next < chunks.length) {
        const current = chunks[next++];
        if (current === undefined) return;
        try {
          await write(current);
        } catch (error) {
          failed = true;
          throw error;
        }
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(this.policy.concurrency, chunks.length) }, worker),
    );
  }

  /** Writes a chunk; a refused chunk is halved until each refused row is alone. */
  private async writeOrIsolate(
    rows: readonly ReadingPack[],
    context: WriteContext,
  ): Promise<RefusedRow[]> {
    try {
      await this.writeChunk(rows, context);
      return [];
    } catch (error) {
      if (!isRefusal(error)) throw error;
      const [only] = rows;
      if (rows.length === 1 && only) return [{ item: only, reason: error.message }];
      const half = Math.ceil(rows.length / 2);
      const first = await this.writeOrIsolate(rows.slice(0, half), context);
      return [...first, ...(await this.writeOrIsolate(rows.slice(half), context))];
    }
  }

  private async writeChunk(items: readonly object[], context: WriteContext): Promise<void> {
    type Requests = NonNullable<BatchWriteCommandInput['RequestItems']>[string];
    let pending: Requests = items.map((item) => ({ PutRequest: { Item: item } }));
    for (let attempt = 1; ; attempt++) {
      const result = await this.send(
        new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }),
      );
      pending = result.UnprocessedItems?.[this.tableName] ?? [];
      if (pending.length === 0) return;
      if (attempt >= this.policy.maxAttempts) {
        throw new UnprocessedItemsError(pending.length, `after ${attempt} attempts`);
      }
      const delay = backoffDelay(attempt, this.policy, this.tools.random);
      if (context.remainingMs() - delay < this.policy.reserveMs) {
        throw new UnprocessedItemsError(pending.length, 'the invocation is running out of time');
      }
      context.onRetry(pending.length);
      await this.tools.sleep(delay);
    }
  }
}
