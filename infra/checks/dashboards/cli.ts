/**
 * `npm run check:dashboards -- --grafana-url <url> [--summary <file.md>] [--dashboards <dir>]`
 * (docs/dashboards.md): asks a Grafana every variable and panel query of the provisioned dashboards
 * and prints what it answered. Exit 0 when nothing failed, 1 when a query failed (or, with
 * `--fail-on-empty`, came back empty), 2 on a usage error.
 */
import { appendFile, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { DashboardJson } from '#shared/dashboard-model/index.ts';
import { checkDashboards } from './check.ts';
import {
  authenticationKind,
  authorization,
  grafanaClient,
  reasonOf,
  type GrafanaClient,
} from './grafana-client.ts';
import { markdown, summaryLine, tally, textTable } from './report.ts';

export const USAGE = `Usage: npm run check:dashboards -- --grafana-url <url> [options]

Asks a Grafana, through its HTTP API, every variable and every panel query of the provisioned
dashboards, as the dashboards ask when they open; prints a table of the answers.

  --grafana-url <url>   Grafana's base URL (the local stack: http://127.0.0.1:<port>/grafana)
  --summary <file.md>   append the table as Markdown (e.g. "$GITHUB_STEP_SUMMARY")
  --dashboards <dir>    check these dashboard JSON files instead of the ones Grafana serves
                        (they must hold the deployment's names, not dashboards/generated's
                        markers)
  --var <name=value>    a variable's value, as a URL's var-<name> gives it (repeatable)
  --fail-on-empty       an empty result fails the check too

Authentication: GRAFANA_TOKEN (a service account token, sent as Bearer), else GRAFANA_USER and
GRAFANA_PASSWORD (basic), else anonymous.
Exit: 0 nothing failed, 1 a query failed (or was empty, with --fail-on-empty), 2 usage.`;

const dashboardFiles = async (dir: string): Promise<DashboardJson[]> => {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => JSON.parse(await readFile(join(dir, file), 'utf8')) as DashboardJson),
  );
};

/**
 * Every dashboard the Grafana serves: `GET /api/search?type=dash-db`, then each one's
 * `GET /api/dashboards/uid/<uid>` (https://grafana.com/docs/grafana/latest/developers/http_api/dashboard/).
 */
export const provisionedDashboards = async (client: GrafanaClient): Promise<DashboardJson[]> => {
  const search = await client.get('/api/search', { type: 'dash-db' });
  if (search.status !== 200 || !Array.isArray(search.body)) throw new Error(reasonOf(search));
  const uids = (search.body as { uid?: unknown }[]).map((hit) => String(hit.uid));
  return Promise.all(
    uids.map(async (uid) => {
      const answer = await client.get(`/api/dashboards/uid/${encodeURIComponent(uid)}`);
      const dashboard = (answer.body as { dashboard?: DashboardJson } | null)?.dashboard;
      if (answer.status !== 200 || !dashboard) throw new Error(`${uid}: ${reasonOf(answer)}`);
      return dashboard;
    }),
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
  let files: DashboardJson[] | undefined;
  if (options.dashboards) {
    try {
      files = await dashboardFiles(options.dashboards);
    } catch (error) {
      io.out(`cannot read the dashboards: ${(error as Error).message}\n`);
      return 2;
    }
    if (files.length === 0) {
      io.out(`no dashboard JSON in ${options.dashboards}\n`);
      return 2;
    }
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
  // The dashboards as provisioned: with the deployment's names where the JSON holds markers.
  let dashboards: DashboardJson[];
  try {
    dashboards = files ?? (await provisionedDashboards(client));
  } catch (error) {
    io.out(`cannot list the dashboards of ${client.baseUrl}: ${(error as Error).message}\n`);
    return 1;
  }
  if (dashboards.length === 0) {
    io.out(`${client.baseUrl} serves no dashboard\n`);
    return 1;
  }
  io.out(
    `check:dashboards: ${dashboards.length} dashboards against Grafana ${version} at ${client.baseUrl} ` +
      `(${authenticationKind(io.env)})\n`,
  );
  const rows = await checkDashboards({
    client,
    dashboards,
    overrides: options.overrides,
    ...(io.now ? { now: io.now } : {}),
    ...(io.logsDeadlineMs ? { logsDeadlineMs: io.logsDeadlineMs } : {}),
  });
  const counts = tally(rows);
  const passed = counts.errors === 0 && !(options['fail-on-empty'] && counts.empty > 0);
  io.out(`${textTable(rows)}\n\n${summaryLine(counts)}: ${passed ? 'passed' : 'FAILED'}\n`);
  if (options.summary) await appendFile(options.summary, markdown(rows, client.baseUrl, passed));
  return passed ? 0 : 1;
};
