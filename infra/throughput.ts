/**
 * The settings that bound a stage's throughput: the API stage's throttle, per-route throttles,
 * each function's reserved concurrency and how the consumer drains the measurement queue. `dev`
 * is the topology as the local stack runs it; `prod` is sized so the stage takes 5,000
 * single-reading requests a second (the bench prints the arithmetic: `npm run bench`). Past
 * that, raise the API throttle (and the account's API Gateway quota, 10,000 requests/s by
 * default), the ingest route's throttle and reserved concurrency, then the consumer's.
 */
import { type FunctionName, functionNames, topology } from './topology.ts';

export interface Throttle {
  rateLimit: number;
  burstLimit: number;
}

export interface ThroughputSettings {
  apiThrottle: Throttle;
  /**
   * Per-route limits within the stage's: the run API's routes (a person starts a handful of
   * runs), `interrupt-all`, which touches every running run, lowest of all, and the data routes
   * — posting readings (the stage's purpose, most of its throttle) and reading them back.
   */
  routeThrottles: {
    runApi: Throttle;
    interruptAll: Throttle;
    ingest: Throttle;
    sensorQuery: Throttle;
    /**
     * The infrastructure panel: its polls (each open tab reads every 5 s), and create and
     * destroy, which start a deployment and are refused while one runs.
     */
    infraPanelRead: Throttle;
    infraPanelDeploy: Throttle;
  };
  /**
   * Executions reserved for each function: no other function of the account (the other stage's
   * included) can take them, and the function never runs more at once.
   */
  reservedConcurrency: Record<FunctionName, number>;
  /** The measurement queue's event-source mapping. */
  consumer: { batchSize: number; maxBatchingWindowSeconds: number; maxConcurrency: number };
}

/**
 * Mean duration assumed per invocation when sizing reserved concurrency (concurrency = requests
 * per second × seconds per request). Assumptions, not measurements — no AWS here: ingest
 * validates and makes two calls (the tally's ADD, one SendMessageBatch), a query reads up to
 * 1,000 readings, and a report download reads and zips up to 100 runs' reports. The functions'
 * Throttles alarms say when one is wrong.
 */
export const ASSUMED_DURATION_SECONDS = {
  ingest: 0.05,
  sensorQuery: 0.2,
  runApi: 0.5,
  // A poll that refreshes from GitHub, or a dispatch: one call to GitHub's API.
  infraApi: 0.5,
} as const;

/** Lambda's default concurrent executions per account and region. */
export const DEFAULT_ACCOUNT_CONCURRENCY = 1_000;
/**
 * What reservations must leave unreserved: "You can reserve up to the Unreserved account
 * concurrency value ... minus 100 for functions that don't have reserved concurrency"
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
 */
export const MIN_UNRESERVED_CONCURRENCY = 100;

/**
 * The sweeper runs every minute for up to 90 s, so two scheduled sweeps may overlap, beside the
 * report builds its queue's mapping runs (at most its maximum concurrency).
 */
const SWEEPER_CONCURRENCY = 2 + topology.queues.reports.consumer.maxConcurrency;

const reserve = (
  routeThrottles: ThroughputSettings['routeThrottles'],
  consumerConcurrency: number,
): Record<FunctionName, number> => ({
  ingest: Math.ceil(routeThrottles.ingest.rateLimit * ASSUMED_DURATION_SECONDS.ingest),
  sensorQuery: Math.ceil(
    routeThrottles.sensorQuery.rateLimit * ASSUMED_DURATION_SECONDS.sensorQuery,
  ),
  runApi: Math.ceil(routeThrottles.runApi.rateLimit * ASSUMED_DURATION_SECONDS.runApi),
  // Equal to the event source mapping's maximum: below it Lambda throttles the mapping.
  ingestConsumer: consumerConcurrency,
  runSweeper: SWEEPER_CONCURRENCY,
  // Its routes, and its idle check on a schedule.
  infraApi:
    Math.ceil(
      (routeThrottles.infraPanelRead.rateLimit + routeThrottles.infraPanelDeploy.rateLimit) *
        ASSUMED_DURATION_SECONDS.infraApi,
    ) + 1,
});

const { batchSize, maxBatchingWindowSeconds, maxConcurrency } =
  topology.queues.measurements.consumer;

const DEV_ROUTES = {
  runApi: { rateLimit: 20, burstLimit: 40 },
  interruptAll: { rateLimit: 1, burstLimit: 2 },
  // The local stack's gateway and the bench stay far below this; a dev flood stops here.
  ingest: { rateLimit: 400, burstLimit: 800 },
  sensorQuery: { rateLimit: 20, burstLimit: 40 },
  infraPanelRead: { rateLimit: 5, burstLimit: 10 },
  infraPanelDeploy: { rateLimit: 1, burstLimit: 2 },
};

const PROD_ROUTES = {
  runApi: { rateLimit: 50, burstLimit: 100 },
  interruptAll: { rateLimit: 1, burstLimit: 2 },
  // The 5,000 requests a second the stage is sized for; the rest of its throttle is the runs'.
  ingest: { rateLimit: 5_000, burstLimit: 5_000 },
  sensorQuery: { rateLimit: 50, burstLimit: 100 },
  infraPanelRead: { rateLimit: 5, burstLimit: 10 },
  infraPanelDeploy: { rateLimit: 1, burstLimit: 2 },
};

const PROD_CONSUMER = { batchSize: 100, maxBatchingWindowSeconds: 1, maxConcurrency: 100 };

export const STAGE_THROUGHPUT = {
  dev: {
    apiThrottle: topology.api.throttle,
    routeThrottles: DEV_ROUTES,
    reservedConcurrency: reserve(DEV_ROUTES, maxConcurrency),
    consumer: { batchSize, maxBatchingWindowSeconds, maxConcurrency },
  },
  prod: {
    // At most the account's default API Gateway quota (10,000/s steady, 5,000 burst).
    apiThrottle: { rateLimit: 6_000, burstLimit: 5_000 },
    routeThrottles: PROD_ROUTES,
    reservedConcurrency: reserve(PROD_ROUTES, PROD_CONSUMER.maxConcurrency),
    // A hundred messages an invocation, within a second, and up to 100 invocations at once:
    // 5,000 one-reading messages a second even at the 2-core bench's 11 ms a message (Lambda
    // takes far less), within the account's concurrency (see reservedTotal).
    consumer: PROD_CONSUMER,
  },
} as const satisfies Record<'dev' | 'prod', ThroughputSettings>;

/** Executions a stage reserves in its account (both stages' add up in a shared one). */
export const reservedTotal = (stage: keyof typeof STAGE_THROUGHPUT): number =>
  functionNames.reduce((sum, name) => sum + STAGE_THROUGHPUT[stage].reservedConcurrency[name], 0);
