/**
 * Settings every script reads from `__ENV` (k6 -e NAME=value, or the environment), and the
 * thresholds they share. No Node APIs: this runs inside k6.
 */
import type { Options } from 'k6/options';

const text = (name: string, fallback: string): string => __ENV[name] || fallback;
const number = (name: string, fallback: number): number => {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number, got ${raw}`);
  return value;
};

export const settings = {
  /** API base URL, e.g. the stack's ApiUrl output; no trailing slash. */
  baseUrl: text('BASE_URL', 'http://127.0.0.1:3000').replace(/\/+$/, ''),
  /** Readings per second in total (constant-rate, soak; the peak of ramp; the base of spike). */
  rate: number('RATE', 100),
  /** Readings per request: 1 sends the single-reading shape. */
  batch: Math.max(1, Math.floor(number('BATCH', 10))),
  /** k6 duration string of the main stage. */
  duration: text('DURATION', '1m'),
  sensors: Math.max(1, Math.floor(number('SENSORS', 5))),
  user: text('USER_NAME', 'k6'),
  seed: number('SEED', 1),
  maxVus: Math.max(1, Math.floor(number('MAX_VUS', 200))),
  /** Latency thresholds, milliseconds. */
  p95Ms: number('P95_MS', 500),
  p99Ms: number('P99_MS', 1500),
  /** The stage's MAX_CONCURRENT_RUNS, for the lifecycle test. */
  maxRuns: Math.max(1, Math.floor(number('MAX_RUNS', 5))),
  /** Where handleSummary writes summary.json and summary.md. */
  summaryDir: text('SUMMARY_DIR', '.'),
};

/** Requests per second that carry `rate` readings per second at the batch size. */
export const requestsPerSecond = (readingsPerSecond: number): number =>
  Math.max(1, Math.ceil(readingsPerSecond / settings.batch));

/** Seconds of a k6 duration string such as `90s`, `5m`, `1h30m`. */
export const seconds = (duration: string): number => {
  let total = 0;
  for (const [, amount, unit] of duration.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    total +=
      Number(amount) * ({ ms: 0.001, s: 1, m: 60, h: 3600 } as Record<string, number>)[unit!]!;
  }
  return total;
};

/** Failed requests, latency percentiles, and readings accepted: the test fails on any of them. */
export const ingestThresholds: Options['thresholds'] = {
  http_req_failed: [{ threshold: 'rate<0.01', abortOnFail: false }],
  'http_req_duration{endpoint:ingest}': [`p(95)<${settings.p95Ms}`, `p(99)<${settings.p99Ms}`],
  measurements_accepted: ['count>0'],
  checks: ['rate>0.99'],
};
