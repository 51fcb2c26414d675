/**
 * The sweeper's part in the run reports (shared/report-builder.ts): it builds the reports that
 * are due — of runs it just marked TIMEOUT, of runs whose acceptance window has closed, of runs
 * that received readings after they ended, and of large runs left half-built.
 */
import { buildReport, REPORT_RESERVE_MS, type ReportBuildDeps } from '#shared/report-builder.ts';

export type ReportDeps = ReportBuildDeps;

export interface ReportProgress {
  ready: string[];
  /** Saved half-built, continued at the next sweep. */
  building: string[];
}

/** Runs looked at per sweep; the rest wait for the next one. */
export const REPORTS_PER_SWEEP = 20;

/** Builds the reports of `first` (runs that just ended), then those that are due. */
export const buildDueReports = async (
  deps: ReportDeps,
  first: readonly string[] = [],
): Promise<ReportProgress> => {
  const progress: ReportProgress = { ready: [], building: [] };
  const due = await deps.reports.listDue(deps.now(), REPORTS_PER_SWEEP);
  for (const runId of new Set([...first, ...due])) {
    if (deps.remainingMs() < REPORT_RESERVE_MS) break;
    const outcome = await buildReport(deps, runId);
    if (outcome === 'ready') progress.ready.push(runId);
    if (outcome === 'building') progress.building.push(runId);
  }
  return progress;
};
