/**
 * The report of an ended run: per sensor and type, how many readings were stored, their min,
 * max and mean, and the first and last timestamps, and whether it is final. It is built from the
 * stored readings (shared/report-builder.ts) as the run ends, again when the run's acceptance
 * window closes, and again whenever a reading lands after that; the run API serves it as CSV
 * files in a ZIP (`GET /api/reports/download`). Building it from the stored readings, read back
 * as queries read them (each reading once, shared/pack-merge.ts), not counting as they pass,
 * makes it exact under SQS's at-least-once delivery and client re-sends. Pure.
 */
import { topology } from '#infra/topology.ts';
import type { Run } from './run.ts';

/** Aggregates of one sensor and type. Timestamps are canonical ISO, so they compare as text. */
export interface ReportRow {
  sensorId: string;
  type: string;
  count: number;
  min: number;
  max: number;
  sum: number;
  firstAt: string;
  lastAt: string;
}

export interface RunReport {
  runId: string;
  /** BUILDING while a build pages through a large run (kept apart); READY once complete. */
  state: 'BUILDING' | 'READY';
  /**
   * Final: built after the run's acceptance window closed, from a table holding every reading
   * the edge accepted for the run (stored or parked). Provisional otherwise: a later build may
   * add readings. Absent on reports of older versions (which were never rebuilt): provisional.
   */
  final?: boolean;
  /** Readings the edge accepted for the run when the report was built (shared/run-tally.ts). */
  acceptedReadings?: number;
  /** Readings the table held for the run, every stored copy (a re-sent reading twice). */
  storedReadings?: number;
  /** Readings the table refused for good and the consumer parked instead. */
  parkedReadings?: number;
  /** The rebuild counter of the run the build started from (see ReportStore.lateStores). */
  lateStores?: number;
  rows: ReportRow[];
  /** Readings of (sensor, type) pairs past MAX_REPORT_ROWS: counted, not broken down. */
  readingsNotBrokenDown: number;
  /** Where the next page of readings starts while BUILDING. */
  cursor?: Record<string, unknown>;
  builtAt: string;
}

/**
 * Slack after a run's last accepting instant for an edge request that decided to accept just
 * before it: its tally count lands within its invocation, which Lambda ends at its timeout (the
 * ingest function's).
 */
export const EDGE_DECISION_SLACK_MS = topology.functions.ingest.timeoutSeconds * 1000;

/** How long an edge container reuses a run it read (services/ingest/runs.ts). */
export const EDGE_RUN_CACHE_MS = 5_000;

/**
 * When the run's acceptance window has closed for every edge container, so that its accepted
 * tally is final: a TIMEOUT at its deadline (no container takes a reading past it); a finish or
 * interrupt after the grace period (acceptsMeasurements), or once every container has re-read
 * the run when that is later: a container may take readings on a cached RUNNING run till then.
 */
export const acceptanceClosesAt = (
  run: Pick<Run, 'status' | 'deadlineAt' | 'finishedAt'>,
  graceMs: number,
): number => {
  const finishedAt = Date.parse(run.finishedAt ?? '');
  const last =
    run.status === 'TIMEOUT' || !Number.isFinite(finishedAt)
      ? run.deadlineAt
      : Math.max(finishedAt + graceMs, Math.min(run.deadlineAt, finishedAt + EDGE_RUN_CACHE_MS));
  return last + EDGE_DECISION_SLACK_MS;
};

/** (sensor, type) rows in one report; keeps the report item far below DynamoDB's 400 KB. */
export const MAX_REPORT_ROWS = 1000;

export interface StoredReading {
  sensorId: string;
  type: string;
  reading: number;
  timestamp: string;
}

const rowKey = (sensorId: string, type: string) => `${sensorId}\u0000${type}`;

/** Adds readings to a report's rows (in place); returns the readings that found no row. */
export const addReadings = (rows: ReportRow[], readings: readonly StoredReading[]): number => {
  const byKey = new Map(rows.map((row) => [rowKey(row.sensorId, row.type), row]));
  let unplaced = 0;
  for (const { sensorId, type, reading, timestamp } of readings) {
    const key = rowKey(sensorId, type);
    let row = byKey.get(key);
    if (!row) {
      if (rows.length >= MAX_REPORT_ROWS) {
        unplaced++;
        continue;
      }
      row = {
        sensorId,
        type,
        count: 0,
        min: reading,
        max: reading,
        sum: 0,
        firstAt: timestamp,
        lastAt: timestamp,
      };
      rows.push(row);
      byKey.set(key, row);
    }
    row.count++;
    row.sum += reading;
    row.min = Math.min(row.min, reading);
    row.max = Math.max(row.max, reading);
    if (timestamp < row.firstAt) row.firstAt = timestamp;
    if (timestamp > row.lastAt) row.lastAt = timestamp;
  }
  return unplaced;
};

/** Rows in a stable order for people: by sensor, then type. */
export const sortedRows = (rows: readonly ReportRow[]): ReportRow[] =>
  [...rows].sort((a, b) => a.sensorId.localeCompare(b.sensorId) || a.type.localeCompare(b.type));

/** A CSV field: quoted when it holds a separator, a quote or a line break (RFC 4180). */
const field = (value: unknown): string => {
  const text = value === undefined || value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

const line = (values: readonly unknown[]) => values.map(field).join(',');

export interface ReportedRun {
  id: string;
  username: string;
  status: string;
  startedAt: string;
  finishedAt?: string;
  duration: number;
  interval: number;
  sensorIds: string[];
  errorMessage?: string;
  message?: string;
}

/** What a download says of a report: `final`, or `provisional` while readings may still land. */
export const reportState = (report: Pick<RunReport, 'final'>): 'final' | 'provisional' =>
  report.final === true ? 'final' : 'provisional';

/**
 * One run's report as CSV: a block with the run's fields, a blank line, then one line per sensor
 * and type. Sensor ids are kept `;`-separated in one field.
 */
export const reportCsv = (run: ReportedRun, report: RunReport): string => {
  const lines = [
    line([
      'runId',
      'username',
      'status',
      'startedAt',
      'finishedAt',
      'durationSeconds',
      'intervalSeconds',
      'sensorIds',
      'errorMessage',
      'message',
      'readingsStored',
      'report',
      'reportBuiltAt',
      'readingsAccepted',
      'readingsStoredOrParked',
    ]),
    line([
      run.id,
      run.username,
      run.status,
      run.startedAt,
      run.finishedAt,
      run.duration,
      run.interval,
      run.sensorIds.join(';'),
      run.errorMessage,
      run.message,
      report.rows.reduce((total, row) => total + row.count, report.readingsNotBrokenDown),
      reportState(report),
      report.builtAt,
      report.acceptedReadings,
      report.storedReadings === undefined
        ? undefined
        : report.storedReadings + (report.parkedReadings ?? 0),
    ]),
    '',
    line(['sensorId', 'type', 'count', 'min', 'max', 'mean', 'firstTimestamp', 'lastTimestamp']),
    ...sortedRows(report.rows).map((row) =>
      line([
        row.sensorId,
        row.type,
        row.count,
        row.min,
        row.max,
        row.sum / row.count,
        row.firstAt,
        row.lastAt,
      ]),
    ),
  ];
  if (report.readingsNotBrokenDown > 0) {
    lines.push(line(['(other sensors)', '', report.readingsNotBrokenDown]));
  }
  return `${lines.join('\r\n')}\r\n`;
};
