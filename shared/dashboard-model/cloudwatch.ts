/**
 * Facts of Grafana's CloudWatch datasource and of CloudWatch that the dashboards are built to
 * and the local renderer checks against. Read from grafana/grafana-cloudwatch-datasource (for
 * facts only: src/types.ts, src/variables.ts, pkg/cloudwatch/models/cloudwatch_query.go) and the
 * CloudWatch documentation; each constant names its source.
 */
import { INSIGHTS_RESERVED_KEYWORDS } from './insights-reserved-keywords.ts';

/**
 * The variable query types Grafana's CloudWatch variable support executes (`VariableQueryType`
 * in src/types.ts). Its `execute` switch in src/variables.ts has no default case: any other
 * value returns no options at all.
 */
export const VariableQueryType = {
  regions: 'regions',
  namespaces: 'namespaces',
  metrics: 'metrics',
  dimensionKeys: 'dimensionKeys',
  dimensionValues: 'dimensionValues',
  ebsVolumeIDs: 'ebsVolumeIDs',
  ec2InstanceAttributes: 'ec2InstanceAttributes',
  resourceARNs: 'resourceARNs',
  statistics: 'statistics',
  logGroups: 'logGroups',
  accounts: 'accounts',
} as const;
export type VariableQueryType = (typeof VariableQueryType)[keyof typeof VariableQueryType];

export const VARIABLE_QUERY_TYPES: readonly string[] = Object.values(VariableQueryType);

/** The refId Grafana's variable editor gives the query (src/migrations/variableQueryMigrations.ts). */
export const VARIABLE_QUERY_REF_ID = 'CloudWatchVariableQueryEditor-VariableQuery';

interface VariableQueryBase {
  refId: typeof VARIABLE_QUERY_REF_ID;
  region: string;
}

/** ListMetrics values of one dimension key (handleDimensionValuesQuery). */
export interface DimensionValuesQuery extends VariableQueryBase {
  queryType: typeof VariableQueryType.dimensionValues;
  namespace: string;
  metricName: string;
  dimensionKey: string;
  dimensionFilters: Record<string, string | string[]>;
}

/** DescribeLogGroups by prefix (handleLogGroupsQuery): option text = name, value = ARN. */
export interface LogGroupsQuery extends VariableQueryBase {
  queryType: typeof VariableQueryType.logGroups;
  logGroupPrefix: string;
}

/** The CloudWatch variable queries the dashboards build: a misspelt queryType does not compile. */
export type CloudWatchVariableQuery = DimensionValuesQuery | LogGroupsQuery;

/**
 * A GetMetricData query id: `validMetricDataID` in pkg/cloudwatch/models/cloudwatch_query.go,
 * and the MetricDataQuery.Id rule "must start with a lowercase letter"
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDataQuery.html).
 */
export const METRIC_DATA_ID = /^[a-z][a-zA-Z0-9_]*$/;

/**
 * A search expression (what Grafana sends for a builder query with `*` or several values) finds
 * only metrics that reported data in the last two weeks, and returns at most 500 time series
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-search-expressions.html,
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/search-expression-syntax.html):
 * past that, which metrics come back is not said, and those without data in the range are then
 * dropped by Grafana's REMOVE_EMPTY.
 */
export const SEARCH_MAX_SERIES = 500;
export const SEARCH_LOOKBACK_MS = 14 * 24 * 3_600_000;

/**
 * Grafana's `$__period_auto` macro, replaced in math expressions by the period it gives queries
 * without one (applyMacros in pkg/cloudwatch/models/cloudwatch_query.go).
 */
export const PERIOD_AUTO = '$__period_auto';

/**
 * A namespace, metric name or label key as Metrics Insights needs it written: double-quoted when
 * it holds anything but letters, digits and underscores, starts with a digit, or is a reserved
 * keyword ("What needs quotes or escape characters?",
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-metrics-insights-querylanguage.html).
 */
export const insightsIdentifier = (name: string): string =>
  needsQuotes(name) ? `"${name.replace(/(["\\])/g, '\\$1')}"` : name;

export const needsQuotes = (name: string): boolean =>
  !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || INSIGHTS_RESERVED_KEYWORDS.has(name.toUpperCase());

/** A label value in a Metrics Insights WHERE clause: single quotes, `'` escaped by a backslash. */
export const insightsValue = (value: string): string => `'${value.replace(/(['\\])/g, '\\$1')}'`;
