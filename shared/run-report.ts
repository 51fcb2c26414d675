/**
 * The report of a finished run: per sensor and type, how many readings were stored, their
 * min, max and mean, and the first and last timestamps. The sweeper builds it from the stored
 * readings once no more can arrive for the run (`reportDueAt`); the run API serves it as CSV
 * files in a ZIP (`GET /api/reports/download`). Building it from the stored readings, read back
 * as queries read them (each reading once, shared/pack-merge.ts), not counting as they pass,
 * makes it exact under SQS's at-least-once delivery and client re-sends. Pure.
 */

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
  /** BUILDING while the sweeper pages through a large run; READY once complete. */
  state: 'BUILDING' | 'READY';
  rows: ReportRow[];
  /** Readings of (sensor, type) pairs past MAX_REPORT_ROWS: counted, not broken down. */
  readingsNotBrokenDown: number;
  /** Where the next page of readings starts while BUILDING. */
  cursor?: Record<string, unknown>;
  builtAt: string;
}

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
