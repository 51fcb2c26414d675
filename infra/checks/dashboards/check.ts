/**
 * Every variable and every panel query of the provisioned dashboards, asked of a Grafana through
 * its HTTP API as its frontend asks when the dashboard opens: the variables first, each after
 * those it refers to, through the datasource's resource endpoints; then each panel's queries with
 * the dashboard's default time range, in one `/api/ds/query` for its metrics and a StartQuery /
 * GetQueryResults round for its Logs Insights queries. A panel that shows another panel's
 * results (the Dashboard datasource) is not queried again.
 */
import {
  queryKind,
  type DashboardJson,
  type DataSourceRef,
  type PanelJson,
  type Target,
} from '#shared/dashboard-model/index.ts';
import { datasourcePath, QUERY_PATH } from '#shared/grafana-query-api.ts';
import {
  cloudWatchLister,
  logsStartQuery,
  metricQuery,
  notSentReason,
  type DatasourceInfo,
} from './cloudwatch.ts';
import { reasonOf, type GrafanaClient } from './grafana-client.ts';
import { runLogsQueries } from './logs.ts';
import { judgeAnswer, type QueryOutcome } from './outcomes.ts';
import { ALL_TEXT, isAll, type Scope } from './template.ts';
import { panelRange } from './time-range.ts';
import {
  datasourceOf as variableDatasource,
  resolveVariables,
  scopeOf,
  type ResolvedVariable,
} from './variables.ts';

/**
 * data / empty / error: what Grafana answered. reused: the panel shows another panel's results.
 * fixed: a variable written in the dashboard (custom, constant), nothing to ask.
 */
export type Verdict = 'data' | 'empty' | 'error' | 'reused' | 'fixed';

export interface Row {
  dashboard: string;
  subject: 'variable' | 'panel' | 'datasource';
  /** `$name` of a variable, the title of a panel. */
  name: string;
  panelId?: number;
  refId: string;
  verdict: Verdict;
  detail: string;
  /** A question put to Grafana (a resource request, or one query's result). */
  asked: boolean;
}

export interface CheckOptions {
  client: GrafanaClient;
  dashboards: DashboardJson[];
  /** Variable values as a URL gives them (`var-name=value`). */
  overrides?: Record<string, string[]>;
  now?: () => number;
  logsDeadlineMs?: number;
}

/** Reads each datasource's settings once: its type and default region. */
const datasources = (client: GrafanaClient, rows: Row[]) => {
  const known = new Map<string, Promise<DatasourceInfo>>();
  const read = async (ref: DataSourceRef): Promise<DatasourceInfo> => {
    const uid = ref.uid ?? '';
    const failed = (detail: string): DatasourceInfo => {
      rows.push({
        dashboard: '-',
        subject: 'datasource',
        name: uid,
        refId: '',
        verdict: 'error',
        detail,
        asked: true,
      });
      return { uid, type: ref.type ?? '' };
    };
    let answer;
    try {
      answer = await client.get(datasourcePath(uid));
    } catch (error) {
      return failed(`datasource ${uid}: request failed: ${(error as Error).message}`);
    }
    const body = answer.body as { type?: string; jsonData?: { defaultRegion?: string } };
    if (answer.status === 200)
      return {
        uid,
        type: body.type ?? ref.type ?? '',
        ...(body.jsonData?.defaultRegion ? { defaultRegion: body.jsonData.defaultRegion } : {}),
      };
    // A viewer's token may not read a datasource's settings: the backend reads 'default' as
    // the datasource's region alike. Any other answer is a fault of its own.
    if (answer.status !== 401 && answer.status !== 403)
      return failed(`datasource ${uid}: ${reasonOf(answer)}`);
    return { uid, type: ref.type ?? '' };
  };
  return (ref: DataSourceRef | undefined): Promise<DatasourceInfo> => {
    const uid = ref?.uid ?? '';
    if (!known.has(uid)) known.set(uid, read(ref ?? {}));
    return known.get(uid) as Promise<DatasourceInfo>;
  };
};

const shownValue = (resolved: ResolvedVariable): string => {
  if (isAll(resolved.state)) return ALL_TEXT;
  const text = resolved.state.text;
  return (Array.isArray(text) ? text.join(' + ') : text) || '(none)';
};

const variableRow = (dashboard: string, resolved: ResolvedVariable): Row => {
  const { variable, listing, state, listed } = resolved;
  const base = { dashboard, subject: 'variable' as const, name: `$${variable.name}`, refId: '' };
  const kept = state.options.length;
  const regex = variable.regex ? `, ${kept} kept by the regex` : '';
  if (listing.error !== undefined)
    return { ...base, verdict: 'error', detail: listing.error, asked: listing.asked };
  if (!listing.asked)
    return {
      ...base,
      verdict: kept > 0 || variable.type !== 'query' ? 'fixed' : 'empty',
      detail: listing.note ?? `${kept} options in the dashboard; value ${shownValue(resolved)}`,
      asked: false,
    };
  if (kept === 0)
    return {
      ...base,
      verdict: 'empty',
      detail: listing.note ?? `${listed} listed${regex}; value ${shownValue(resolved)}`,
      asked: true,
    };
  return {
    ...base,
    verdict: 'data',
    detail: `${listed} listed${regex}; value ${shownValue(resolved)}`,
    asked: true,
  };
};

/** Panels as Grafana lays them out, those inside collapsed rows included. */
const panelsOf = (dashboard: DashboardJson): PanelJson[] =>
  dashboard.panels.flatMap((panel) => [
    ...(panel.type === 'row' ? [] : [panel]),
    ...((panel as { panels?: PanelJson[] }).panels ?? []),
  ]);

const panelRows = async (
  dashboard: DashboardJson,
  panel: PanelJson,
  scope: Scope,
  datasourceOf: (ref: DataSourceRef | undefined) => Promise<DatasourceInfo>,
  options: CheckOptions,
): Promise<Row[]> => {
  const base = {
    dashboard: dashboard.title,
    subject: 'panel' as const,
    name: panel.title,
    panelId: panel.id,
  };
  const targets = panel.targets ?? [];
  const reused = targets.find((t) => queryKind(t) === 'panel');
  if (reused)
    return [
      {
        ...base,
        refId: reused.refId,
        verdict: 'reused',
        detail: `shows panel #${reused.panelId}'s results (Dashboard datasource): not queried again`,
        asked: false,
      },
    ];
  const datasource = await datasourceOf(targets[0]?.datasource ?? panel.datasource);
  const range = panelRange(dashboard, panel, (options.now ?? Date.now)());
  if (typeof range === 'string')
    return [{ ...base, refId: '', verdict: 'error', detail: range, asked: false }];
  const rows: Row[] = [];
  const sent: Target[] = [];
  for (const target of targets) {
    const reason = notSentReason(target);
    if (reason === undefined) sent.push(target);
    // A hidden query only feeds the others: nothing of its own to report.
    else if (!target.hide)
      rows.push({
        ...base,
        refId: target.refId,
        verdict: 'empty',
        detail: `not sent: ${reason}`,
        asked: false,
      });
  }
  const interval = { intervalMs: range.intervalMs, maxDataPoints: range.maxDataPoints };
  const body = (queries: Record<string, unknown>[]) => ({
    from: String(range.fromMs),
    to: String(range.toMs),
    queries,
  });
  const headers = {
    'X-Dashboard-Uid': dashboard.uid,
    'X-Panel-Id': String(panel.id),
    'X-Datasource-Uid': datasource.uid,
    'X-Plugin-Id': datasource.type,
  };
  const outcomes: QueryOutcome[] = [];
  const metrics = sent.filter((t) => queryKind(t) !== 'logs');
  const logs = sent.filter((t) => queryKind(t) === 'logs');
  try {
    if (metrics.length > 0) {
      const answer = await options.client.post(
        QUERY_PATH,
        body(metrics.map((t) => metricQuery(t, scope, datasource, interval))),
        headers,
      );
      outcomes.push(
        ...judgeAnswer(
          answer,
          metrics.filter((t) => !t.hide).map((t) => t.refId),
        ),
      );
    }
    if (logs.length > 0)
      outcomes.push(
        ...(await runLogsQueries(
          options.client,
          body(logs.map((t) => logsStartQuery(t, scope, datasource, interval))),
          headers,
          options.logsDeadlineMs,
        )),
      );
  } catch (error) {
    outcomes.push({
      refId: '',
      verdict: 'error',
      detail: `request failed: ${(error as Error).message}`,
    });
  }
  return [...outcomes.map((o) => ({ ...base, ...o, asked: true })), ...rows];
};

/** The rows of every dashboard, in the dashboards' order. */
export const checkDashboards = async (options: CheckOptions): Promise<Row[]> => {
  const rows: Row[] = [];
  const datasourceOf = datasources(options.client, rows);
  const lister = cloudWatchLister(options.client, (variable) =>
    datasourceOf(variableDatasource(variable)),
  );
  for (const dashboard of options.dashboards) {
    let resolved: ResolvedVariable[];
    try {
      resolved = await resolveVariables(dashboard.templating?.list ?? [], lister, {
        ...(options.overrides ? { overrides: options.overrides } : {}),
      });
    } catch (error) {
      rows.push({
        dashboard: dashboard.title,
        subject: 'variable',
        name: '(variables)',
        refId: '',
        verdict: 'error',
        detail: `request failed: ${(error as Error).message}`,
        asked: true,
      });
      continue;
    }
    for (const variable of resolved) rows.push(variableRow(dashboard.title, variable));
    const scope = scopeOf(resolved);
    for (const panel of panelsOf(dashboard))
      rows.push(...(await panelRows(dashboard, panel, scope, datasourceOf, options)));
  }
  return rows;
};
