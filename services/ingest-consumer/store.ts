/**
 * Writing rows to the sensorData table: the port and its DynamoDB implementation. BatchWriteItem
 * in chunks of 25; `UnprocessedItems` are retried with exponential backoff and full jitter, within
 * a bounded number of attempts and the invocation's remaining time. Rows still unprocessed make
 * the write fail, so the record fails and SQS delivers it again (writes are idempotent by key).
 */
import type { BatchWriteCommandInput, BatchWriteCommandOutput } from '@aws-sdk/lib-dynamodb';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { backoffDelay } from '#shared/backoff.ts';
import type { SensorDataItem } from '#shared/measurement.ts';
import { BATCH_WRITE_LIMIT, chunk } from './items.ts';

export interface WriteContext {
  /** Milliseconds the invocation has left (`context.getRemainingTimeInMillis`). */
  remainingMs(): number;
  /** Called before each retry of unprocessed rows. */
  onRetry(unprocessed: number): void;
}

export interface MeasurementStore {
  /** Writes every row or throws. */
  putAll(items: readonly SensorDataItem[], context: WriteContext): Promise<void>;
}

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
  /** Time kept back for the idempotency bookkeeping and the response; no retry eats into it. */
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

  async putAll(items: readonly SensorDataItem[], context: WriteContext): Promise<void> {
    const chunks = chunk(items, BATCH_WRITE_LIMIT);
    let next = 0;
    let failed = false;
    // A few chunks in flight at once: fast enough, and gentle on a table under pressure. After a
    // failure no new chunk starts; the record fails as a whole and is delivered again.
    const worker = async (): Promise<void> => {
      while (!failed && next < chunks.length) {
        const current = chunks[next++];
        if (current === undefined) return;
        try {
          await this.writeChunk(current, context);
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

  private async writeChunk(items: readonly SensorDataItem[], context: WriteContext): Promise<void> {
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
