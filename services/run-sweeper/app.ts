import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, ScheduledEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { topology } from '#infra/topology.ts';
import { createDocumentClient, createSqsClient } from '#shared/aws-clients.ts';
import { intEnv, requireEnv } from '#shared/config.ts';
import { countRunsFinished, createRunMetrics, publishStored } from '#shared/metrics.ts';
import { RunMetric } from '#shared/metrics-contract.ts';
import { beginInvocation, createLogger } from '#shared/powertools.ts';
import { maxConcurrentRunsFromEnv, runGraceMsFromEnv } from '#shared/run.ts';
import { DynamoReportStore } from '#shared/report-store.ts';
import { DynamoRunStore } from '#shared/run-store.ts';
import { buildReport, DynamoRunReadings, REPORT_RESERVE_MS } from '#shared/report-builder.ts';
import {
  parseReportRequest,
  SqsQueueBacklog,
  SqsReportRequests,
  type QueueBacklog,
  type ReportRequests,
} from '#shared/report-requests.ts';
import { DynamoRunTally } from '#shared/run-tally.ts';
import { sleep } from '#shared/backoff.ts';
import { buildDueReports, type ReportDeps, type ReportProgress } from './reports.ts';
import { sweep, type SweepDeps, type SweepReport } from './sweep.ts';

export interface SweeperDeps extends SweepDeps, Omit<ReportDeps, 'remainingMs'> {
  logger: Logger;
  metrics: Metrics;
  /** Readings waiting in the measurement queue: a build waits while there is a backlog. */
  ingestionBacklog: QueueBacklog;
  /** Where a build put off goes back (the reports queue). */
  reportRequests: ReportRequests;
  /** How often the sweeper is scheduled: deadlines before the next sweep are waited for. */
  periodMs: number;
  sleep: (ms: number) => Promise<void>;
}

export type SweeperResult = SweepReport & { reports: ReportProgress };

const isReportRequests = (event: ScheduledEvent | SQSEvent): event is SQSEvent =>
  'Records' in event;

/**
 * The sweeper's two triggers: its schedule (`sweepOnSchedule`), and the reports queue, on which
 * a finish, an interrupt or a late batch asks for a run's report now (`buildRequested`).
 */
export interface SweeperHandler {
  (event: ScheduledEvent, context: Context): Promise<SweeperResult>;
  (event: SQSEvent, context: Context): Promise<SQSBatchResponse>;
}

export const makeHandler = (deps: SweeperDeps): SweeperHandler => {
  const onSchedule = sweepOnSchedule(deps);
  const onRequests = buildRequested(deps);
  return ((event: ScheduledEvent | SQSEvent, context: Context) =>
    isReportRequests(event)
      ? onRequests(event, context)
      : onSchedule(event, context)) as SweeperHandler;
};

/**
 * A build waits while messages wait in the measurement queue: a run that ends with a backlog
 * has its readings still on their way, so a report built now is soon built again (the
 * consumer asks once they may all be in), and reading every pack of the run meanwhile takes
 * the time the backlog needs to drain. It waits in steps of BUILD_DEFERRAL_SECONDS on the
 * reports queue (DelaySeconds), MAX_BUILD_DEFERRALS at most: under a backlog that never ends,
 * a report comes at most that much later, but it always comes.
 */
export const BUILD_DEFERRAL_SECONDS = 2;
export const MAX_BUILD_DEFERRALS = 10;

/**
 * Builds the reports a batch of requests asks for, each run once however often it was asked,
 * one after the other within the invocation's time — or puts them off while the measurement
 * queue has a backlog (above). A run whose build failed has its requests reported failed (SQS
 * delivers them again; after the queue's receives, the dead-letter queue keeps them, and the run
 * stays due for the sweep); one too large for this invocation is saved half-built and continued
 * by the sweep (shared/report-builder.ts).
 */
export const buildRequested =
  (deps: SweeperDeps) =>
  async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    beginInvocation(deps.logger, context);
    const requests = new Map<string, { messageIds: string[]; deferrals: number }>();
    const failures: string[] = [];
    for (const record of event.Records) {
      const request = parseReportRequest(record.body);
      if (request === undefined) {
        // Nothing this project sends, and no retry makes it one: logged and dropped.
        deps.logger.error('Not a report request; dropped', { messageId: record.messageId });
        continue;
      }
      const known = requests.get(request.runId) ?? { messageIds: [], deferrals: 0 };
      known.messageIds.push(record.messageId);
      known.deferrals = Math.max(known.deferrals, request.deferrals ?? 0);
      requests.set(request.runId, known);
    }
    const backlog = await deps.ingestionBacklog.waiting().catch((error: unknown) => {
      deps.logger.warn('Measurement queue depth unknown; building at once', {
        error: error as Error,
      });
      return 0;
    });
    const remainingMs = () => context.getRemainingTimeInMillis();
    const progress: ReportProgress = { ready: [], building: [] };
    const deferred: string[] = [];
    for (const [runId, { messageIds, deferrals }] of requests) {
      if (backlog > 0 && deferrals < MAX_BUILD_DEFERRALS) {
        await deps.reportRequests.request(runId, {
          delaySeconds: BUILD_DEFERRAL_SECONDS,
          deferrals: deferrals + 1,
        });
        deferred.push(runId);
        continue;
      }
      if (remainingMs() < REPORT_RESERVE_MS) {
        failures.push(...messageIds);
        continue;
      }
      try {
        const outcome = await buildReport({ ...deps, remainingMs }, runId);
        if (outcome === 'ready') progress.ready.push(runId);
        if (outcome === 'building') progress.building.push(runId);
      } catch (error) {
        deps.logger.error('Run report not built; its request comes again', {
          runId,
          error: error as Error,
        });
        failures.push(...messageIds);
      }
    }
    if (progress.ready.length > 0 || progress.building.length > 0 || deferred.length > 0) {
      deps.logger.info('Run reports built on request', { ...progress, deferred, backlog });
    }
    return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
  };

/**
 * A run that times out gets its report within seconds of its deadline, not at the next
 * minute's sweep: while a running run's deadline falls before the next scheduled sweep and the
 * invocation has time left to build its report, the sweeper waits for it and sweeps again. An
 * invocation waits only while a run is running, so an idle stage pays nothing for it.
 */
export const sweepOnSchedule =
  (deps: SweeperDeps) =>
  async (_event: ScheduledEvent, context: Context): Promise<SweeperResult> => {
    beginInvocation(deps.logger, context);
    const nextSweepAt = deps.now() + deps.periodMs;
    const remainingMs = () => context.getRemainingTimeInMillis();
    const first = await sweep(deps);
    // Sampled each minute: the Runs dashboard draws running runs against the limit.
    deps.metrics.addMetric(RunMetric.running, MetricUnit.Count, first.slotsHeld);
    deps.metrics.addMetric(RunMetric.limit, MetricUnit.Count, deps.maxConcurrentRuns);
    publishStored(deps.metrics);

    const result: SweeperResult = {
      timedOut: [],
      slotsReleased: 0,
      slotsHeld: first.slotsHeld,
      reports: { ready: [], building: [] },
    };
    let swept = first;
    for (;;) {
      await recordSweep(deps, swept, result, remainingMs);
      const deadline = swept.nextDeadlineAt;
      if (deadline === undefined || deadline >= nextSweepAt) break;
      const wait = deadline + 1 - deps.now();
      if (remainingMs() - wait < REPORT_RESERVE_MS) break;
      await deps.sleep(Math.max(0, wait));
      swept = await sweep(deps);
    }
    return result;
  };

/**
 * Counts and logs one sweep's changes into `result` and builds the reports that are due, the
 * runs it timed out first.
 */
const recordSweep = async (
  deps: SweeperDeps,
  swept: SweepReport,
  result: SweeperResult,
  remainingMs: () => number,
): Promise<void> => {
  countRunsFinished(deps.metrics, 'TIMEOUT', swept.timedOut.length);
  publishStored(deps.metrics);
  if (swept.timedOut.length > 0 || swept.slotsReleased > 0) {
    deps.logger.info('Sweep changed runs', {
      timedOut: swept.timedOut,
      slotsReleased: swept.slotsReleased,
    });
  }
  const reports = await buildDueReports({ ...deps, remainingMs }, swept.timedOut);
  if (reports.ready.length > 0 || reports.building.length > 0) {
    deps.logger.info('Run reports built', { ...reports });
  }
  result.timedOut.push(...swept.timedOut);
  result.slotsReleased += swept.slotsReleased;
  result.slotsHeld = swept.slotsHeld;
  result.nextDeadlineAt = swept.nextDeadlineAt;
  result.reports.ready.push(...reports.ready);
  result.reports.building.push(...reports.building);
};

const sweeperPeriodMs =
  (topology.schedules.find((schedule) => schedule.function === 'runSweeper')?.rateMinutes ?? 1) *
  60_000;

export const defaultDeps = (): SweeperDeps => {
  const documents = createDocumentClient();
  const runsTable = requireEnv(topology.tables.runs.env);
  const sqs = createSqsClient();
  const logger = createLogger();
  return {
    logger,
    ingestionBacklog: new SqsQueueBacklog(sqs, requireEnv(topology.queues.measurements.env)),
    reportRequests: new SqsReportRequests(sqs, requireEnv(topology.queues.reports.env), logger),
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
    periodMs: sweeperPeriodMs,
    sleep,
    maxConcurrentRuns: maxConcurrentRunsFromEnv(),
    retentionDays: intEnv('RUN_RETENTION_DAYS', 30, { min: 1, max: 3650 }),
  };
};
