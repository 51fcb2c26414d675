/**
 * The benchmark: starts the local stack, drives it with the simulator's engine at batch sizes
 * 1, 10 and 100, checks every accepted reading is stored once, and turns the stack's counters
 * into AWS requests per 1,000 readings and a modeled cost per million at list prices.
 */
import { startLocalStack, type LocalStack, type UsageTotals } from '#infra/local/index.ts';
import { topology, type FunctionName, type QueueName } from '#infra/topology.ts';
import { costOf, type BilledUsage, type CostBreakdown } from '#shared/prices.ts';
import { runSimulation } from '../simulator/engine.ts';
import { verifyStored } from '../simulator/verify.ts';
import { measureBundles, type BundleFigures } from './bundles.ts';
import { capacityOf, type Capacity } from './capacity.ts';

export const BATCH_SIZES = [1, 10, 100] as const;

/**
 * How the existing front end sends: one reading a request, `{sensorId, type, reading}` with no
 * timestamp and no Idempotency-Key, from a few sensors at a steady rate.
 */
export interface FrontEndScenario {
  requestsPerSecond: number;
  sensors: number;
}
export const FRONT_END: FrontEndScenario = { requestsPerSecond: 150, sensors: 5 };

export interface BenchOptions {
  /** Requests per scenario (the readings are requests × batch, at most `maxReadings`). */
  requests: number;
  maxReadings: number;
  concurrency: number;
  sensors: number;
  /** Fresh processes per bundle for the cold module-load median. */
  loadSamples: number;
  batches?: readonly number[];
  /** The front end's shape, after the batch sizes (left out when absent). */
  frontEnd?: FrontEndScenario;
  /** Worker environments per function in the local stack (its default when absent). */
  environments?: number;
  /** Fixed-rate runs after the scenarios, for latency below saturation (none when absent). */
  paced?: readonly PacedRun[];
  log?: (line: string) => void;
}

/** A run at a fixed rate: `readingsPerSecond` in batches of `batch`, for `seconds`. */
export interface PacedRun {
  batch: number;
  readingsPerSecond: number;
  seconds: number;
  /** Requests without an Idempotency-Key (keys are sent unless this is false). */
  idempotencyKeys?: boolean;
}

/**
 * Half the local targets (6,000 readings/s at batch 100, 300 requests/s at batch 1): the
 * rate at which p99 is to stay within 100 ms.
 */
export const HALF_TARGET_RATES: readonly PacedRun[] = [
  { batch: 100, readingsPerSecond: 3000, seconds: 15 },
  // Without keys the edge writes no idempotency record: locally those writes queue behind the
  // consumers' in dynalite's one thread (DynamoDB tables share no such queue).
  { batch: 100, readingsPerSecond: 3000, seconds: 15, idempotencyKeys: false },
  { batch: 1, readingsPerSecond: 150, seconds: 10 },
];

export const QUICK: BenchOptions = {
  requests: 80,
  maxReadings: 4000,
  concurrency: 16,
  sensors: 10,
  loadSamples: 3,
  paced: HALF_TARGET_RATES.map((run) => ({ ...run, seconds: 5 })),
  frontEnd: FRONT_END,
};
export const FULL: BenchOptions = {
  requests: 1000,
  maxReadings: 50_000,
  concurrency: 32,
  sensors: 20,
  loadSamples: 7,
  paced: HALF_TARGET_RATES,
  frontEnd: FRONT_END,
};

export interface ScenarioResult {
  batch: number;
  /** Set on the front end's scenario (`FRONT_END`): no key, no timestamp, a fixed rate. */
  shape?: 'front end';
  readings: number;
  acceptedPerSecond: number;
  /**
   * Readings stored per second, from the first request until the last reading was stored: until
   * the queue held no message, visible or in flight (a message leaves it once its readings are
   * written). Checked by reading every reading back, which is not timed.
   */
  storedPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  accepted: number;
  refused: number;
  stored: number;
  lost: number;
  duplicated: number;
  /**
   * Reading every reading back through \`GET /api/sensors/data?runId=\` (pages of 1,000), once
   * storage is through: the pages it took and readings/s.
   */
  readBack: {
    pages: number;
    readingsPerSecond: number;
    /** DynamoDB Queries and read units per page of the read-back (1,000 readings a page). */
    queriesPerPage?: number;
    readUnitsPerPage?: number;
  };
  /**
   * CPU time of the whole bench process (every thread: gateway, functions, SQS endpoint,
   * dynalite, and the load generator) per request, from the first request until the queue
   * drained: 1,000 × cores / this is the most requests a second this machine could take.
   */
  cpuMsPerRequest?: number;
  /** AWS requests and billed units per 1,000 readings, by service and action. */
  per1000Readings: {
    apiRequests: number;
    lambdaInvocations: Record<string, number>;
    /** Priced: from the functions' CPU time (lambdaGbSecondsOfCpu). */
    lambdaGbSeconds: number;
    /**
     * Local wall time inside the functions × their memory, what the bench priced before: long
     * where a function waited for one of 2 busy cores, short where it ran on a whole core.
     */
    lambdaWallGbSeconds?: number;
    sqs: Record<string, number>;
    dynamoDb: Record<string, number>;
    dynamoDbWriteUnits: number;
    dynamoDbReadUnits: number;
    emfBytes: number;
    otherLogBytes: number;
  };
  costPerMillionUsd: number;
  costPerMillionByService: CostBreakdown;
  capacity: Capacity;
}

export interface BenchResult {
  kind: 'iot-playground-bench';
  startedAt: string;
  machine: { cpus: number; node: string; platform: string };
  options: BenchOptions;
  scenarios: ScenarioResult[];
  paced: PacedResult[];
  bundles: BundleFigures[];
}

export interface PacedResult extends PacedRun {
  acceptedPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  lost: number;
  duplicated: number;
}

const sum = (values: Record<string, number>) => Object.values(values).reduce((a, b) => a + b, 0);
const per1000 = (value: number, readings: number) => Math.round((value * 1e6) / readings) / 1000;
const scale = (values: Record<string, number>, readings: number) =>
  Object.fromEntries(Object.entries(values).map(([key, v]) => [key, per1000(v, readings)]));

/** Billed usage per million readings, from a scenario's counts per 1,000 (all the cost needs). */
export const billedPerMillion = (p: ScenarioResult['per1000Readings']): BilledUsage => ({
  apiRequests: p.apiRequests * 1000,
  lambdaRequests: sum(p.lambdaInvocations) * 1000,
  lambdaGbSeconds: p.lambdaGbSeconds * 1000,
  sqsRequests: sum(p.sqs) * 1000,
  dynamoDbWriteUnits: p.dynamoDbWriteUnits * 1000,
  dynamoDbReadUnits: p.dynamoDbReadUnits * 1000,
  logBytes: (p.emfBytes + p.otherLogBytes) * 1000,
});

/** Memory at which a Lambda function has the equivalent of one vCPU. */
const LAMBDA_ONE_VCPU_MB = 1769;

/**
 * GB-seconds a function bills for the CPU time it used. Lambda allocates CPU in proportion to
 * memory, one vCPU at 1,769 MB ("At 1,769 MB, a function has the equivalent of one vCPU",
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html): below that, a
 * millisecond of CPU (on a core like this machine's) takes 1,769 / memory milliseconds of billed
 * duration, so the GB-seconds are the same whatever the memory. A lower bound of the bill: the
 * calls' round trips to DynamoDB and SQS add billed time that uses no CPU. Local wall time is no
 * bound either way: a function here waits for one of 2 busy cores, but runs on a whole one.
 */
export const lambdaGbSecondsOfCpu = (cpuMs: number, memoryMb: number): number =>
  (cpuMs / 1000) * (Math.max(memoryMb, LAMBDA_ONE_VCPU_MB) / 1024);

const ingestionFunctions = (usage: UsageTotals) =>
  Object.entries(usage.lambda).filter(([name]) => name !== 'sensorQuery');

/** Lambda GB-seconds from local wall time, as the meter counts them. */
const wallGbSeconds = (usage: UsageTotals) =>
  ingestionFunctions(usage).reduce((n, [, f]) => n + f.gbSeconds, 0);

/** What AWS would bill for the traffic the counters saw. */
export const billedUsage = (
  usage: UsageTotals,
  sqs: Record<string, number>,
  readLoad: { apiRequests: number; readUnits: number; queryInvocations: number },
): BilledUsage => {
  const lambda = Object.values(usage.lambda);
  return {
    // The read-back of the verification is not ingestion traffic; it is left out.
    apiRequests: usage.apiRequests - readLoad.apiRequests,
    lambdaRequests: lambda.reduce((n, f) => n + f.invocations, 0) - readLoad.queryInvocations,
    lambdaGbSeconds: ingestionFunctions(usage).reduce(
      (n, [name, f]) =>
        n + lambdaGbSecondsOfCpu(f.cpuMs, topology.functions[name as FunctionName].memoryMb),
      0,
    ),
    // Each request here stays under 64 KiB (the ingest packs messages to ≤ 64 KiB).
    sqsRequests: sum(sqs),
    dynamoDbWriteUnits: usage.dynamodb.writeUnits,
    dynamoDbReadUnits: usage.dynamodb.readUnits - readLoad.readUnits,
    logBytes: usage.logs.emfBytes + usage.logs.otherBytes,
  };
};

/**
 * When the queue last held no message, visible, in flight or delayed (polled every 10 ms, for at
 * most 2 minutes). The read-back is not timed: each of its passes reads every reading again,
 * which would count its own time as storing.
 */
const queueDrained = async (stack: LocalStack, name: QueueName): Promise<number> => {
  const { queue } = stack.queues[name];
  const deadline = performance.now() + 120_000;
  for (;;) {
    const { visible, inFlight, delayed } = queue.counts();
    if (visible + inFlight + delayed === 0 || performance.now() > deadline)
      return performance.now();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

const runScenario = async (
  stack: LocalStack,
  batch: number,
  options: BenchOptions,
  frontEnd?: FrontEndScenario,
): Promise<ScenarioResult> => {
  const readings = Math.min(options.requests * batch, options.maxReadings);
  stack.resetRequestCounts();
  const startedMs = performance.now();
  const startedCpu = process.cpuUsage();
  const { report, acceptedReadings, identify } = await runSimulation({
    url: stack.url,
    readings,
    batch,
    concurrency: options.concurrency,
    sensors: frontEnd?.sensors ?? options.sensors,
    user: 'bench',
    ...(frontEnd
      ? { rate: frontEnd.requestsPerSecond, idempotencyKeys: false, clientTimestamps: false }
      : {}),
  });
  const storingMs = (await queueDrained(stack, 'measurements')) - startedMs;
  const storingCpu = process.cpuUsage(startedCpu);
  // The report builds the runs asked for (at their finish, then for batches stored after it)
  // are the scenario's cost: counted here, not in the next scenario's figures.
  await queueDrained(stack, 'reports');
  // Counted before the read-back so the verification's own traffic is known exactly.
  const beforeVerify = stack.usage();
  // Nothing else queries the table while the readings are read back (the runs are finished).
  const queriesBeforeVerify = stack.requestCounts().dynamodb.Query ?? 0;
  const readBackStarted = performance.now();
  const verified = await verifyStored({
    url: stack.url,
    acceptedReadings,
    identify,
    timeoutMs: 120_000,
  });
  const readBackMs = performance.now() - readBackStarted;
  // Let the consumers finish deleting and logging before the counters are read.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const usage = stack.usage();
  const counts = stack.requestCounts();
  const readBack = {
    apiRequests: usage.apiRequests - beforeVerify.apiRequests,
    readUnits: usage.dynamodb.readUnits - beforeVerify.dynamodb.readUnits,
    queryInvocations:
      (usage.lambda.sensorQuery?.invocations ?? 0) -
      (beforeVerify.lambda.sensorQuery?.invocations ?? 0),
  };
  // The run API's start/finish, per scenario, is counted too: it is part of a run's cost.
  const dynamoOps = { ...counts.dynamodb, Query: queriesBeforeVerify };
  const billed = billedUsage(usage, counts.sqs, readBack);
  const consumer = usage.lambda[topology.queues.measurements.consumer.function];
  // A request here is one message (every body packs into one of ≤ 64 KiB), sent in one call.
  const messages = Math.max(1, counts.sqs.SendMessageBatch ?? 0);
  const readingsPerMessage = report.accepted / messages;
  const lambdaInvocations = Object.fromEntries(
    Object.entries(usage.lambda)
      .filter(([name]) => name !== 'sensorQuery')
      .map(([name, f]) => [name, per1000(f.invocations, report.accepted)]),
  );
  const sensorDataUnits = (target: string) => usage.dynamodb.writeUnitsBy[target] ?? 0;
  const per1000Readings: ScenarioResult['per1000Readings'] = {
    apiRequests: per1000(billed.apiRequests, report.accepted),
    lambdaInvocations,
    lambdaGbSeconds: per1000(billed.lambdaGbSeconds, report.accepted),
    lambdaWallGbSeconds: per1000(wallGbSeconds(usage), report.accepted),
    sqs: scale(counts.sqs, report.accepted),
    dynamoDb: scale(dynamoOps, report.accepted),
    dynamoDbWriteUnits: per1000(billed.dynamoDbWriteUnits, report.accepted),
    dynamoDbReadUnits: per1000(billed.dynamoDbReadUnits, report.accepted),
    emfBytes: per1000(usage.logs.emfBytes, report.accepted),
    otherLogBytes: per1000(usage.logs.otherBytes, report.accepted),
  };
  const cost = costOf(billedPerMillion(per1000Readings));
  return {
    batch,
    ...(frontEnd ? { shape: 'front end' as const } : {}),
    readings,
    acceptedPerSecond: report.achievedRate,
    storedPerSecond: Math.round((verified.stored * 10_000) / storingMs) / 10,
    cpuMsPerRequest:
      Math.round((storingCpu.user + storingCpu.system) / 100 / Math.max(1, report.requests)) / 10,
    latencyMs: report.latencyMs,
    accepted: report.accepted,
    refused: report.refused,
    stored: verified.stored,
    lost: verified.lost,
    duplicated: verified.duplicated,
    readBack: {
      pages: verified.pagesRead,
      readingsPerSecond: Math.round((verified.stored * 1000) / readBackMs),
      queriesPerPage:
        Math.round(
          (((counts.dynamodb.Query ?? 0) - queriesBeforeVerify) * 10) / verified.pagesRead,
        ) / 10,
      readUnitsPerPage: Math.round((readBack.readUnits * 10) / verified.pagesRead) / 10,
    },
    per1000Readings,
    costPerMillionUsd: Math.round(cost.total * 1000) / 1000,
    costPerMillionByService: cost,
    capacity: capacityOf({
      batch,
      readingsPerMessage,
      consumerMsPerMessage: (consumer?.durationMs ?? 0) / messages,
      tableWriteUnitsPerReading: sensorDataUnits(stack.tables.sensorData) / report.accepted,
      sensorsPerRun: frontEnd?.sensors ?? options.sensors,
    }),
  };
};

/** Latency at a fixed rate on the warm stack; its readings are read back too. */
const runPaced = async (
  stack: LocalStack,
  run: PacedRun,
  options: BenchOptions,
): Promise<PacedResult> => {
  const { report, acceptedReadings } = await runSimulation({
    url: stack.url,
    rate: run.readingsPerSecond,
    durationSeconds: run.seconds,
    batch: run.batch,
    idempotencyKeys: run.idempotencyKeys !== false,
    concurrency: options.concurrency,
    sensors: options.sensors,
    user: 'bench',
  });
  const verified = await verifyStored({ url: stack.url, acceptedReadings, timeoutMs: 120_000 });
  return {
    ...run,
    acceptedPerSecond: report.achievedRate,
    latencyMs: report.latencyMs,
    lost: verified.lost,
    duplicated: verified.duplicated,
  };
};

export const runBench = async (options: BenchOptions): Promise<BenchResult> => {
  // The SDK's notice about Node 20 support says nothing about the benchmark.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const log = options.log ?? (() => undefined);
  const startedAt = new Date().toISOString();
  const { cpus } = await import('node:os');
  log('Starting the local stack…');
  const stack = await startLocalStack({
    port: 0,
    schedules: false,
    ...(options.environments === undefined
      ? {}
      : { maxEnvironmentsPerFunction: options.environments }),
  });
  const scenarios: ScenarioResult[] = [];
  const paced: PacedResult[] = [];
  try {
    log('Warming up (cold starts are measured separately)…');
    const warmUp = await runSimulation({
      url: stack.url,
      readings: 200,
      batch: 10,
      concurrency: 8,
      user: 'bench',
    });
    // Stored before the counters are reset, so no scenario pays for the warm-up.
    await verifyStored({ url: stack.url, acceptedReadings: warmUp.acceptedReadings });
    for (const batch of options.batches ?? BATCH_SIZES) {
      log(`Batch ${batch}…`);
      scenarios.push(await runScenario(stack, batch, options));
    }
    if (options.frontEnd) {
      log(`The front end's shape at ${options.frontEnd.requestsPerSecond} requests/s…`);
      scenarios.push(await runScenario(stack, 1, options, options.frontEnd));
    }
    for (const run of options.paced ?? []) {
      log(`Batch ${run.batch} at ${run.readingsPerSecond} readings/s…`);
      paced.push(await runPaced(stack, run, options));
    }
  } finally {
    await stack.stop();
  }
  log('Bundles and cold module loads…');
  const bundles = await measureBundles(options.loadSamples);
  return {
    kind: 'iot-playground-bench',
    startedAt,
    machine: { cpus: cpus().length, node: process.version, platform: process.platform },
    options: { ...options, log: undefined },
    scenarios,
    paced,
    bundles,
  };
};
