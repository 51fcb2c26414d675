/**
 * The measurement queue: the port the ingest function sends through, its SQS implementation,
 * and the send loop that retries only the failed entries of each SendMessageBatch call.
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { backoffDelay } from '#shared/backoff.ts';
import { ServiceUnavailableError } from '#shared/errors.ts';
import type { PackedMessage } from './packing.ts';

export interface QueueEntry {
  /** Unique within one call: letters, digits, `-`, `_`, at most 80 characters. */
  id: string;
  body: string;
}

export interface FailedEntry {
  id: string;
  code?: string;
  /** True when the request itself was at fault; retrying it cannot help. */
  senderFault: boolean;
}

export interface MeasurementQueue {
  /** One SendMessageBatch call; resolves with the entries SQS did not take. */
  sendBatch(entries: readonly QueueEntry[]): Promise<{ failed: FailedEntry[] }>;
}

export class SqsMeasurementQueue implements MeasurementQueue {
  constructor(
    private readonly client: Pick<SQSClient, 'send'>,
    private readonly queueUrl: string,
  ) {}

  async sendBatch(entries: readonly QueueEntry[]): Promise<{ failed: FailedEntry[] }> {
    const result = await this.client.send(
      new SendMessageBatchCommand({
        QueueUrl: this.queueUrl,
        Entries: entries.map((e) => ({ Id: e.id, MessageBody: e.body })),
      }),
    );
    return {
      failed: (result.Failed ?? []).map((f) => ({
        id: f.Id ?? '',
        ...(f.Code === undefined ? {} : { code: f.Code }),
        senderFault: f.SenderFault === true,
      })),
    };
  }
}

/**
 * Some of a request's messages are in the queue, the rest are not. A retry with the same
 * Idempotency-Key sends the very same messages again (their packs are overwritten, not added);
 * a retry without one stores them again unless every reading carries its own timestamp.
 */
export class PartlyEnqueuedError extends ServiceUnavailableError {
  constructor(details: { message: string }[]) {
    super(
      'Measurements were only partly enqueued; retry with the same Idempotency-Key so the enqueued ones are not stored twice',
      details,
    );
  }
}

export interface SendRetryPolicy {
  /** Calls per group, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_SEND_RETRY: SendRetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 50,
  maxDelayMs: 400,
};

export interface SendReport {
  /** SendMessageBatch calls made, retries included. */
  calls: number;
  /** Entries sent again after a failure. */
  retriedEntries: number;
}

export interface SendTools {
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  onRetry?: (info: { attempt: number; failed: FailedEntry[] }) => void;
  /**
   * Called with what is still failing before the 503, and the messages those entries carried
   * (never enqueued); the details belong in the log only.
   */
  onGiveUp?: (failed: FailedEntry[], unsent: PackedMessage[]) => void | Promise<void>;
}

/**
 * Sends every group (one SendMessageBatch call each, concurrently). Failed entries are retried
 * with exponential backoff and full jitter, up to `maxAttempts` calls per group; a call that
 * throws counts as all its entries failed (the SDK has already retried it). Resolves only when
 * every message is in the queue, otherwise throws ServiceUnavailableError (503).
 */
export const sendAll = async (
  queue: MeasurementQueue,
  groups: readonly (readonly PackedMessage[])[],
  policy: SendRetryPolicy,
  tools: SendTools,
): Promise<SendReport> => {
  const report: SendReport = { calls: 0, retriedEntries: 0 };
  const sendGroup = async (group: readonly PackedMessage[]): Promise<FailedEntry[]> => {
    let pending: QueueEntry[] = group.map((m, i) => ({ id: `m${i}`, body: m.body }));
    let failed: FailedEntry[];
    for (let attempt = 1; ; attempt++) {
      report.calls++;
      try {
        ({ failed } = await queue.sendBatch(pending));
      } catch {
        failed = pending.map((e) => ({ id: e.id, code: 'RequestFailed', senderFault: false }));
      }
      const retryable = failed.filter((f) => !f.senderFault);
      if (
        failed.length === 0 ||
        retryable.length < failed.length ||
        attempt >= policy.maxAttempts
      ) {
        return failed;
      }
      tools.onRetry?.({ attempt, failed });
      const ids = new Set(retryable.map((f) => f.id));
      pending = pending.filter((e) => ids.has(e.id));
      report.retriedEntries += pending.length;
      await tools.sleep(backoffDelay(attempt, policy, tools.random));
    }
  };
  const results = await Promise.all(groups.map(sendGroup));
  const failures = results.flat();
  if (failures.length > 0) {
    // Entry ids are `m<index>` within their group.
    const unsent = results.flatMap((failed, g) =>
      failed.map((f) => groups[g]![Number(f.id.slice(1))]!),
    );
    await tools.onGiveUp?.(failures, unsent);
    const messages = groups.reduce((count, group) => count + group.length, 0);
    const enqueued = messages - failures.length;
    const details = [{ message: `${enqueued} of ${messages} queue messages were enqueued` }];
    if (enqueued > 0) throw new PartlyEnqueuedError(details);
    throw new ServiceUnavailableError(
      'Measurements could not be enqueued; retry the request',
      details,
    );
  }
  return report;
};
