/**
 * What the ingest scripts share: a run started in setup and finished in teardown, each
 * iteration posting one request of `BATCH` readings with an Idempotency-Key, the
 * `measurements_accepted` metric, and the summary files the workflow publishes.
 */
import { check, fail } from 'k6';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import {
  errorText,
  ingestBody,
  ingestHeaders,
  runSeries,
  sensorIds,
  startRunBody,
  DEFAULT_TYPES,
  type Series,
} from '../../payload.ts';
import { settings } from './config.ts';

export const measurementsAccepted = new Counter('measurements_accepted');

export interface RunData {
  runId: string;
}

const jsonHeaders = { 'Content-Type': 'application/json', 'X-User': settings.user };

/** Starts one run lasting `durationSeconds` (plus a margin), after checking can-start. */
export const startRun = (durationSeconds: number): RunData => {
  const canStart = http.get(`${settings.baseUrl}/api/runs/can-start`, {
    tags: { endpoint: 'runs' },
  });
  if (canStart.status !== 200 || canStart.json('canStart') !== true) {
    fail(`No run may start now: ${canStart.status} ${canStart.body as string}`);
  }
  // One sensor list per VU number keeps timestamps unique per series without coordination.
  const started = http.post(
    `${settings.baseUrl}/api/runs/start`,
    JSON.stringify(startRunBody(durationSeconds + 120, sensorIds(settings.sensors))),
    { headers: jsonHeaders, tags: { endpoint: 'runs' } },
  );
  if (started.status !== 201) {
    fail(`Start refused: ${started.status} ${errorText(started.json()) ?? ''}`);
  }
  return { runId: started.json('id') as string };
};

export const finishRun = (data: RunData, status = 'COMPLETED'): void => {
  const finished = http.post(
    `${settings.baseUrl}/api/runs/${data.runId}/finish`,
    JSON.stringify({ status }),
    { headers: jsonHeaders, tags: { endpoint: 'runs' } },
  );
  check(finished, { 'run finished': (r) => r.status === 200 });
};

// Per VU: its own sensors (named after the VU) so no two VUs share a series.
let series: Series[] | undefined;
let next = 0;

/** One iteration: a request of `settings.batch` readings for the run. */
export const sendReadings = (data: RunData): void => {
  series ??= runSeries(
    sensorIds(settings.sensors).map((id) => `vu${__VU}-${id}`),
    DEFAULT_TYPES,
    settings.seed + __VU,
  );
  const now = Date.now();
  const readings = Array.from({ length: settings.batch }, () =>
    series![next++ % series!.length]!.reading(now),
  );
  const response = http.post(
    `${settings.baseUrl}/api/sensors/data`,
    JSON.stringify(ingestBody(readings)),
    {
      headers: ingestHeaders(data.runId, `${data.runId}.${__VU}.${__ITER}`, settings.user),
      tags: { endpoint: 'ingest' },
    },
  );
  const accepted = check(response, {
    'readings accepted (202)': (r) => r.status === 202 && r.json('accepted') === readings.length,
  });
  if (accepted) measurementsAccepted.add(readings.length);
};

interface SummaryData {
  metrics: Record<
    string,
    { values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }
  >;
}

const figure = (data: SummaryData, metric: string, value: string): string => {
  const found = data.metrics[metric]?.values[value];
  return found === undefined ? '–' : String(Math.round(found * 100) / 100);
};

/** The headline figures as Markdown: what the workflow writes to the job summary. */
export const headline = (data: SummaryData, scenario: string): string => {
  const failed = Object.entries(data.metrics).flatMap(([name, metric]) =>
    Object.entries(metric.thresholds ?? {})
      .filter(([, result]) => !result.ok)
      .map(([threshold]) => `\`${name}: ${threshold}\``),
  );
  const ingest = 'http_req_duration{endpoint:ingest}';
  return [
    `### k6 ${scenario} against ${settings.baseUrl}`,
    '',
    '| figure | value |',
    '| --- | --- |',
    `| measurements accepted | ${figure(data, 'measurements_accepted', 'count')} (${figure(data, 'measurements_accepted', 'rate')}/s) |`,
    `| requests | ${figure(data, 'http_reqs', 'count')} (${figure(data, 'http_reqs', 'rate')}/s) |`,
    `| failed requests | ${figure(data, 'http_req_failed', 'rate')} |`,
    `| ingest latency p95 / p99 ms | ${figure(data, ingest, 'p(95)')} / ${figure(data, ingest, 'p(99)')} |`,
    `| batch size | ${settings.batch} |`,
    '',
    failed.length === 0 ? 'All thresholds passed.' : `Thresholds crossed: ${failed.join(', ')}`,
    '',
  ].join('\n');
};

/** k6's handleSummary: the full summary as JSON and the headline as Markdown, beside stdout. */
export const summaryFiles = (scenario: string) => (data: SummaryData) => {
  const text = headline(data, scenario);
  return {
    [`${settings.summaryDir}/summary.json`]: JSON.stringify(data, null, 2),
    [`${settings.summaryDir}/summary.md`]: text,
    stdout: `${text}\n`,
  };
};
