import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { topology } from '#infra/topology.ts';
import { createDocumentClient } from '#shared/aws-clients.ts';
import { requireEnv } from '#shared/config.ts';
import { countRunsFinished, createRunMetrics, publishStored } from '#shared/metrics.ts';
import { RunMetric } from '#shared/metrics-contract.ts';
import { beginInvocation, createLogger } from '#shared/powertools.ts';
import { maxConcurrentRunsFromEnv } from '#shared/run.ts';
import { DynamoRunStore } from '#shared/run-store.ts';
import { sweep, type SweepDeps, type SweepReport } from './sweep.ts';

export interface SweeperDeps extends SweepDeps {
  logger: Logger;
  metrics: Metrics;
}

export const makeHandler =
  (deps: SweeperDeps) =>
  async (_event: ScheduledEvent, context: Context): Promise<SweepReport> => {
    beginInvocation(deps.logger, context);
    const report = await sweep(deps);
    // Sampled each minute: the Runs dashboard draws running runs against the limit.
    deps.metrics.addMetric(RunMetric.running, MetricUnit.Count, report.slotsHeld);
    deps.metrics.addMetric(RunMetric.limit, MetricUnit.Count, deps.maxConcurrentRuns);
    publishStored(deps.metrics);
    countRunsFinished(deps.metrics, 'TIMEOUT', report.timedOut.length);
    publishStored(deps.metrics);
    if (report.timedOut.length > 0 || report.slotsReleased > 0) {
      deps.logger.info('Sweep changed runs', {
        timedOut: report.timedOut,
        slotsReleased: report.slotsReleased,
      });
    }
    return report;
  };

export const defaultDeps = (): SweeperDeps => ({
  logger: createLogger(),
  metrics: createRunMetrics(topology.functions.runSweeper.service),
  store: new DynamoRunStore(createDocumentClient(), requireEnv(topology.tables.runs.env)),
  now: Date.now,
  maxConcurrentRuns: maxConcurrentRunsFromEnv(),
});
