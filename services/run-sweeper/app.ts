import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { topology } from '#infra/topology.ts';
import { createDocumentClient } from '#shared/aws-clients.ts';
import { intEnv, requireEnv } from '#shared/config.ts';
import { countRunsFinished, createRunMetrics, publishStored } from '#shared/metrics.ts';
import { RunMetric } from '#shared/metrics-contract.ts';
import { beginInvocation, createLogger } from '#shared/powertools.ts';
import { maxConcurrentRunsFromEnv, runGraceMsFromEnv } from '#shared/run.ts';
import { DynamoReportStore } from '#shared/report-store.ts';
import { DynamoRunStore } from '#shared/run-store.ts';
import { DynamoRunReadings } from '#shared/report-builder.ts';
import { DynamoRunTally } from '#shared/run-tally.ts';
import { buildDueReports, type ReportDeps, type ReportProgress } from './reports.ts';
import { sweep, type SweepDeps, type SweepReport } from './sweep.ts';

export interface SweeperDeps extends SweepDeps, Omit<ReportDeps, 'remainingMs'> {
  logger: Logger;
  metrics: Metrics;
}

export const makeHandler =
  (deps: SweeperDeps) =>
  async (
    _event: ScheduledEvent,
    context: Context,
  ): Promise<SweepReport & { reports: ReportProgress }> => {
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
    // A timed-out run's report is built now, in the sweep that ended it.
    const reports = await buildDueReports(
      { ...deps, remainingMs: () => context.getRemainingTimeInMillis() },
      report.timedOut,
    );
    if (reports.ready.length > 0 || reports.building.length > 0) {
      deps.logger.info('Run reports built', { ...reports });
    }
    return { ...report, reports };
  };

export const defaultDeps = (): SweeperDeps => {
  const documents = createDocumentClient();
  const runsTable = requireEnv(topology.tables.runs.env);
  return {
    logger: createLogger(),
    metrics: createRunMetrics(topology.functions.runSweeper.service),
    store: new DynamoRunStore(documents, runsTable),
    runs: new DynamoRunStore(documents, runsTable),
    reports: new DynamoReportStore(documents, runsTable),
    tally: new DynamoRunTally(documents, runsTable),
    graceMs: runGraceMsFromEnv(),
    readings: new DynamoRunReadings(
      (command) => documents.send(command),
      requireEnv(topology.tables.sensorData.env),
    ),
    now: Date.now,
    maxConcurrentRuns: maxConcurrentRunsFromEnv(),
    retentionDays: intEnv('RUN_RETENTION_DAYS', 30, { min: 1, max: 3650 }),
  };
};
