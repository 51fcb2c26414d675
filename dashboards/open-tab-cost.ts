/**
 * What one open tab of each dashboard costs an hour on AWS, computed from the generated JSON at a
 * stated reference workload (OPEN_TAB_WORKLOAD):
 * - GetMetricData, per refresh: one call per panel, billed per metric it requests (a search
 *   counts every metric it returns, at most 500, found among the metrics of the last two weeks; a
 *   Metrics Insights query every metric it analyses in the range; math and the Dashboard
 *   datasource none);
 * - Logs Insights, per refresh: every byte of the log groups a logs panel names, over the
 *   panel's range, whatever the query filters;
 * - ListMetrics: none per refresh, since Grafana's datasource answers every listing again from its
 *   cache for the page's life (memoizedGetRequest, src/resources/ResourcesAPI.ts); the requests a
 *   page makes when it opens are shown apart.
 */
import { PRICES } from '#shared/prices.ts';
import { SENSOR_NAMESPACE, SensorDimension } from '#shared/metrics-contract.ts';
import { RUN_STATUSES } from '#shared/run.ts';
import {
  functionNames,
  queueNames,
  tableNames,
  topology,
  type FunctionName,
} from '#infra/topology.ts';
import {
  DEPLOYMENT_PREFIX,
  deploymentKey,
  parseInsights,
  queryKind,
  SEARCH_LOOKBACK_MS,
  SEARCH_MAX_SERIES,
  type DashboardJson,
  type PanelJson,
  type Target,
  type VariableJson,
} from '#shared/dashboard-model/index.ts';

/** The stage an open tab looks at. */
export const OPEN_TAB_WORKLOAD = {
  /** Runs started per hour, each with its sensors posting every reading type. */
  runsPerHour: 10,
  sensorsPerRun: 5,
  readingTypes: 3,
  /** DynamoDB operations with a ThrottledRequests metric per table (worst case: all throttled). */
  throttledOperationsPerTable: 5,
  /** Readings stored a second, in the front end's shape (one reading a request). */
  readingsPerSecond: 100,
  /**
   * Log bytes (EMF metrics and log lines) a reading puts into a function's log group, in the front
   * end's shape: measured on the local stack over two runs of 1,000 readings at 150 a second
   * (2026-12-07: the consumer's readings share EMF documents since it takes up to 100 messages);
   * together 328.3 bytes, within 1% of the bench baseline's front-end scenario
   * (load-tests/bench/baseline.json, checked by the test).
   */
  logBytesPerReading: { ingest: 228.0, ingestConsumer: 100.3 } as Partial<
    Record<FunctionName, number>
  >,
  /** Log bytes a run puts into a group: the run API's lines for its start and its finish. */
  logBytesPerRun: { runApi: 1423 } as Partial<Record<FunctionName, number>>,
  /** Log bytes a group takes every hour whatever the traffic: the sweeper's 261 a sweep. */
  logBytesPerHour: { runSweeper: 261 * 60 } as Partial<Record<FunctionName, number>>,
  /** Besides the functions': the API access logs and Grafana's own. */
  otherLogGroups: 2,
} as const;

const w = OPEN_TAB_WORKLOAD;
const indexes = tableNames.reduce((n, name) => n + topology.tables[name].indexes.length, 0);
const LOOKBACK_HOURS = SEARCH_LOOKBACK_MS / 3_600_000;

/** Bytes a function's log group takes an hour at the reference workload. */
export const logBytesPerHour = (fn: FunctionName): number =>
  w.readingsPerSecond * 3600 * (w.logBytesPerReading[fn] ?? 0) +
  w.runsPerHour * (w.logBytesPerRun[fn] ?? 0) +
  (w.logBytesPerHour[fn] ?? 0);

/** How many values a dimension takes across the stage when it is not pinned, per hours seen. */
const cardinality = (namespace: string, key: string, hours: number): number => {
  if (namespace === SENSOR_NAMESPACE) {
    switch (key) {
      case SensorDimension.runId:
        return Math.max(1, Math.ceil(w.runsPerHour * hours));
      case SensorDimension.sensorId:
        return w.sensorsPerRun;
      case SensorDimension.type:
        return w.readingTypes;
      default:
        return 1; // a run's readings come from its user
    }
  }
  switch (key) {
    case 'FunctionName':
      return functionNames.length;
    case 'QueueName':
      return queueNames.length * 2; // each queue and its dead-letter queue
    case 'TableName':
      return tableNames.length;
    case 'GlobalSecondaryIndexName':
      return indexes / tableNames.length;
    case 'Operation':
      return w.throttledOperationsPerTable;
    case 'LogGroupName':
      return functionNames.length + w.otherLogGroups;
    case 'Status':
      return RUN_STATUSES.length - 1; // every status but RUNNING ends a run
    case 'service':
      return functionNames.length; // at most one per emitting function
    case 'ApiId':
      return 1; // the stage's HTTP API
    default:
      throw new Error(`No cardinality for ${namespace} ${key}`);
  }
};

/** The options of a custom variable (`text : value` or plain items, comma-separated). */
const customOptions = (variable: VariableJson): number =>
  (String(variable.query ?? '').match(/(?:\\,|[^,])+/g) ?? []).length;

/** Values a dimension takes in a query: pinned (1), `*`, or a variable's selection. */
const valuesOf = (
  namespace: string,
  key: string,
  value: string,
  variables: VariableJson[],
  hours: number,
): number => {
  if (value === '*') return cardinality(namespace, key, hours);
  const variable = variables.find((v) => value === `$${v.name}` || value === `\${${v.name}}`);
  if (!variable) return 1;
  const current = [variable.current?.value].flat();
  const all = current.includes('$__all') || variable.multi === true;
  if (!all) return 1;
  if (variable.type === 'custom' && variable.allValue === undefined) return customOptions(variable);
  return cardinality(namespace, key, hours);
};

const HOURS: Record<string, number> = { m: 1 / 60, h: 1, d: 24 };

/** Hours a `now-<n><unit>` range or a `<n><unit>` relative time covers. */
const hoursOf = (range: string): number => {
  const match = /(\d+)([mhd])$/.exec(range);
  return match ? Number(match[1]) * (HOURS[match[2] as string] as number) : 1;
};

/** Metrics one query requests from GetMetricData, over a range of `hours`. */
export const metricsRequested = (
  target: Target,
  variables: VariableJson[],
  hours: number,
): number => {
  switch (queryKind(target)) {
    case 'search': {
      // A search finds the metrics of the last two weeks, whatever the range, 500 at most.
      const found = Object.entries(target.dimensions ?? {}).reduce(
        (product, [key, value]) =>
          product *
          [value]
            .flat()
            .reduce(
              (sum, v) => sum + valuesOf(target.namespace ?? '', key, v, variables, LOOKBACK_HOURS),
              0,
            ),
        1,
      );
      return Math.min(found, SEARCH_MAX_SERIES);
    }
    case 'insights': {
      const sql = parseInsights(target.sqlExpression ?? '');
      const pinned = new Set(sql.where.filter((c) => c.operator === '=').map((c) => c.key));
      return (sql.schema ?? []).reduce(
        (product, key) => product * (pinned.has(key) ? 1 : cardinality(sql.namespace, key, hours)),
        1,
      );
    }
    default:
      return 0;
  }
};

const LOG_GROUP_ARN = new RegExp(
  `^@@${DEPLOYMENT_PREFIX}${deploymentKey.functionLogGroupArn('(\\w+)')}@@$`,
);

/** The functions whose log groups a logs query names (by the deployment's ARN markers). */
export const logGroupsQueried = (target: Target): FunctionName[] =>
  (target.logGroups ?? []).map(({ arn }) => {
    const fn = LOG_GROUP_ARN.exec(arn)?.[1] as FunctionName | undefined;
    if (fn === undefined || !functionNames.includes(fn))
      throw new Error(`${arn} is not a function log group the model knows`);
    return fn;
  });

/** Bytes one logs query scans over a range of `hours`: all of its groups' bytes in the range. */
export const bytesScanned = (target: Target, hours: number): number =>
  queryKind(target) === 'logs'
    ? logGroupsQueried(target).reduce((sum, fn) => sum + logBytesPerHour(fn) * hours, 0)
    : 0;

/** ListMetrics requests a variable's listing makes when a page opens: a page per 500 metrics. */
const listingRequests = (variable: VariableJson): number => {
  const query = (variable.query ?? {}) as {
    namespace?: string;
    dimensionFilters?: Record<string, string>;
  };
  if (variable.type !== 'query' || query.namespace !== SENSOR_NAMESPACE) return 1;
  const pinned = new Set(Object.keys(query.dimensionFilters ?? {}));
  const metrics = Object.values(SensorDimension).reduce(
    (product, key) =>
      product * (pinned.has(key) ? 1 : cardinality(SENSOR_NAMESPACE, key, LOOKBACK_HOURS)),
    1,
  );
  return Math.max(1, Math.ceil(metrics / 500));
};

export interface OpenTabCost {
  uid: string;
  title: string;
  refresh: string;
  refreshesPerHour: number;
  metricsPerRefresh: number;
  bytesScannedPerRefresh: number;
  metricsDollarsPerHour: number;
  logsDollarsPerHour: number;
  dollarsPerHour: number;
  /** ListMetrics requests the variables make as the page opens (then answered from cache). */
  listingsOnOpening: number;
}

const SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600 };

export const refreshSeconds = (refresh: string): number => {
  const match = /^(\d+)([smh])$/.exec(refresh);
  if (!match) throw new Error(`Dashboard refresh ${refresh} is not <n>s|m|h`);
  return Number(match[1]) * (SECONDS[match[2] as string] as number);
};

const GB = 1024 ** 3;

/** One open tab of a dashboard, refreshing at its default rate. */
export const openTabCost = (dashboard: DashboardJson): OpenTabCost => {
  const variables = dashboard.templating.list;
  const dashboardHours = hoursOf(dashboard.time?.from ?? 'now-1h');
  const panelHours = (panel: PanelJson) =>
    panel.timeFrom ? hoursOf(panel.timeFrom) : dashboardHours;
  const perRefresh = (count: (target: Target, hours: number) => number) =>
    dashboard.panels.reduce(
      (sum, panel) =>
        sum + (panel.targets ?? []).reduce((n, target) => n + count(target, panelHours(panel)), 0),
      0,
    );
  const metricsPerRefresh = perRefresh((target, hours) =>
    metricsRequested(target, variables, hours),
  );
  const bytesScannedPerRefresh = perRefresh(bytesScanned);
  const refresh = dashboard.refresh ?? '';
  const refreshesPerHour = 3600 / refreshSeconds(refresh);
  const metricsDollarsPerHour =
    (refreshesPerHour * metricsPerRefresh * PRICES.getMetricDataPerThousandMetrics) / 1000;
  const logsDollarsPerHour =
    (refreshesPerHour * bytesScannedPerRefresh * PRICES.logsInsightsPerGbScanned) / GB;
  return {
    uid: dashboard.uid,
    title: dashboard.title,
    refresh,
    refreshesPerHour,
    metricsPerRefresh,
    bytesScannedPerRefresh,
    metricsDollarsPerHour,
    logsDollarsPerHour,
    dollarsPerHour: metricsDollarsPerHour + logsDollarsPerHour,
    listingsOnOpening: variables
      .filter((v) => v.type === 'query')
      .reduce((sum, v) => sum + listingRequests(v), 0),
  };
};

/** Budget per open tab and hour on AWS. */
export const OPEN_TAB_BUDGET_PER_HOUR = 0.05;

export const OPEN_TAB_TABLE_START =
  '<!-- open-tab-cost: generated by dashboards/open-tab-cost.ts, checked by its test -->';
export const OPEN_TAB_TABLE_END = '<!-- /open-tab-cost -->';

const megabytes = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)} MB`;
const dollars = (value: number) => `$${value.toFixed(4)}`;

/** The docs block: each dashboard's default refresh, what a refresh requests, cost per hour. */
export const openTabTable = (costs: OpenTabCost[]): string =>
  [
    OPEN_TAB_TABLE_START,
    '| dashboard | default refresh | metrics per refresh | log data scanned per refresh | GetMetricData per hour | Logs Insights per hour | per open tab and hour | ListMetrics requests on opening |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...costs.map(
      (c) =>
        `| ${c.title.replace(/^.*— /, '')} | ${c.refresh} | ${c.metricsPerRefresh} | ${megabytes(c.bytesScannedPerRefresh)} | ${dollars(c.metricsDollarsPerHour)} | ${dollars(c.logsDollarsPerHour)} | **${dollars(c.dollarsPerHour)}** | ${c.listingsOnOpening} |`,
    ),
    '',
    `Reference workload: ${w.readingsPerSecond} readings a second in the front end's shape (one reading a request), ${w.runsPerHour} runs an hour of ${w.sensorsPerRun} sensors × ${w.readingTypes} reading types; log bytes ${Object.entries(
      w.logBytesPerReading,
    )
      .map(([fn, bytes]) => `${bytes} a reading in ${fn}'s group`)
      .join(
        ', ',
      )}, ${w.logBytesPerRun.runApi} a run in runApi's, ${w.logBytesPerHour.runSweeper} an hour in runSweeper's (${functionNames.map((fn) => `${fn} ${megabytes(logBytesPerHour(fn))}`).join(', ')} an hour); the stage's ${functionNames.length} functions, ${queueNames.length * 2} queues (with dead letters), ${tableNames.length} tables (${indexes} indexes), ${functionNames.length + w.otherLogGroups} log groups. GetMetricData $${PRICES.getMetricDataPerThousandMetrics} per 1,000 metrics, Logs Insights $${PRICES.logsInsightsPerGbScanned} per GB scanned, ListMetrics $${PRICES.cloudWatchApiPerThousandRequests} per 1,000 requests (\`shared/prices.ts\`).`,
    OPEN_TAB_TABLE_END,
  ].join('\n');
