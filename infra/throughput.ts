/**
 * The settings that bound a stage's throughput: the API stage's throttle and how the consumer
 * drains the measurement queue. `dev` is the topology as the local stack runs it; `prod` is
 * sized so the stage takes 5,000 single-reading requests a second (the bench prints the
 * arithmetic: `npm run bench`). Past that, raise the API throttle (and the account's API Gateway
 * quota, 10,000 requests/s by default), then the consumer's concurrency.
 */
import { topology } from './topology.ts';

export interface Throttle {
  rateLimit: number;
  burstLimit: number;
}

export interface ThroughputSettings {
  apiThrottle: Throttle;
  /**
   * Per-route limits far below ingestion's: the run API's routes (a person starts a handful of
   * runs), and `interrupt-all`, which touches every running run, lowest of all.
   */
  routeThrottles: {
    runApi: Throttle;
    interruptAll: Throttle;
    /**
     * The infrastructure panel: its polls (each open tab reads every 5 s), and create and
     * destroy, which start a deployment and are refused while one runs.
     */
    infraPanelRead: Throttle;
    infraPanelDeploy: Throttle;
  };
  /** The measurement queue's event-source mapping. */
  consumer: { batchSize: number; maxBatchingWindowSeconds: number; maxConcurrency: number };
}

const { batchSize, maxBatchingWindowSeconds, maxConcurrency } =
  topology.queues.measurements.consumer;

export const STAGE_THROUGHPUT = {
  dev: {
    apiThrottle: topology.api.throttle,
    routeThrottles: {
      runApi: { rateLimit: 20, burstLimit: 40 },
      interruptAll: { rateLimit: 1, burstLimit: 2 },
      infraPanelRead: { rateLimit: 5, burstLimit: 10 },
      infraPanelDeploy: { rateLimit: 1, burstLimit: 2 },
    },
    consumer: { batchSize, maxBatchingWindowSeconds, maxConcurrency },
  },
  prod: {
    // At most the account's default API Gateway quota (10,000/s steady, 5,000 burst).
    apiThrottle: { rateLimit: 6_000, burstLimit: 5_000 },
    routeThrottles: {
      runApi: { rateLimit: 50, burstLimit: 100 },
      interruptAll: { rateLimit: 1, burstLimit: 2 },
      infraPanelRead: { rateLimit: 5, burstLimit: 10 },
      infraPanelDeploy: { rateLimit: 1, burstLimit: 2 },
    },
    // A hundred messages an invocation, within a second, and up to 100 invocations at once:
    // 5,000 one-reading messages a second even at the 2-core bench's 11 ms a message (Lambda
    // takes far less), within the account's default 1,000 concurrent executions.
    consumer: { batchSize: 100, maxBatchingWindowSeconds: 1, maxConcurrency: 100 },
  },
} as const satisfies Record<'dev' | 'prod', ThroughputSettings>;
