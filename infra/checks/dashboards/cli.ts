/**
 * `npm run check:dashboards -- --grafana-url <url> [--summary <file.md>] [--dashboards <dir>]`
 * (INTERFACES.md): asks a Grafana every variable and panel query of the provisioned dashboards
 * and prints what it answered. Exit 0 when nothing failed, 1 when a query failed (or, with
 * `--fail-on-empty`, came back empty), 2 on a usage error.
 */
import { appendFile, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { DashboardJson } from '#shared/dashboard-model/index.ts';
import { checkDashboards } from './check.ts';
import { authenticationKind, authorization, grafanaClient } from './grafana-client.ts';
import { markdown, summaryLine, tally, textTable } from './report.ts';

export const USAGE = `Usage: npm run check:dashboards -- --grafana-url <url> [options]

Asks a Grafana, through its HTTP API, every variable and every panel query of the provisioned
dashboards, as the dashboards ask when they open; prints a table of the answers.

  --grafana-url <url>   Grafana's base URL (the local stack: http://127.0.0.1:<port>/grafana)
  --summary <file.md>   append the table as Markdown (e.g. "$GITHUB_STEP_SUMMARY")
  --dashboards <dir>    the dashboard JSON files (default: dashboards/generated)
  --var <name=value>    a variable's value, as a URL's var-<name> gives it (repeatable)
  --fail-on-empty       an empty result fails the check too
  --local-stack         the Grafana is the local stack's: its resource names carry no stage, so
                        filters naming $stage are left out, as the local pages leave them out

Authentication: GRAFANA_TOKEN (a service account token, sent as Bearer), else GRAFANA_USER and
GRAFANA_PASSWORD (basic), else anonymous.
Exit: 0 nothing failed, 1 a query failed (or was empty, with --fail-on-empty), 2 usage.`;

const DEFAULT_DASHBOARDS = new URL('../../../dashboards/generated/', import.meta.url).pathname;

const loadDashboards = async (dir: string): Promise<DashboardJson[]> => {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => JSON.parse(await readFile(join(dir, file), 'utf8')) as DashboardJson),
  );
};

export interface CliIo {
  out: (text: string) => void;
  env: Record<string, string | undefined>;
  fetch?: typeof fetch;
  now?: () => number;
  logsDeadlineMs?: number;
}

class UsageError extends Error {}

const parse = (argv: string[]) => {
  const { values } = parseArgs({
    args: argv,
    options: {
      'grafana-url': { type: 'string' },
      summary: { type: 'string' },
      dashboards: { type: 'string' },
      var: { type: 'string', multiple: true },
      'fail-on-empty': { type: 'boolean' },
      'local-stack': { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  const url = values['grafana-url'];
  if (values.help) return undefined;
  if (!url || !/^https?:\/\//.test(url))
    throw new UsageError('--grafana-url <http(s) URL> is required');
  const overrides: Record<string, string[]> = {};
  for (const pair of values.var ?? []) {
    const match = /^([\w]+)=(.*)$/.exec(pair);
    if (!match) throw new UsageError(`--var takes name=value, not ${pair}`);
    (overrides[match[1] as string] ??= []).push(match[2] as string);
  }
  return { ...values, url, overrides };
};

/** Runs the check; resolves to the exit code. */
export const runCli = async (argv: string[], io: CliIo): Promise<number> => {
  let options;
  try {
    options = parse(argv);
  } catch (error) {
    io.out(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (!options) {
    io.out(`${USAGE}\n`);
    return 0;
  }
  let dashboards: DashboardJson[];
  try {
    dashboards = await loadDashboards(options.dashboards ?? DEFAULT_DASHBOARDS);
  } catch (error) {
    io.out(`cannot read the dashboards: ${(error as Error).message}\n`);
    return 2;
  }
  if (dashboards.length === 0) {
    io.out(`no dashboard JSON in ${options.dashboards ?? DEFAULT_DASHBOARDS}\n`);
    return 2;
  }
  const client = grafanaClient(options.url, authorization(io.env), io.fetch);
  // Reachable at all? (GET /api/health needs no authentication and names the version.)
  let version: string;
  try {
    const health = await client.get('/api/health');
    version = String(
      (health.body as { version?: unknown }).version ?? `(health: HTTP ${health.status})`,
    );
  } catch (error) {
    io.out(`cannot reach Grafana at ${client.baseUrl}: ${(error as Error).message}\n`);
    return 1;
  }
  io.out(
    `check:dashboards: ${dashboards.length} dashboards against Grafana ${version} at ${client.baseUrl} ` +
      `(${authenticationKind(io.env)}${options['local-stack'] ? ', local stack' : ''})\n`,
  );
  const rows = await checkDashboards({
    client,
    dashboards,
    overrides: options.overrides,
    localStack: options['local-stack'] === true,
    ...(io.now ? { now: io.now } : {}),
    ...(io.logsDeadlineMs ? { logsDeadlineMs: io.logsDeadlineMs } : {}),
  });
  const counts = tally(rows);
  const passed = counts.errors === 0 && !(options['fail-on-empty'] && counts.empty > 0);
  io.out(`${textTable(rows)}\n\n${summaryLine(counts)}: ${passed ? 'passed' : 'FAILED'}\n`);
  if (options.summary) await appendFile(options.summary, markdown(rows, client.baseUrl, passed));
  return passed ? 0 : 1;
};
