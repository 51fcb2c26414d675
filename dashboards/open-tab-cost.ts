/**
 * What one open tab of each dashboard costs an hour on AWS, computed from the generated JSON:
 * every refresh is one GetMetricData call per panel, billed per metric it requests (a search
 * counts every metric it matches, a Metrics Insights query every metric it analyses; math and the
 * Dashboard datasource request none), plus a ListMetrics call per variable listed again on every
 * refresh. Metric counts follow the stage's topology and a stated workload (OPEN_TAB_WORKLOAD).
 * Logs Insights panels are billed per GB scanned instead, which depends on log volume; see
 * docs/dashboards.md.
 */
import { PRICES } from '#shared/prices.ts';
import { SENSOR_NAMESPACE, SensorDimension } from '#shared/metrics-contract.ts';
import { RUN_STATUSES } from '#shared/run.ts';
import { functionNames, queueNames, tableNames, topology } from '#infra/topology.ts';
import {
  parseInsights,
  queryKind,
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
  /** Besides the functions': the API access logs and Grafana's own. */
  otherLogGroups: 2,
} as const;

const w = OPEN_TAB_WORKLOAD;
const indexes = tableNames.reduce((n, name) => n + topology.tables[name].indexes.length, 0);

/** How many values a dimension takes across the stage when it is not pinned, per hour shown. */
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

/** Values a dimension takes in a query: pinned (1), `*`, or a variable's selection. */
const valuesOf = (
  namespace: string,
  key: string,
  value: string,
  variables: VariableJson[],
  hours: number,
): number => {
  const variable = variables.find((v) => value === `$${v.name}` || value === `\${${v.name}}`);
  if (value === '*') return cardinality(namespace, key, hours);
  if (!variable) return 1;
  const current = [variable.current?.value].flat();
  return current.includes('$__all') || variable.multi ? cardinality(namespace, key, hours) : 1;
};

const HOURS: Record<string, number> = { m: 1 / 60, h: 1, d: 24 };

/** Hours a `now-<n><unit>` range or a `<n><unit>` relative time covers. */
const hoursOf = (range: string): number => {
  const match = /(\d+)([mhd])$/.exec(range);
  return match ? Number(match[1]) * (HOURS[match[2] as string] as number) : 1;
};

/** Metrics one query requests from GetMetricData. */
export const metricsRequested = (
  target: Target,
  variables: VariableJson[],
  hours: number,
): number => {
  switch (queryKind(target)) {
    case 'search':
      return Object.entries(target.dimensions ?? {}).reduce(
        (product, [key, value]) =>
          product *
          [value]
            .flat()
            .reduce(
              (sum, v) => sum + valuesOf(target.namespace ?? '', key, v, variables, hours),
              0,
            ),
        1,
      );
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

export interface OpenTabCost {
  uid: string;
  title: string;
  refresh: string;
  refreshesPerHour: number;
  metricsPerRefresh: number;
  listingsPerRefresh: number;
  dollarsPerHour: number;
}

const SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600 };

export const refreshSeconds = (refresh: string): number => {
  const match = /^(\d+)([smh])$/.exec(refresh);
  if (!match) throw new Error(`Dashboard refresh ${refresh} is not <n>s|m|h`);
  return Number(match[1]) * (SECONDS[match[2] as string] as number);
};

/** One open tab of a dashboard, refreshing at its default rate. */
export const openTabCost = (dashboard: DashboardJson): OpenTabCost => {
  const variables = dashboard.templating.list;
  const dashboardHours = hoursOf(dashboard.time?.from ?? 'now-1h');
  const panelHours = (panel: PanelJson) =>
    panel.timeFrom ? hoursOf(panel.timeFrom) : dashboardHours;
  const metricsPerRefresh = dashboard.panels.reduce(
    (sum, panel) =>
      sum +
      (panel.targets ?? []).reduce(
        (n, target) => n + metricsRequested(target, variables, panelHours(panel)),
        0,
      ),
    0,
  );
  const listingsPerRefresh = variables.filter((v) => v.type === 'query' && v.refresh === 2).length;
  const refresh = dashboard.refresh ?? '';
  const refreshesPerHour = 3600 / refreshSeconds(refresh);
  const dollarsPerHour =
    refreshesPerHour *
    ((metricsPerRefresh * PRICES.getMetricDataPerThousandMetrics) / 1000 +
      (listingsPerRefresh * PRICES.cloudWatchApiPerThousandRequests) / 1000);
  return {
    uid: dashboard.uid,
    title: dashboard.title,
    refresh,
    refreshesPerHour,
    metricsPerRefresh,
    listingsPerRefresh,
    dollarsPerHour,
  };
};

/** Budget per open tab and hour on AWS. */
export const OPEN_TAB_BUDGET_PER_HOUR = 0.05;

export const OPEN_TAB_TABLE_START =
  '<!-- open-tab-cost: generated by dashboards/open-tab-cost.ts, checked by its test -->';
export const OPEN_TAB_TABLE_END = '<!-- /open-tab-cost -->';

/** The README block: each dashboard's default refresh, metrics per refresh and cost per hour. */
export const openTabTable = (costs: OpenTabCost[]): string =>
  [
    OPEN_TAB_TABLE_START,
    '| dashboard | default refresh | metrics per refresh | ListMetrics per refresh | per open tab and hour |',
    '| --- | --- | --- | --- | --- |',
    ...costs.map(
      (c) =>
        `| ${c.title.replace(/^.*— /, '')} | ${c.refresh} | ${c.metricsPerRefresh} | ${c.listingsPerRefresh} | $${c.dollarsPerHour.toFixed(4)} |`,
    ),
    '',
    `Workload assumed: ${w.runsPerHour} runs an hour of ${w.sensorsPerRun} sensors × ${w.readingTypes} reading types; the stage's ${functionNames.length} functions, ${queueNames.length * 2} queues (with dead letters), ${tableNames.length} tables (${indexes} indexes), ${functionNames.length + w.otherLogGroups} log groups; GetMetricData $${PRICES.getMetricDataPerThousandMetrics} per 1,000 metrics, ListMetrics $${PRICES.cloudWatchApiPerThousandRequests} per 1,000 requests (\`shared/prices.ts\`).`,
    OPEN_TAB_TABLE_END,
  ].join('\n');
