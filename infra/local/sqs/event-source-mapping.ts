/**
 * The Lambda SQS event-source mapping, locally: long-polls a queue, gathers records into
 * batches, invokes the function and deletes what it processed, honouring partial batch
 * responses (ReportBatchItemFailures, which the topology always enables).
 *
 * It talks to the queue through an SQSClient, as Lambda's pollers are SQS API clients too:
 * receive counts, visibility timeouts, redrive and injected endpoint faults then behave
 * exactly as for any other consumer, and nothing here depends on the local endpoint's
 * internals (it works against any SQS JSON endpoint).
 *
 *   const mapping = await startEventSourceMapping({ sqs, queueUrl, invoke, batchSize: 10 });
 *   ...
 *   await mapping.stop();
 */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { interpretBatchResponse } from './batch-response.ts';
import { toSqsRecord } from './sqs-record.ts';

export type EventSourceMappingStage = 'receive' | 'invoke' | 'response' | 'delete';

export interface EventSourceMappingOptions {
  sqs: SQSClient;
  queueUrl: string;
  /** Invokes the function; a rejection (error, timeout) fails the whole batch. */
  invoke: (event: SQSEvent) => Promise<unknown>;
  /** Records per invocation, 1–10,000 (Lambda's default 10; above 10 needs a window ≥ 1 s). */
  batchSize?: number;
  /** How long to keep gathering once the first record arrived, 0–300,000 ms (default 0). */
  maxBatchingWindowMs?: number;
  /** Invocations in flight at most, 2–1,000 as Lambda's ScalingConfig (default 1,000). */
  maxConcurrency?: number;
  /**
   * The function's timeout. When given, the mapping refuses a queue whose visibility timeout
   * is shorter, as CreateEventSourceMapping does.
   */
  functionTimeoutSeconds?: number;
  /** Told about every failure; records involved come back after their visibility timeout. */
  onError?: (
    error: Error,
    context: { stage: EventSourceMappingStage; messageIds: string[] },
  ) => void;
}

export interface EventSourceMapping {
  readonly queueArn: string;
  /** The queue's VisibilityTimeout when the mapping started. */
  readonly visibilityTimeoutSeconds: number;
  /** Stops polling (a batch being gathered is still invoked) and waits for invocations. */
  stop(): Promise<void>;
}

const MAX_RECEIVE = 10;
const LONG_POLL_SECONDS = 20;
/** Pause after a failed ReceiveMessage so an unreachable queue is not hammered. */
const RECEIVE_RETRY_DELAY_MS = 1_000;

const toError = (error: unknown): Error =>
  error instanceof Error ? error : new Error(String(error));

const defaultOnError: NonNullable<EventSourceMappingOptions['onError']> = (error, context) => {
  console.error(
    `Event-source mapping: ${context.stage} failed for [${context.messageIds.join(', ')}]: ${error.message}`,
  );
};

const checkRange = (name: string, value: number, min: number, max: number): void => {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
};

/** Resolves after `ms`, or as soon as `signal` aborts. */
const pause = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

export const startEventSourceMapping = async (
  options: EventSourceMappingOptions,
): Promise<EventSourceMapping> => {
  const batchSize = options.batchSize ?? 10;
  const windowMs = options.maxBatchingWindowMs ?? 0;
  const maxConcurrency = options.maxConcurrency ?? 1_000;
  checkRange('batchSize', batchSize, 1, 10_000);
  checkRange('maxBatchingWindowMs', windowMs, 0, 300_000);
  checkRange('maxConcurrency', maxConcurrency, 2, 1_000);
  if (batchSize > MAX_RECEIVE && windowMs < 1_000) {
    throw new Error('A batchSize above 10 requires a maxBatchingWindowMs of at least 1000');
  }

  // Like CreateEventSourceMapping: the queue must exist, and outlast the function's timeout.
  const { Attributes: queueAttributes = {} } = await options.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: options.queueUrl,
      AttributeNames: ['QueueArn', 'VisibilityTimeout'],
    }),
  );
  const queueArn = queueAttributes.QueueArn ?? '';
  const visibilityTimeoutSeconds = Number(queueAttributes.VisibilityTimeout);
  const region = queueArn.split(':')[3] ?? '';
  if (
    options.functionTimeoutSeconds !== undefined &&
    visibilityTimeoutSeconds < options.functionTimeoutSeconds
  ) {
    throw new Error(
      `Queue visibility timeout: ${visibilityTimeoutSeconds} seconds is less than Function timeout: ${options.functionTimeoutSeconds} seconds`,
    );
  }

  const onError = options.onError ?? defaultOnError;
  const report = (error: unknown, stage: EventSourceMappingStage, messages: Message[]) => {
    try {
      onError(toError(error), { stage, messageIds: messages.map((m) => m.MessageId ?? '?') });
    } catch (callbackError) {
      // A throwing onError must not stop the poller; keep both errors visible.
      console.error('Event-source mapping: onError threw', callbackError, 'while reporting', error);
    }
  };
  const stopping = new AbortController();
  const stopped = new Promise<void>((resolve) =>
    stopping.signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  const invocations = new Set<Promise<void>>();

  /**
   * One ReceiveMessage, ended early only by stop(). Never cut short at a window's end: an
   * aborted receive may already have taken messages, which would then sit invisible until
   * their visibility timeout.
   */
  const receive = async (maxMessages: number, waitSeconds: number): Promise<Message[]> => {
    try {
      const output = await options.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: options.queueUrl,
          MaxNumberOfMessages: maxMessages,
          WaitTimeSeconds: waitSeconds,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: stopping.signal },
      );
      return output.Messages ?? [];
    } catch (error) {
      if (stopping.signal.aborted) return [];
      report(error, 'receive', []);
      await pause(RECEIVE_RETRY_DELAY_MS, stopping.signal);
      return [];
    }
  };

  /**
   * Long-polls until a first record arrives, then keeps receiving until the batch is full or the
   * window since that first record has passed, as Lambda's pollers read "until the batching
   * window expires, the batch size is reached, or the payload limit": records already waiting
   * are taken at once, ten a receive; when none is, long polls of whole seconds while they fit
   * in the window, then a wait for its last fraction of a second and one receive that does not
   * wait. On stop, what was gathered is still returned: those records were received (their
   * receive count went up) and are invoked rather than left to time out.
   */
  const gather = async (): Promise<Message[]> => {
    const batch: Message[] = [];
    let windowEnd: number | undefined;
    while (batch.length < batchSize && !stopping.signal.aborted) {
      const wanted = Math.min(MAX_RECEIVE, batchSize - batch.length);
      if (windowEnd === undefined) {
        batch.push(...(await receive(wanted, LONG_POLL_SECONDS)));
        if (batch.length === 0) continue;
        if (windowMs === 0) break;
        windowEnd = performance.now() + windowMs;
        continue;
      }
      const remainingMs = windowEnd - performance.now();
      if (remainingMs <= 0) break;
      const waiting = await receive(wanted, 0);
      batch.push(...waiting);
      if (waiting.length > 0) continue;
      const waitSeconds = Math.min(LONG_POLL_SECONDS, Math.floor(remainingMs / 1000));
      if (waitSeconds > 0) {
        batch.push(...(await receive(wanted, waitSeconds)));
        continue;
      }
      await pause(remainingMs, stopping.signal);
      batch.push(...(await receive(wanted, 0)));
      break;
    }
    return batch;
  };

  const deleteMessages = async (messages: Message[]): Promise<void> => {
    for (let start = 0; start < messages.length; start += MAX_RECEIVE) {
      const chunk = messages.slice(start, start + MAX_RECEIVE);
      try {
        const { Failed = [] } = await options.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: options.queueUrl,
            Entries: chunk.map((message, index) => ({
              Id: String(index),
              ReceiptHandle: message.ReceiptHandle,
            })),
          }),
        );
        for (const failure of Failed) {
          const message = chunk[Number(failure.Id)];
          report(
            new Error(`${failure.Code ?? 'Error'}: ${failure.Message ?? ''}`),
            'delete',
            message ? [message] : [],
          );
        }
      } catch (error) {
        report(error, 'delete', chunk);
      }
    }
  };

  /** Invokes one batch and settles it; never rejects, failures go to onError. */
  const invokeBatch = async (messages: Message[]): Promise<void> => {
    let response: unknown;
    try {
      const event: SQSEvent = { Records: messages.map((m) => toSqsRecord(m, queueArn, region)) };
      response = await options.invoke(event);
    } catch (error) {
      report(error, 'invoke', messages);
      return;
    }
    const messageIds = new Set(messages.map((message) => message.MessageId ?? ''));
    const outcome = interpretBatchResponse(response, messageIds);
    if (outcome.kind === 'invalid') {
      report(new Error(`Invalid partial batch response: ${outcome.reason}`), 'response', messages);
      return;
    }
    const processed = messages.filter(
      (message) => !outcome.failedMessageIds.has(message.MessageId ?? ''),
    );
    await deleteMessages(processed);
  };

  const poll = async (): Promise<void> => {
    while (!stopping.signal.aborted) {
      while (invocations.size >= maxConcurrency && !stopping.signal.aborted) {
        await Promise.race([...invocations, stopped]);
      }
      if (stopping.signal.aborted) break;
      const batch = await gather();
      if (batch.length === 0) continue;
      const invocation = invokeBatch(batch).finally(() => invocations.delete(invocation));
      invocations.add(invocation);
    }
  };

  // poll() handles its own failures; this only keeps a bug from becoming an unhandled rejection.
  const polling = poll().catch((error: unknown) => report(error, 'receive', []));
  return {
    queueArn,
    visibilityTimeoutSeconds,
    stop: async () => {
      stopping.abort();
      await polling;
      await Promise.all([...invocations]);
    },
  };
};
