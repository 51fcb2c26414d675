/**
 * `/grafana`: the local stack serves the generated dashboards itself, at the URL a run's
 * `grafanaUrl` points to by default. The page lays out the generated JSON (rows, titles,
 * gridPos) and asks `/grafana/api/d/<uid>` for the panels' data with the URL's time range and
 * `var-*`, every `refresh`; charts are drawn with uPlot from node_modules.
 */
import { readFile, readdir } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { DashboardJson, VariableJson } from '../../../dashboards/model.ts';
import { DASHBOARDS } from '../../../shared/grafana.ts';
import {
  evaluatePanel,
  interpolate,
  type QueryWindow,
  type Sources,
  type VariableValues,
} from './evaluate.ts';

const GENERATED = new URL('../../../dashboards/generated/', import.meta.url);
const require = createRequire(import.meta.url);

/** Static files the page needs: uPlot from node_modules (no CDN), the page script and style. */
const ASSETS: Record<string, { file: string; type: string }> = {
  'uPlot.iife.min.js': {
    file: require.resolve('uplot/dist/uPlot.iife.min.js'),
    type: 'text/javascript',
  },
  'uPlot.min.css': { file: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css' },
  'page.js': { file: new URL('./page.js', import.meta.url).pathname, type: 'text/javascript' },
  'page.css': { file: new URL('./page.css', import.meta.url).pathname, type: 'text/css' },
};

export const loadDashboards = async (): Promise<DashboardJson[]> => {
  const files = (await readdir(GENERATED)).filter((file) => file.endsWith('.json')).sort();
  const dashboards = await Promise.all(
    files.map(
      async (file) => JSON.parse(await readFile(new URL(file, GENERATED), 'utf8')) as DashboardJson,
    ),
  );
  // In the order of shared/grafana.ts: the sensors dashboard, where runs link to, first.
  const order = Object.values(DASHBOARDS).map((d) => d.uid as string);
  return dashboards.sort((a, b) => order.indexOf(a.uid) - order.indexOf(b.uid));
};

const UNITS_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Grafana's time syntax: epoch milliseconds, `now`, or `now-<n><s|m|h|d>`. */
export const parseTime = (value: string, now: number): number | undefined => {
  if (/^\d+$/.test(value)) return Number(value);
  const relative = /^now(?:-(\d+)([smhd]))?$/.exec(value);
  if (!relative) return undefined;
  return relative[1]
    ? now - Number(relative[1]) * (UNITS_MS[relative[2] as string] as number)
    : now;
};

const PERIODS = [1, 2, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600];

/** Like Grafana's auto period: about 300 points across the range. */
export const autoPeriod = (rangeMs: number): number =>
  PERIODS.find((period) => rangeMs / 1000 / period <= 300) ?? 3600;

const ALL = '$__all';

/** Options a query variable has locally: the dimension values or log groups recorded. */
const localOptions = (
  variable: VariableJson,
  sources: Sources,
  resolved: VariableValues,
): string[] => {
  const query = (variable.query ?? {}) as Record<string, unknown>;
  if (query.queryType === 'LogGroups') return sources.logs.logGroups();
  if (query.queryType !== 'DimensionValues') return [];
  const filters = Object.fromEntries(
    Object.entries((query.dimensionFilters as Record<string, string>) ?? {}).map(([k, v]) => [
      k,
      interpolate(v, resolved),
    ]),
  );
  return sources.series.dimensionValues(
    String(query.namespace),
    String(query.metricName),
    String(query.dimensionKey),
    filters,
  );
};

export interface ShownVariable {
  name: string;
  label: string;
  text: string;
}

/**
 * Variable values from the URL, else the dashboard's current value. Locally there is one
 * deployment, so "All" matches every recorded value (the stage filter has nothing to tell
 * apart); a single-value variable with nothing chosen takes the first recorded value.
 */
export const resolveVariables = (
  dashboard: DashboardJson,
  params: URLSearchParams,
  sources: Sources,
): { values: VariableValues; shown: ShownVariable[] } => {
  const values: VariableValues = {};
  const shown: ShownVariable[] = [];
  for (const variable of dashboard.templating.list) {
    const fromUrl = params.getAll(`var-${variable.name}`);
    const current = variable.current?.value;
    const chosen = fromUrl.length > 0 ? fromUrl : current !== undefined ? [String(current)] : [];
    let resolved: string[];
    if (chosen.includes(ALL) || chosen.includes('All')) resolved = [variable.allValue ?? '*'];
    else if (chosen.length > 0) resolved = chosen;
    else if (variable.type === 'query')
      resolved = localOptions(variable, sources, values).slice(0, 1);
    else resolved = [];
    values[variable.name] = resolved;
    shown.push({
      name: variable.name,
      label: variable.label ?? variable.name,
      text: resolved.includes('*') ? 'All' : resolved.join(', ') || '(none)',
    });
  }
  return { values, shown };
};

const html = (title: string, body: string, script: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/grafana/public/uPlot.min.css"><link rel="stylesheet" href="/grafana/public/page.css">
</head><body>${body}
<script src="/grafana/public/uPlot.iife.min.js"></script>
<script>${script}</script><script src="/grafana/public/page.js"></script></body></html>`;

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** JSON inside a <script> element: `<` escaped so no string can close the element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

const send = (response: ServerResponse, status: number, type: string, body: string | Buffer) => {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  response.end(body);
};

export const grafanaPages =
  (sources: Sources, now: () => number = Date.now) =>
  (request: IncomingMessage, response: ServerResponse): Promise<void> | undefined => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== '/grafana' && !url.pathname.startsWith('/grafana/')) return undefined;
    return serve(url, sources, now(), response).catch((error: unknown) =>
      send(
        response,
        500,
        'application/json',
        JSON.stringify({ error: (error as Error).message, details: [] }),
      ),
    );
  };

const serve = async (url: URL, sources: Sources, now: number, response: ServerResponse) => {
  const path = url.pathname.replace(/\/+$/, '');
  const asset = /^\/grafana\/public\/([\w.]+)$/.exec(path)?.[1];
  if (asset !== undefined) {
    const spec = ASSETS[asset];
    if (!spec) return send(response, 404, 'application/json', '{"error":"Not found","details":[]}');
    return send(response, 200, spec.type, await readFile(spec.file));
  }
  const dashboards = await loadDashboards();
  if (path === '/grafana') {
    const list = dashboards.map((d) => ({
      title: d.title,
      description: d.description ?? '',
      href: `/grafana/d/${d.uid}/${d.uid}`,
    }));
    return send(
      response,
      200,
      'text/html; charset=utf-8',
      html('Dashboards', '<main id="list"></main>', `window.LIST = ${scriptJson(list)};`),
    );
  }
  const page = /^\/grafana\/d\/([\w-]+)(?:\/[\w-]*)?$/.exec(path);
  const api = /^\/grafana\/api\/d\/([\w-]+)$/.exec(path);
  const dashboard = dashboards.find((d) => d.uid === (page ?? api)?.[1]);
  if (!dashboard) {
    return send(
      response,
      404,
      'application/json',
      JSON.stringify({ error: `No dashboard at ${path}`, details: [] }),
    );
  }
  if (page) {
    const nav = dashboards.map((d) => ({ title: d.title, href: `/grafana/d/${d.uid}/${d.uid}` }));
    return send(
      response,
      200,
      'text/html; charset=utf-8',
      html(
        dashboard.title,
        '<main id="dashboard"></main>',
        `window.DASHBOARD = ${scriptJson(dashboard)}; window.NAV = ${scriptJson(nav)};`,
      ),
    );
  }
  return send(
    response,
    200,
    'application/json',
    JSON.stringify(panelData(dashboard, url.searchParams, sources, now)),
  );
};

/** Every panel's data for the URL's time range and variables. */
export const panelData = (
  dashboard: DashboardJson,
  params: URLSearchParams,
  sources: Sources,
  now: number,
) => {
  const fromMs =
    parseTime(params.get('from') ?? dashboard.time?.from ?? 'now-1h', now) ?? now - 3_600_000;
  const toMs = Math.min(
    parseTime(params.get('to') ?? dashboard.time?.to ?? 'now', now) ?? now,
    now,
  );
  const window: QueryWindow = { fromMs, toMs, periodS: autoPeriod(toMs - fromMs) };
  const { values, shown } = resolveVariables(dashboard, params, sources);
  const panels = Object.fromEntries(
    dashboard.panels
      .filter((panel) => panel.type !== 'row')
      .map((panel) => [panel.id, evaluatePanel(panel, sources, window, values)]),
  );
  return { window, variables: shown, panels };
};
