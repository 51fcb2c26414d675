/**
 * `npm run simulate`: the IoT Playground front end at any rate, against the local stack or a
 * deployed URL. Ctrl+C stops sending, finishes the runs as FAILED and still prints the report.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_TYPES } from '../payload.ts';
import { runSimulation, type SimulationOptions, type SimulationReport } from './engine.ts';
import { verifyStored, type VerifyReport } from './verify.ts';

const HELP = `Usage: npm run simulate -- [options]

Sends sensor readings like the IoT Playground front end: starts runs, posts readings with an
Idempotency-Key (429/5xx/network errors retried with backoff), finishes the runs.

  --url <url>            API base URL (default http://127.0.0.1:3000, or $API_URL)
  --runs <n>             concurrent runs; must fit can-start (default 1)
  --sensors <n>          sensors per run (default 5)
  --types <a,b,...>      reading types (default ${DEFAULT_TYPES.join(',')})
  --rate <n>             readings per second in total (default 100; 0 = as fast as possible)
  --batch <n>            readings per request; 1 sends the single-reading shape (default 1)
  --duration <seconds>   how long to send (default 10)
  --readings <n>         stop after this many readings instead (or as well)
  --concurrency <n>      requests in flight at most (default 32)
  --user <name>          X-User (default simulator)
  --seed <n>             seed of the signals (default 1)
  --verify               read everything back and count stored, lost, duplicated
  --verify-timeout <s>   how long storage may take to catch up (default 60)
  --json                 print the report as one JSON object on the last line
  --help                 this text
`;

const OPTIONS = {
  url: { type: 'string' },
  runs: { type: 'string' },
  sensors: { type: 'string' },
  types: { type: 'string' },
  rate: { type: 'string' },
  batch: { type: 'string' },
  duration: { type: 'string' },
  readings: { type: 'string' },
  concurrency: { type: 'string' },
  user: { type: 'string' },
  seed: { type: 'string' },
  verify: { type: 'boolean' },
  'verify-timeout': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

const number = (name: string, raw: string | undefined, fallback: number, min = 1): number => {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) {
    throw new Error(`--${name} must be a number of at least ${min}, got "${raw}"`);
  }
  return value;
};

export type CliOptions = Omit<SimulationOptions, 'signal' | 'onProgress'> & {
  verify: boolean;
  verifyTimeoutSeconds: number;
  json: boolean;
};

/** The command line as engine options; throws a readable error for a bad value. */
export const parseCli = (argv: string[], env = process.env): CliOptions | 'help' => {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  if (values.help) return 'help';
  const rate = number('rate', values.rate, 100, 0);
  const readings =
    values.readings === undefined ? undefined : number('readings', values.readings, 0);
  return {
    url: (values.url ?? env.API_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, ''),
    runs: number('runs', values.runs, 1),
    sensors: number('sensors', values.sensors, 5),
    types: values.types ? values.types.split(',').map((type) => type.trim()) : DEFAULT_TYPES,
    ...(rate > 0 ? { rate } : {}),
    batch: number('batch', values.batch, 1),
    // With only --readings given, the count decides when to stop.
    ...(values.duration !== undefined || readings === undefined
      ? { durationSeconds: number('duration', values.duration, 10, 0.1) }
      : {}),
    ...(readings === undefined ? {} : { readings }),
    concurrency: number('concurrency', values.concurrency, 32),
    user: values.user ?? 'simulator',
    seed: number('seed', values.seed, 1, 0),
    verify: values.verify ?? false,
    verifyTimeoutSeconds: number('verify-timeout', values['verify-timeout'], 60),
    json: values.json ?? false,
  };
};

const fixed = (value: number, digits = 1) => value.toFixed(digits);

export const formatReport = (report: SimulationReport, verified?: VerifyReport): string => {
  const { latencyMs: l } = report;
  const refused = Object.entries(report.refusedByStatus)
    .map(([status, count]) => `${status === '0' ? 'no answer' : status}: ${count}`)
    .join(', ');
  const lines = [
    `runs        ${report.runs.map((run) => `${run.id} ${run.status}`).join('\n            ')}`,
    `sent        ${report.sent} readings in ${report.requests} requests (batch ${report.batch})`,
    `accepted    ${report.accepted}`,
    `refused     ${report.refused}${refused ? ` (${refused})` : ''}`,
    `retries     ${report.retries}`,
    `rate        ${fixed(report.achievedRate)} readings/s accepted (target ${report.targetRate ?? 'max'}) over ${fixed(report.sendingMs / 1000)} s`,
    `latency ms  p50 ${l.p50}  p95 ${l.p95}  p99 ${l.p99}  max ${l.max}`,
  ];
  if (report.interrupted) lines.push('interrupted sending stopped early (Ctrl+C)');
  if (verified) {
    lines.push(
      `stored      ${verified.stored}  lost ${verified.lost}  duplicated ${verified.duplicated}  unexpected ${verified.unexpected}`,
      `catch-up    ${fixed(verified.catchUpMs / 1000)} s until every accepted reading was stored`,
    );
  }
  return lines.join('\n');
};

const main = async () => {
  let options: CliOptions | 'help';
  try {
    options = parseCli(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${HELP}`);
    process.exit(2);
  }
  if (options === 'help') {
    console.log(HELP);
    return;
  }
  const controller = new AbortController();
  process.on('SIGINT', () => {
    if (controller.signal.aborted) process.exit(130); // a second Ctrl+C: leave now
    process.stderr.write('\nStopping: finishing the runs (Ctrl+C again to quit at once)\n');
    controller.abort();
  });
  const live = process.stderr.isTTY;
  const { report, acceptedReadings } = await runSimulation({
    ...options,
    signal: controller.signal,
    onProgress: (p) => {
      const line = `${fixed(p.elapsedMs / 1000)} s  ${fixed(p.currentRate, 0)}/s  accepted ${p.accepted}  errors ${p.errors}  p99 ${p.p99} ms`;
      process.stderr.write(live ? `\r${line}\x1b[K` : `${line}\n`);
    },
  });
  if (live) process.stderr.write('\n');
  let verified: VerifyReport | undefined;
  if (options.verify) {
    process.stderr.write('Reading back…\n');
    verified = await verifyStored({
      url: options.url,
      acceptedReadings,
      timeoutMs: options.verifyTimeoutSeconds * 1000,
      signal: controller.signal,
    });
  }
  console.log(formatReport(report, verified));
  if (options.json) {
    const { stored, lost, duplicated, unexpected, catchUpMs } = verified ?? {};
    console.log(
      JSON.stringify({
        ...report,
        ...(verified ? { stored, lost, duplicated, unexpected, catchUpMs } : {}),
      }),
    );
  }
  const failed =
    report.refused > 0 ||
    (verified !== undefined && (verified.lost > 0 || verified.duplicated > 0));
  process.exitCode = failed ? 1 : 0;
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(`simulate: ${(error as Error).message}`);
    process.exit(1);
  });
}
