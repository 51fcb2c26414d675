/**
 * The chaos soak: the simulator's engine drives a local stack (with a data folder) while a
 * seeded fault plan fires every kind of failure the delivery guarantees must survive — failed
 * SendMessageBatch entries and whole calls, DynamoDB throttling and UnprocessedItems, consumer
 * crashes before and mid-batch, function timeouts, worker threads killed mid-invocation — and
 * the whole stack is stopped and started again on the same data folder while readings are in
 * flight. Then accepted and stored readings are compared by identity.
 *
 * Clients behave as the README tells them to: every request has an Idempotency-Key and is
 * retried with it (the engine does that). What lands in the dead-letter queue is redriven at
 * the end, as an operator would (SQS StartMessageMoveTask), and reported.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SQSClient, StartMessageMoveTaskCommand } from '@aws-sdk/client-sqs';
import { AWS_METRICS } from '#shared/dashboard-model/index.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#infra/local/index.ts';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '#infra/local/index.ts';
import { topology } from '#infra/topology.ts';
import { seededRandom } from '../payload.ts';
import { runSimulation } from '../simulator/engine.ts';
import { verifyStored } from '../simulator/verify.ts';

export interface ChaosOptions {
  /** Readings to send in all. */
  readings: number;
  seed?: number;
  /** Readings per request (default 50). */
  batch?: number;
  /** Requests in flight (default 16). */
  concurrency?: number;
  /** Restarts of the whole stack while readings are in flight (default 1). */
  restarts?: number;
  /** Mean pause between two injected faults (default 500 ms). */
  faultEveryMs?: number;
  /** How long stored readings may take to catch up after sending (default 180 s). */
  catchUpTimeoutMs?: number;
  /** Progress lines; silent when absent. */
  log?: (line: string) => void;
}

export type FaultKind =
  | 'sendBatchEntryFailures'
  | 'sendBatchFailures'
  | 'dynamoDbThrottles'
  | 'unprocessedBatchWrites'
  | 'consumerFailures'
  | 'consumerCrashesMidBatch'
  | 'functionTimeouts'
  | 'workerKills'
  | 'stackRestarts';

export interface ChaosReport {
  readings: number;
  accepted: number;
  stored: number;
  lost: number;
  duplicated: number;
  /** Stored readings no request had been answered 202 for (a retried request's first try). */
  unexpected: number;
  /** Readings the API refused for good (after the client's retries). */
  refused: number;
  /** The same by the last status answered ('0': no answer). */
  refusedByStatus: Record<string, number>;
  faultsInjected: Record<FaultKind, number>;
  /** Messages found in the dead-letter queue after sending, and redriven. */
  deadLettered: number;
  /**
   * Deliveries of batches to the consumer, and how many failed (injected faults included): a
   * message dead-letters when all its `maxReceiveCount` deliveries fail, so with a share `p` of
   * failed deliveries about `messages × p^maxReceiveCount` are expected in the DLQ.
   */
  consumerInvocations: { total: number; failed: number };
  seconds: { total: number; sending: number; catchUp: number };
}

/**
 * Visibility timeout and consumer timeout of the soak: shortened so a failed batch comes back
 * in seconds, in the same proportion as on AWS (visibility well above the function timeout,
 * so the idempotency record of a killed invocation has expired when its message returns).
 */
const VISIBILITY_TIMEOUT_SECONDS = 6;
const CONSUMER_TIMEOUT_SECONDS = 3;

const CONSUMER = topology.queues.measurements.consumer.function;
const { lambda } = AWS_METRICS;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One injected fault: applies it to the stack and returns how many it planned. */
type Injection = (stack: LocalStack, random: () => number) => number;

const upTo = (random: () => number, max: number) => 1 + Math.floor(random() * max);

const injections: Record<Exclude<FaultKind, 'stackRestarts'>, Injection> = {
  sendBatchEntryFailures: (stack, random) => {
    const count = upTo(random, 3);
    stack.faults.failSendBatchEntries(count);
    return count;
  },
  sendBatchFailures: (stack) => {
    stack.faults.failSendBatchCalls(1);
    return 1;
  },
  dynamoDbThrottles: (stack, random) => {
    const count = upTo(random, 3);
    stack.faults.throttleDynamoDb('BatchWriteItem', count);
    return count;
  },
  unprocessedBatchWrites: (stack, random) => {
    const count = upTo(random, 3);
    stack.faults.leaveWritesUnprocessed(count);
    return count;
  },
  consumerFailures: (stack) => {
    stack.faults.failConsumerInvocations(1);
    return 1;
  },
  consumerCrashesMidBatch: (stack) => {
    stack.faults.crashConsumerMidBatch(1);
    return 1;
  },
  functionTimeouts: (stack, random) => {
    stack.faults.timeOutInvocations(random() < 0.5 ? 'ingest' : 'ingestConsumer', 1);
    return 1;
  },
  workerKills: (stack, random) => {
    stack.faults.killInvocations(random() < 0.5 ? 'ingest' : 'ingestConsumer', 1);
    return 1;
  },
};
const injectionKinds = Object.keys(injections) as (keyof typeof injections)[];

export const runChaos = async (options: ChaosOptions): Promise<ChaosReport> => {
  const log = options.log ?? (() => undefined);
  const random = seededRandom(options.seed ?? 1);
  const restarts = options.restarts ?? 1;
  const faultEveryMs = options.faultEveryMs ?? 500;
  const faultsInjected = Object.fromEntries(
    [...injectionKinds, 'stackRestarts'].map((kind) => [kind, 0]),
  ) as Record<FaultKind, number>;
  const dataDir = await mkdtemp(join(tmpdir(), 'iot-playground-chaos-'));
  const stackOptions: LocalStackOptions = {
    dataDir,
    schedules: false,
    queues: { measurements: { visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS } },
    functionTimeoutSeconds: { ingestConsumer: CONSUMER_TIMEOUT_SECONDS },
  };
  const started = performance.now();
  let stack = await startLocalStack({ port: 0, ...stackOptions });
  const url = stack.url;
  let restarting: Promise<void> | undefined;
  const consumerInvocations = { total: 0, failed: 0 };
  /** Adds the consumer's invocations (as the Lambda metrics count them) of a stack ending. */
  const countConsumerInvocations = (ending: LocalStack) => {
    const sum = (metric: string) =>
      ending.meter.series
        .find(lambda.namespace, metric)
        .filter((series) => series.dimensions.FunctionName === CONSUMER)
        .flatMap((series) => [...series.points.values()])
        .reduce((total, point) => total + point.sum, 0);
    consumerInvocations.total += sum(lambda.metrics.invocations);
    consumerInvocations.failed += sum(lambda.metrics.errors);
  };

  /** Stops the whole stack and starts it again on the same port and data folder. */
  const restart = async () => {
    faultsInjected.stackRestarts += 1;
    log(`restart ${faultsInjected.stackRestarts}: stopping the stack`);
    countConsumerInvocations(stack);
    await stack.stop();
    stack = await startLocalStack({ port: stack.port, ...stackOptions });
    log(`restart ${faultsInjected.stackRestarts}: the stack is back`);
  };

  let sending = true;
  const faultLoop = (async () => {
    while (sending) {
      await sleep(faultEveryMs * 2 * random());
      if (!sending || restarting) continue;
      const kind = injectionKinds[
        Math.floor(random() * injectionKinds.length)
      ] as keyof typeof injections;
      faultsInjected[kind] += injections[kind](stack, random);
    }
  })();

  // Restarts at evenly spread fractions of the readings, while requests are in flight.
  const restartAt = Array.from(
    { length: restarts },
    (_, index) => (options.readings * (index + 1)) / (restarts + 1),
  );
  const sendingStarted = performance.now();
  const { report, acceptedReadings } = await runSimulation({
    url,
    readings: options.readings,
    batch: options.batch ?? 50,
    concurrency: options.concurrency ?? 16,
    seed: options.seed ?? 1,
    user: 'chaos',
    // Enough patience for a restart of the whole stack.
    retry: { maxRetries: 30, maxDelayMs: 2_000 },
    onProgress: (progress) => {
      log(`sent ${progress.sent}, accepted ${progress.accepted}, errors ${progress.errors}`);
      const next = restartAt[0];
      if (next !== undefined && progress.accepted >= next && restarting === undefined) {
        restartAt.shift();
        restarting = restart().finally(() => {
          restarting = undefined;
        });
      }
    },
  });
  const sendingSeconds = (performance.now() - sendingStarted) / 1000;
  sending = false;
  await faultLoop;
  await restarting;
  // Restarts not reached during sending (a fast run) happen now, with readings still queued.
  for (const _ of restartAt) await restart();
  stack.faults.clear();
  log(`sending done: ${report.accepted} accepted, ${report.refused} refused; catching up`);

  const catchUpStarted = performance.now();
  const timeoutMs = options.catchUpTimeoutMs ?? 180_000;
  // Faults over: wait for the queue to drain, then redrive what the faults pushed to the DLQ.
  const drainedBy = performance.now() + timeoutMs;
  while (performance.now() < drainedBy) {
    const { visible, inFlight, delayed } = stack.queues.measurements.queue.counts();
    if (visible + inFlight + delayed === 0) break;
    await sleep(250);
  }
  const deadLettered = stack.queues.measurements.deadLetters.counts().visible;
  if (deadLettered > 0) {
    log(`${deadLettered} message(s) in the dead-letter queue: redriving them`);
    await redrive(stack);
  }
  const verified = await verifyStored({
    url,
    acceptedReadings,
    timeoutMs: Math.max(10_000, drainedBy - performance.now()),
  });
  const catchUpSeconds = (performance.now() - catchUpStarted) / 1000;
  countConsumerInvocations(stack);
  await stack.stop();
  await rm(dataDir, { recursive: true, force: true });
  return {
    readings: options.readings,
    accepted: report.accepted,
    stored: verified.stored,
    lost: verified.lost,
    duplicated: verified.duplicated,
    unexpected: verified.unexpected,
    refused: report.refused,
    refusedByStatus: report.refusedByStatus,
    faultsInjected,
    deadLettered,
    consumerInvocations,
    seconds: {
      total: round((performance.now() - started) / 1000),
      sending: round(sendingSeconds),
      catchUp: round(catchUpSeconds),
    },
  };
};

const round = (seconds: number) => Math.round(seconds * 10) / 10;

/** What the runbook says to do once the cause is gone: move the dead letters back. */
const redrive = async (stack: LocalStack): Promise<void> => {
  const sqs = new SQSClient({
    endpoint: stack.sqsEndpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    await sqs.send(
      new StartMessageMoveTaskCommand({ SourceArn: stack.queues.measurements.deadLetters.arn }),
    );
  } finally {
    sqs.destroy();
  }
};
