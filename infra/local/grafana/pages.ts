/**
 * `/grafana`: the local stack serves the generated dashboards itself, at the URL a run's
 * `grafanaUrl` points to by default. The page lays out the generated JSON (rows, titles,
 * gridPos) and asks `/grafana/api/d/<uid>` for the panels' data with the URL's time range and
 * `var-*`, every `refresh`; charts are drawn with uPlot from node_modules.
 */
import { readFile, readdir } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import {
  provisionDashboard,
  queryKind,
  type DashboardJson,
  type PanelJson,
} from '#shared/dashboard-model/index.ts';
import { DASHBOARDS } from '#shared/grafana.ts';
import {
  evaluatePanel,
  localLogGroupArn,
  type PanelResult,
  type QueryWindow,
  type Sources,
} from './evaluate.ts';
import { grafanaApi } from './http-api.ts';
import { transformResult } from './transform.ts';
import {
  ALL_TEXT,
  isAll,
  resolveVariables,
  urlValues,
  type ListingCache,
  type Phase,
  type ResolvedVariable,
  type VariableSources,
} from './variables.ts';

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

/**
 * The generated dashboards, with the deployment's values in place of their markers when given
 * (as Grafana's start does on AWS, infra/aws/grafana/provision-dashboards.sh).
 */
export const loadDashboards = async (
  deployment?: Record<string, string>,
): Promise<DashboardJson[]> => {
  const files = (await readdir(GENERATED)).filter((file) => file.endsWith('.json')).sort();
  const dashboards = await Promise.all(
    files.map(async (file) => {
      const json = await readFile(new URL(file, GENERATED), 'utf8');
      return JSON.parse(
        deployment === undefined ? json : provisionDashboard(json, deployment),
      ) as DashboardJson;
    }),
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

export interface ShownVariable {
  name: string;
  label: string;
  text: string;
  note?: string;
}

/** What the local CloudWatch lists for variables: recorded dimension values and log groups. */
const variableSources = (sources: Sources): VariableSources => ({
  dimensionValues: (namespace, metricName, key, filters) =>
    sources.series.dimensionValues(namespace, metricName, key, filters),
  logGroups: () =>
    sources.logs.logGroups().map((name) => ({ text: name, value: localLogGroupArn(name) })),
});

const shownText = (variable: ResolvedVariable) => {
  if (isAll(variable)) return ALL_TEXT;
  const text = Array.isArray(variable.text) ? variable.text.join(' + ') : variable.text;
  return text || '(none)';
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

/** Pages remembered at once: each keeps its listings (the datasource's cache) while open. */
const OPEN_PAGES = 200;

/** A page's listing cache by the id its script sends (`page`), the oldest forgotten first. */
const pageListings = () => {
  const pages = new Map<string, ListingCache>();
  return (page: string | null): ListingCache => {
    if (page === null) return new Map();
    const cache = pages.get(page) ?? new Map();
    pages.delete(page);
    pages.set(page, cache);
    if (pages.size > OPEN_PAGES) pages.delete(pages.keys().next().value as string);
    return cache;
  };
};

/**
 * The routes. `deployment`: the stack's resource names, in place of the dashboards' markers
 * (shared/dashboard-model/deployment.ts).
 */
export const grafanaPages = (
  sources: Sources,
  now: () => number = Date.now,
  deployment?: Record<string, string>,
) => {
  const listingsOf = pageListings();
  // Grafana's own HTTP API (api/ds/query, datasource resources, dashboards): see http-api.ts.
  const api = grafanaApi(sources, now, deployment);
  return (request: IncomingMessage, response: ServerResponse): Promise<void> | undefined => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== '/grafana' && !url.pathname.startsWith('/grafana/')) return undefined;
    const context = { sources, now: now(), deployment, listingsOf };
    const served = api(url, request, response) ?? serve(url, context, response);
    return served.catch((error: unknown) =>
      send(
        response,
        500,
        'application/json',
        JSON.stringify({ error: (error as Error).message, details: [] }),
      ),
    );
  };
};

interface ServeContext {
  sources: Sources;
  now: number;
  deployment: Record<string, string> | undefined;
  listingsOf: (page: string | null) => ListingCache;
}

const serve = async (url: URL, context: ServeContext, response: ServerResponse) => {
  const { sources, now } = context;
  const path = url.pathname.replace(/\/+$/, '');
  const asset = /^\/grafana\/public\/([\w.]+)$/.exec(path)?.[1];
  if (asset !== undefined) {
    const spec = ASSETS[asset];
    if (!spec) return send(response, 404, 'application/json', '{"error":"Not found","details":[]}');
    return send(response, 200, spec.type, await readFile(spec.file));
  }
  const dashboards = await loadDashboards(context.deployment);
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
    const nav = dashboards.map((d) => ({
      uid: d.uid,
      title: d.title,
      tags: d.tags ?? [],
      href: `/grafana/d/${d.uid}/${d.uid}`,
    }));
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
    JSON.stringify(
      panelData(
        dashboard,
        url.searchParams,
        sources,
        now,
        context.listingsOf(url.searchParams.get('page')),
      ),
    ),
  );
};

/** The window a panel queries: the dashboard's, or its own relative time (`timeFrom`). */
const panelWindow = (panel: PanelJson, window: QueryWindow): QueryWindow => {
  const relative = panel.timeFrom ? parseTime(`now-${panel.timeFrom}`, window.toMs) : undefined;
  if (relative === undefined) return window;
  return { fromMs: relative, toMs: window.toMs, periodS: autoPeriod(window.toMs - relative) };
};

/**
 * Every panel's data for the URL's time range and variables. `phase=refresh` (an auto-refresh
 * of an open page) validates variables as Grafana does on a time range change; anything else is
 * a first load, where the URL's values are kept. `listings`: the variable listings the page
 * already made, which Grafana's datasource answers again from its cache (new: a fresh page).
 */
export const panelData = (
  dashboard: DashboardJson,
  params: URLSearchParams,
  sources: Sources,
  now: number,
  listings: ListingCache = new Map(),
) => {
  const fromMs =
    parseTime(params.get('from') ?? dashboard.time?.from ?? 'now-1h', now) ?? now - 3_600_000;
  const toMs = Math.min(
    parseTime(params.get('to') ?? dashboard.time?.to ?? 'now', now) ?? now,
    now,
  );
  const window: QueryWindow = { fromMs, toMs, periodS: autoPeriod(toMs - fromMs) };
  const phase: Phase = params.get('phase') === 'refresh' ? 'refresh' : 'load';
  const variables = resolveVariables(
    dashboard.templating.list,
    params,
    variableSources(sources),
    phase,
    listings,
  );
  const shown: ShownVariable[] = Object.values(variables).map((v) => ({
    name: v.name,
    label: v.label,
    text: shownText(v),
    ...(v.note ? { note: v.note } : {}),
  }));
  const results = new Map<number, PanelResult>();
  const shownResults = new Map<number, PanelResult>();
  const panels = dashboard.panels.filter((panel) => panel.type !== 'row');
  // Panels reading another panel's results (the Dashboard datasource) come after their source.
  const reuses = (panel: PanelJson) => (panel.targets ?? []).some((t) => queryKind(t) === 'panel');
  for (const panel of [...panels.filter((p) => !reuses(p)), ...panels.filter(reuses)]) {
    const source = panel.targets?.find((t) => queryKind(t) === 'panel')?.panelId;
    // A reused result is the source panel's before its own transformations; this panel's apply.
    const result =
      source === undefined
        ? evaluatePanel(panel, sources, panelWindow(panel, window), variables)
        : (results.get(source) ?? {
            errors: [`Dashboard datasource: no panel with id ${source}`],
            notes: [],
          });
    results.set(panel.id, result);
    shownResults.set(panel.id, transformResult(result, panel.transformations));
  }
  return {
    window,
    variables: shown,
    url: urlValues(variables),
    panels: Object.fromEntries(shownResults),
  };
};
