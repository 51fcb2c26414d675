/**
 * Building the reports of ended runs. A run's report falls due once no reading can arrive for it
 * any more (its finish plus the grace period, or its TIMEOUT); the sweeper then reads the run's
 * stored readings page by page and keeps per (sensor, type) aggregates. A run too large for one
 * invocation is saved half-built with its cursor and continued at the next sweep.
 */
import { QueryCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { runPartitions } from '#shared/measurement.ts';
import type { ReportStore } from '#shared/report-store.ts';
import { addReadings, type RunReport, type StoredReading } from '#shared/run-report.ts';

export interface ReadingPage {
  readings: StoredReading[];
  lastKey?: Record<string, unknown>;
}

export interface RunReadings {
  /** A page of the run's stored readings and where the next starts (absent at the end). */
  page(runId: string, startKey?: Record<string, unknown>): Promise<ReadingPage>;
}

export interface ReportDeps {
  reports: ReportStore;
  readings: RunReadings;
  now: () => number;
  /** Milliseconds the invocation has left. */
  remainingMs: () => number;
  retentionDays: number;
}

export interface ReportProgress {
  ready: string[];
  /** Saved half-built, continued at the next sweep. */
  building: string[];
}

/** Runs looked at per sweep; the rest wait for the next one. */
export const REPORTS_PER_SWEEP = 20;
/** Time kept back to save a half-built report before the invocation ends. */
export const REPORT_RESERVE_MS = 10_000;

const freshReport = (runId: string, at: number): RunReport => ({
  runId,
  state: 'BUILDING',
  rows: [],
  readingsNotBrokenDown: 0,
  builtAt: new Date(at).toISOString(),
});

export const buildDueReports = async (deps: ReportDeps): Promise<ReportProgress> => {
  const progress: ReportProgress = { ready: [], building: [] };
  const due = await deps.reports.listDue(deps.now(), REPORTS_PER_SWEEP);
  for (const runId of due) {
    if (deps.remainingMs() < REPORT_RESERVE_MS) break;
    const expiresAt = Math.floor(deps.now() / 1000) + deps.retentionDays * 86_400;
    const saved = await deps.reports.getReport(runId);
    // A READY report of a run still due was built before a crash: build it again from scratch.
    const report = saved?.state === 'BUILDING' ? saved : freshReport(runId, deps.now());
    let cursor = report.cursor;
    do {
      const page = await deps.readings.page(runId, cursor);
      report.readingsNotBrokenDown += addReadings(report.rows, page.readings);
      cursor = page.lastKey;
    } while (cursor !== undefined && deps.remainingMs() >= REPORT_RESERVE_MS);

    const { cursor: _previous, ...rest } = report;
    if (cursor !== undefined) {
      await deps.reports.putReport({ ...rest, cursor }, expiresAt);
      progress.building.push(runId);
      continue;
    }
    await deps.reports.putReport(
      { ...rest, state: 'READY', builtAt: new Date(deps.now()).toISOString() },
      expiresAt,
    );
    await deps.reports.clearDue(runId);
    progress.ready.push(runId);
  }
  return progress;
};

/** The one DynamoDB call of the readings reader; `(c) => documentClient.send(c)` in production. */
export type SendQuery = (command: QueryCommand) => Promise<QueryCommandOutput>;

export class DynamoRunReadings implements RunReadings {
  constructor(
    private readonly send: SendQuery,
    private readonly tableName: string,
  ) {}

  /**
   * A page of one of the run's partitions, read one after the other (the report only adds
   * readings up, so their order does not matter). The cursor names the partition, and the
   * readingKey to go on after unless the partition is to be read from its start.
   */
  async page(runId: string, startKey?: Record<string, unknown>): Promise<ReadingPage> {
    const partitions = runPartitions(runId);
    const index = Math.max(0, partitions.indexOf(String(startKey?.runPartition)));
    const partition = partitions[index]!;
    const out = await this.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'runPartition = :partition',
        ExpressionAttributeValues: { ':partition': partition },
        // Only what the report needs: a page (1 MB) then holds several thousand readings.
        ProjectionExpression: 'sensorId, #type, reading, #timestamp',
        ExpressionAttributeNames: { '#type': 'type', '#timestamp': 'timestamp' },
        ...(startKey?.readingKey === undefined ? {} : { ExclusiveStartKey: startKey }),
      }),
    );
    const next = partitions[index + 1];
    const lastKey =
      out.LastEvaluatedKey ?? (next === undefined ? undefined : { runPartition: next });
    return {
      readings: (out.Items ?? []) as StoredReading[],
      ...(lastKey ? { lastKey } : {}),
    };
  }
}
