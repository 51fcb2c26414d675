/**
 * Grafana's HTTP API on the local stack: `POST /grafana/api/ds/query` and the CloudWatch
 * datasource's settings and resource endpoints, in Grafana's request and response shapes,
 * answered by the same evaluation the local pages use (evaluate.ts). What
 * `npm run check:dashboards` asks a deployed Grafana, it can ask the local stack.
 *
 * Rules, each from its source (http-api.test.ts holds a case for each):
 * - the query API and its status codes: 400 when a query fails (the body still holds every
 *   result), 404 for an unknown datasource
 *   (https://grafana.com/docs/grafana/latest/developers/http_api/data_source/);
 * - a result is `{status, frames}` or `{error, errorSource, status}` (grafana-plugin-sdk-go
 *   backend/json.go);
 * - metric queries: one GetMetricData for all of them, hidden ones returning nothing; a refused
 *   request is one error, under the refId its message quotes (`'<refId or id>':`), else under ''
 *   (pkg/cloudwatch/time_series_query.go `getQueryRefIdFromErrorString`);
 * - Logs Insights as dashboards run it: `logAction` StartQuery answers a queryId, GetQueryResults
 *   the result with its `Status`, StopQuery stops; an error is "failed to execute log action with
 *   subtype: <subtype>: …" (pkg/cloudwatch/log_actions.go). A logs query without `type` runs to
 *   completion in one request, as public dashboards and alerts run it (log_sync_query.go);
 * - resources: GET only, `region` required where the datasource requires it, items as
 *   `{value}` (pkg/cloudwatch/resource_handler.go, models/resources/*.go);
 * - the provisioned dashboards, as the check reads them: `GET /api/search?type=dash-db` lists
 *   them (`uid`, `title`, `url`, `type: "dash-db"`), `GET /api/dashboards/uid/<uid>` answers
 *   `{dashboard, meta}` or 404 `{"message": "Dashboard not found"}`
 *   (https://grafana.com/docs/grafana/latest/developers/http_api/dashboard/ and
 *   .../folder_dashboard_search/); the local stack's names stand in the markers, as Grafana's
 *   start-up writes the stack's (shared/dashboard-model/deployment.ts).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type PanelJson, type Target } from '#shared/dashboard-model/index.ts';
import { CLOUDWATCH_DATASOURCE } from '#shared/grafana.ts';
import type {
  DataResponseJson,
  FrameJson,
  LogGroupJson,
  MetricJson,
  ResourceErrorJson,
  ResourceResponseJson,
} from '#shared/grafana-query-api.ts';
import { LOCAL_REGION } from '../dynamodb.ts';
import { logsFrame, metricFrames } from './data-frames.ts';
import {
  evaluatePanel,
  localLogGroupArn,
  type PanelResult,
  type QueryWindow,
  type Sources,
} from './evaluate.ts';
// The pages' own time rules (pages.ts imports this module; both are only called per request).
import { autoPeriod, loadDashboards, parseTime } from './pages.ts';

/** The datasource as infra/aws/grafana/provisioning/datasources/cloudwatch.yaml provisions it. */
const DATASOURCE = {
  id: 1,
  uid: CLOUDWATCH_DATASOURCE.uid,
  orgId: 1,
  name: 'CloudWatch',
  type: CLOUDWATCH_DATASOURCE.type,
  access: 'proxy',
  isDefault: true,
  readOnly: true,
  jsonData: { authType: 'default', defaultRegion: LOCAL_REGION },
};

/** The placeholder account of the local log group ARNs. */
const LOCAL_ACCOUNT = localLogGroupArn('').split(':')[4] as string;

/** Started Logs Insights queries kept for GetQueryResults; the oldest go first. */
const STARTED_KEPT = 200;

/** A request of the query API, loosely typed: the datasource's fields ride along. */
interface DsQuery extends Partial<Target> {
  refId: string;
  type?: string;
  subtype?: string;
  queryString?: string;
  queryId?: string;
}

interface Answer {
  status: number;
  body: unknown;
}

const json = (response: ServerResponse, { status, body }: Answer) => {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
};

const MAX_BODY_BYTES = 1_000_000;

const readBody = async (request: IncomingMessage): Promise<string> => {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
};

/** A failed query: AWS refused it (downstream); the status number is not emulated (README). */
const errorResult = (error: string): DataResponseJson => ({
  error,
  errorSource: 'downstream',
  status: 500,
});

/** A panel made of the request's queries: the evaluation's unit is a panel. */
const panelOf = (targets: Target[]): PanelJson => ({
  id: 0,
  type: 'timeseries',
  title: 'api/ds/query',
  gridPos: { x: 0, y: 0, w: 24, h: 8 },
  targets,
});

/** The id GetMetricData knows a query by (Grafana: `query<refId>` when none is set). */
const idOf = (query: DsQuery) => query.id || `query${query.refId}`;

/** Where the datasource files a refused request: the last query its message quotes, else ''. */
const refIdOfError = (message: string, queries: DsQuery[]): string =>
  queries.findLast((q) => message.includes(`'${q.refId}':`) || message.includes(`'${idOf(q)}':`))
    ?.refId ?? '';

/**
 * Every metric query in one GetMetricData, as the backend sends them: a refused request is one
 * error; otherwise each query that is not hidden gets its own series (hidden ones feed math).
 */
const metricResults = (
  queries: DsQuery[],
  sources: Sources,
  window: QueryWindow,
): Record<string, DataResponseJson> => {
  const targets = queries as Target[];
  const whole = evaluatePanel(panelOf(targets), sources, window, {});
  if (whole.errors.length > 0)
    return Object.fromEntries(
      whole.errors.map((error) => [refIdOfError(error, queries), errorResult(error)]),
    );
  return Object.fromEntries(
    queries
      .filter((query) => !query.hide)
      .map((query) => {
        // The same request with every other query hidden: this query's series alone.
        const alone = targets.map((t) => (t === query ? t : { ...t, hide: true }));
        const result = evaluatePanel(panelOf(alone), sources, window, {});
        return [
          query.refId,
          { status: 200, frames: metricFrames(query.refId, idOf(query), result, window.periodS) },
        ];
      }),
  );
};

/** A logs query as the evaluation reads it: the query string is the panel's expression. */
const logsTarget = (query: DsQuery): Target => ({
  refId: query.refId,
  queryMode: 'Logs',
  region: query.region ?? 'default',
  expression: query.queryString ?? query.expression ?? '',
  ...(query.logGroups ? { logGroups: query.logGroups } : {}),
  ...(query.logGroupNames ? { logGroupNames: query.logGroupNames } : {}),
});

const runLogsQuery = (query: DsQuery, sources: Sources, window: QueryWindow): PanelResult =>
  evaluatePanel(panelOf([logsTarget(query)]), sources, window, {});

/** Logs Insights queries started by `logAction` StartQuery, until read or stopped. */
class StartedQueries {
  private readonly results = new Map<string, PanelResult>();

  start(result: PanelResult): string {
    const id = randomUUID();
    this.results.set(id, result);
    while (this.results.size > STARTED_KEPT) this.results.delete(this.results.keys().next().value!);
    return id;
  }

  get(id: string): PanelResult | undefined {
    return this.results.get(id);
  }

  stop(id: string): boolean {
    return this.results.delete(id);
  }
}

const logAction = (
  query: DsQuery,
  sources: Sources,
  window: QueryWindow,
  started: StartedQueries,
): DataResponseJson => {
  const failed = (reason: string) =>
    errorResult(`failed to execute log action with subtype: ${query.subtype}: ${reason}`);
  switch (query.subtype) {
    case 'StartQuery': {
      if (window.fromMs >= window.toMs)
        return failed('invalid time range: start time must be before end time');
      const result = runLogsQuery(query, sources, window);
      if (result.errors.length > 0) return failed(result.errors.join('; '));
      const frame: FrameJson = {
        schema: {
          name: query.refId,
          refId: query.refId,
          meta: { custom: { Region: query.region || 'default' } },
          fields: [{ name: 'queryId', type: 'string', typeInfo: { frame: 'string' } }],
        },
        data: { values: [[started.start(result)]] },
      };
      return { status: 200, frames: [frame] };
    }
    case 'GetQueryResults': {
      const result = started.get(query.queryId ?? '');
      // The wording after the code is ours (AWSError in log_actions.go gives the code).
      if (!result)
        return failed('CloudWatch error: ResourceNotFoundException: the query does not exist');
      return { status: 200, frames: [logsFrame(query.refId, result)] };
    }
    case 'StopQuery': {
      const stopped = started.stop(query.queryId ?? '');
      return {
        status: 200,
        frames: [
          {
            schema: {
              name: 'StopQueryResponse',
              fields: [{ name: 'success', type: 'boolean', typeInfo: { frame: 'bool' } }],
            },
            data: { values: [[stopped]] },
          },
        ],
      };
    }
    default:
      return failed('the local stack does not emulate this log action');
  }
};

const datasourceNotFound: Answer = { status: 404, body: { message: 'Data source not found' } };

const queryData = (
  text: string,
  sources: Sources,
  now: number,
  started: StartedQueries,
): Answer => {
  let body: { from?: unknown; to?: unknown; queries?: DsQuery[] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return { status: 400, body: { message: 'bad request data' } };
  }
  const queries = Array.isArray(body.queries) ? body.queries : [];
  if (queries.length === 0) return { status: 400, body: { message: 'No queries found' } };
  if (queries.some((q) => q.datasource?.uid !== DATASOURCE.uid)) return datasourceNotFound;
  const fromMs = parseTime(String(body.from ?? ''), now);
  const toMs = parseTime(String(body.to ?? ''), now);
  if (fromMs === undefined || toMs === undefined)
    return {
      status: 400,
      body: { message: 'from and to must be epoch milliseconds or now-<n><unit>' },
    };
  const window: QueryWindow = { fromMs, toMs, periodS: autoPeriod(toMs - fromMs) };

  const results: Record<string, DataResponseJson> = {};
  for (const query of queries.filter((q) => q.type === 'logAction'))
    results[query.refId] = logAction(query, sources, window, started);
  for (const query of queries.filter((q) => q.type === undefined && q.queryMode === 'Logs')) {
    const result = runLogsQuery(query, sources, window);
    results[query.refId] =
      result.errors.length > 0
        ? errorResult(result.errors.join('; '))
        : { status: 200, frames: [logsFrame(query.refId, result)] };
  }
  const metrics = queries.filter((q) => q.type !== 'logAction' && q.queryMode !== 'Logs');
  if (metrics.length > 0) Object.assign(results, metricResults(metrics, sources, window));
  const failed = Object.values(results).some((result) => result.error !== undefined);
  return { status: failed ? 400 : 200, body: { results } };
};

/** `models.HttpError` as the datasource's resource middleware writes it. */
const resourceError = (status: number, message: string, reason = ''): Answer => ({
  status,
  body: {
    Message: reason ? `${message}: ${reason}` : message,
    Error: reason,
    StatusCode: status,
  } satisfies ResourceErrorJson,
});

/** `dimensionFilters` as parseDimensionFilter reads it: no value or `*` matches any value. */
const dimensionFilters = (text: string | null): Record<string, string[]> | undefined => {
  let parsed: Record<string, string | string[] | null>;
  try {
    parsed = text ? (JSON.parse(text) as typeof parsed) : {};
  } catch {
    return undefined;
  }
  return Object.fromEntries(
    Object.entries(parsed).map(([key, value]) => {
      const values = (Array.isArray(value) ? value : [value ?? '']).map((v) =>
        v === '' ? '*' : v,
      );
      return [key, values.length === 0 ? ['*'] : values];
    }),
  );
};

const resource = (name: string, params: URLSearchParams, sources: Sources): Answer => {
  const ok = <T>(items: ResourceResponseJson<T>[]): Answer => ({ status: 200, body: items });
  switch (name) {
    case 'dimension-values': {
      if (!params.get('region'))
        return resourceError(400, 'error in DimensionValuesHandler', 'region is required');
      const filters = dimensionFilters(params.get('dimensionFilters'));
      if (!filters)
        return resourceError(
          400,
          'error in DimensionValuesHandler',
          'error unmarshaling dimensionFilters',
        );
      const values = sources.series.dimensionValues(
        params.get('namespace') ?? '',
        params.get('metricName') ?? '',
        params.get('dimensionKey') ?? '',
        filters,
      );
      return ok(values.map((value) => ({ value })));
    }
    case 'metrics': {
      if (!params.get('region'))
        return resourceError(400, 'error in MetricsHandler', 'region is required');
      const namespace = params.get('namespace') ?? '';
      const names = [...new Set(sources.series.find(namespace).map((s) => s.name))].sort();
      return ok<MetricJson>(names.map((metric) => ({ value: { name: metric, namespace } })));
    }
    case 'log-groups': {
      const prefix = params.get('logGroupNamePrefix') ?? '';
      if (prefix && params.get('logGroupPattern'))
        return resourceError(
          400,
          'cannot set both log group name prefix and pattern',
          'cannot set both log group name prefix and pattern',
        );
      const limit = Number(params.get('limit')) > 0 ? Number(params.get('limit')) : 50;
      const names = sources.logs.logGroups().filter((group) => group.startsWith(prefix));
      // One DescribeLogGroups page unless every page is asked for.
      const listed = params.get('listAllLogGroups') === 'true' ? names : names.slice(0, limit);
      return ok<LogGroupJson>(
        listed.map((group) => ({
          value: { arn: localLogGroupArn(group), name: group },
          accountId: LOCAL_ACCOUNT,
        })),
      );
    }
    default:
      return { status: 404, body: { message: 'Not found' } };
  }
};

/** `api/search` (dashboards only) and `api/dashboards/uid/<uid>`, over the provisioned JSON. */
const provisionedDashboards = async (
  path: string,
  params: URLSearchParams,
  deployment: Record<string, string> | undefined,
): Promise<{ status: number; body: unknown }> => {
  const dashboards = await loadDashboards(deployment);
  const url = (uid: string) => `/grafana/d/${uid}/${uid}`;
  if (path === '/grafana/api/search') {
    const type = params.get('type');
    const found = type === null || type === 'dash-db' ? dashboards : [];
    return {
      status: 200,
      body: found.map((d) => ({ uid: d.uid, title: d.title, url: url(d.uid), type: 'dash-db' })),
    };
  }
  const uid = decodeURIComponent(path.slice('/grafana/api/dashboards/uid/'.length));
  const dashboard = dashboards.find((d) => d.uid === uid);
  if (!dashboard) return { status: 404, body: { message: 'Dashboard not found' } };
  return {
    status: 200,
    body: { dashboard, meta: { type: 'db', slug: uid, url: url(uid), provisioned: true } },
  };
};

/**
 * The routes, under `/grafana`: answers the request it serves, or undefined for the pages.
 * `now` is read per request, as the pages read it.
 */
export const grafanaApi = (
  sources: Sources,
  now: () => number,
  deployment?: Record<string, string>,
) => {
  const started = new StartedQueries();
  return (
    url: URL,
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<void> | undefined => {
    const path = url.pathname.replace(/\/+$/, '');
    if (path === '/grafana/api/health') {
      json(response, {
        status: 200,
        body: { commit: 'local', database: 'ok', version: 'local stack' },
      });
      return Promise.resolve();
    }
    if (path === '/grafana/api/ds/query') {
      if (request.method !== 'POST') {
        json(response, { status: 405, body: { message: 'Method Not Allowed' } });
        return Promise.resolve();
      }
      return readBody(request).then((text) =>
        json(response, queryData(text, sources, now(), started)),
      );
    }
    if (path === '/grafana/api/search' || path.startsWith('/grafana/api/dashboards/uid/')) {
      return provisionedDashboards(path, url.searchParams, deployment).then((answer) =>
        json(response, answer),
      );
    }
    const datasource = /^\/grafana\/api\/datasources\/uid\/([^/]+)(?:\/resources\/(.+))?$/.exec(
      path,
    );
    if (!datasource) return undefined;
    const [, uid, name] = datasource;
    if (decodeURIComponent(uid as string) !== DATASOURCE.uid) json(response, datasourceNotFound);
    else if (request.method !== 'GET') json(response, resourceError(405, 'Invalid method'));
    else if (name === undefined) json(response, { status: 200, body: DATASOURCE });
    else json(response, resource(name, url.searchParams, sources));
    return Promise.resolve();
  };
};
