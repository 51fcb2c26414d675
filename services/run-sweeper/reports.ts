/**
 * Building the reports of ended runs. A run's report falls due once no reading can arrive for it
 * any more (its finish plus the grace period, or its TIMEOUT); the sweeper then reads the run's
 * stored readings page by page and keeps per (sensor, type) aggregates. A run too large for one
 * invocation is saved half-built with its cursor and continued at the next sweep.
 */
import {
  DynamoMeasurementQuery,
  type MeasurementQuery,
  type SendQuery,
} from '#shared/measurement-query.ts';
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

/**
 * Readings per page, the most a page of `GET /api/sensors/data` holds: the report only adds them
 * up, so the size trades calls against the memory a page's packs take.
 */
export const REPORT_PAGE_READINGS = 1000;

/**
 * The run's readings through the same reader as `GET /api/sensors/data` by run: a reading stored
 * in two packs (a retry without an Idempotency-Key) is counted once. The cursor is the reader's.
 */
export class DynamoRunReadings implements RunReadings {
  private readonly query: MeasurementQuery;

  constructor(send: SendQuery, tableName: string) {
    this.query = new DynamoMeasurementQuery(send, tableName);
  }

  async page(runId: string, startKey?: Record<string, unknown>): Promise<ReadingPage> {
    const page = await this.query.page({
      path: { kind: 'run', runId },
      limit: REPORT_PAGE_READINGS,
      // The cursor a previous page handed back, saved with the half-built report.
      ...(startKey === undefined ? {} : { startKey: startKey as Record<string, string> }),
    });
    return {
      readings: page.items,
      ...(page.lastKey === undefined ? {} : { lastKey: page.lastKey }),
    };
  }
}
