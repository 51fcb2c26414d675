/**
 * `GET /api/reports/download`: the reports of ended runs as one CSV each in a ZIP, each marked
 * final or provisional (shared/run-report.ts), and the response marked final only when all are.
 * Reports are built as runs end and rebuilt as readings land (shared/report-builder.ts), so a
 * download reads a few small items and never a run's readings. Bounded to what a Lambda response
 * can carry (6 MB, base64).
 */
import { strToU8, zipSync, type Zippable } from 'fflate';
import { BadRequestError, NotFoundError } from '#shared/errors.ts';
import { RUN_ID } from '#shared/identity.ts';
import type { ReportStore } from '#shared/report-store.ts';
import { reportCsv, reportState, type RunReport } from '#shared/run-report.ts';
import type { Run } from '#shared/run.ts';
import { parseInstantParam } from '#shared/time.ts';
import type { RunDeps } from './runs.ts';

export interface ReportLimits {
  maxRuns: number;
  maxCsvBytes: number;
}

export const REPORT_LIMITS: ReportLimits = {
  /** Newest runs of the range looked at. */
  maxRuns: 100,
  /**
   * CSV bytes in one ZIP. Even incompressible, that is under 6 MB once base64-encoded (Lambda's
   * response limit); a report is at most ~150 KB, so at least 25 runs always fit.
   */
  maxCsvBytes: 4 * 1024 * 1024,
};

export interface ReportQuery {
  runId?: string;
  from?: number;
  to?: number;
}

export interface ReportDownload {
  fileName: string;
  zip: Uint8Array;
  runs: number;
  /** Runs with a report left out to stay within maxCsvBytes. */
  omitted: number;
  /** `final` when every report in the ZIP is final, else `provisional`. */
  state: 'final' | 'provisional';
}

const instant = (raw: string | undefined, field: string): number | undefined => {
  if (raw === undefined) return undefined;
  const value = parseInstantParam(raw);
  if (value === undefined) {
    throw new BadRequestError(`${field} is not an instant`, [
      { field, message: 'ISO-8601 with a zone, or epoch milliseconds' },
    ]);
  }
  return value;
};

/** `runId`, `from`, `to` (bounds of the runs' start). Anything that is no run id is unknown. */
export const parseReportQuery = (params: Record<string, string | undefined>): ReportQuery => {
  const { runId } = params;
  if (runId !== undefined && !RUN_ID.test(runId)) throw new NotFoundError('No reports found');
  const from = instant(params.from, 'from');
  const to = instant(params.to, 'to');
  if (from !== undefined && to !== undefined && from > to) {
    throw new BadRequestError('from is after to', [
      { field: 'from', message: 'must not be after to' },
    ]);
  }
  return {
    ...(runId === undefined ? {} : { runId }),
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
  };
};

const compactInstant = (ms: number) => new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '');

export const downloadReports = async (
  deps: RunDeps & { reports: ReportStore },
  query: ReportQuery,
  limits: ReportLimits = REPORT_LIMITS,
): Promise<ReportDownload> => {
  const { store, reports, now } = deps;
  let runs: Run[];
  if (query.runId !== undefined) {
    const run = await store.getRun(query.runId);
    runs = run ? [run] : [];
  } else {
    const range = {
      ...(query.from === undefined ? {} : { from: new Date(query.from).toISOString() }),
      ...(query.to === undefined ? {} : { to: new Date(query.to).toISOString() }),
    };
    runs = (await store.listPage(limits.maxRuns, undefined, range)).runs;
  }
  const ready = await reports.getReports(runs.map((run) => run.id));
  const reported = runs
    .map((run) => [run, ready.get(run.id)] as const)
    .filter((pair): pair is readonly [Run, RunReport] => pair[1]?.state === 'READY');
  if (reported.length === 0) throw new NotFoundError('No reports found');

  const files: Zippable = {};
  let bytes = 0;
  let included = 0;
  let state: ReportDownload['state'] = 'final';
  for (const [run, report] of reported) {
    const csv = strToU8(reportCsv(run, report));
    if (included > 0 && bytes + csv.length > limits.maxCsvBytes) break;
    files[`report_${run.id}.csv`] = [csv, { mtime: Date.parse(report.builtAt) }];
    bytes += csv.length;
    included++;
    if (reportState(report) === 'provisional') state = 'provisional';
  }
  return {
    fileName: `reports_${compactInstant(now())}.zip`,
    zip: zipSync(files, { level: 6 }),
    runs: included,
    omitted: reported.length - included,
    state,
  };
};
