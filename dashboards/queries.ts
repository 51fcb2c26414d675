/**
 * CloudWatch queries as the dashboards use them: metric searches (builder mode), Metrics
 * Insights SQL, metric math over other queries, and Logs Insights. Each names its datasource by
 * the provisioned uid.
 */
import {
  LogGroupBuilder,
  LogsQueryBuilder,
  MetricEditorMode,
  MetricQueryType,
  MetricsQueryBuilder,
  QueryMode,
} from '@grafana/grafana-foundation-sdk/cloudwatch';
import type { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/datasource';
import { CLOUDWATCH_DATASOURCE } from '#shared/grafana.ts';
import { SENSOR_NAMESPACE, SensorDimension, SensorMetric } from '#shared/metrics-contract.ts';
import type { FunctionName } from '#infra/topology.ts';
import {
  deploymentKey,
  deploymentMarker,
  insightsIdentifier,
  insightsValue,
  METRIC_DATA_ID,
} from '#shared/dashboard-model/index.ts';

/** A panel's query: CloudWatch metrics or logs, or another panel's results. */
export type Query = MetricsQueryBuilder | LogsQueryBuilder | DataqueryBuilder;

export interface MetricSpec {
  namespace: string;
  metricName: string;
  /** Dimension key to value; `*` or a `$variable` (a multi-value one expands to a search). */
  dimensions: Record<string, string>;
  statistic: 'Sum' | 'Average' | 'Maximum' | 'Minimum' | 'SampleCount' | `p${number}`;
  /** Legend; `${PROP('Dim.X')}` is the value of dimension X, as in CloudWatch dynamic labels. */
  label?: string;
  /** Hidden queries only feed metric math. */
  hide?: boolean;
}

/**
 * A CloudWatch metric id: metric math refers to a query by it. GetMetricData refuses an id that
 * does not start with a lowercase letter, so a bad one fails here, at generation.
 */
const metricsQuery = (id: string) => {
  if (!METRIC_DATA_ID.test(id)) throw new Error(`${id} is not a GetMetricData id`);
  return new MetricsQueryBuilder()
    .datasource(CLOUDWATCH_DATASOURCE)
    .queryMode(QueryMode.Metrics)
    .region('default')
    .refId(id.toUpperCase())
    .id(id)
    .period('');
};

export const metric = (id: string, spec: MetricSpec): MetricsQueryBuilder => {
  const query = metricsQuery(id)
    .metricQueryType(MetricQueryType.Search)
    .metricEditorMode(MetricEditorMode.Builder)
    .namespace(spec.namespace)
    .metricName(spec.metricName)
    .dimensions(spec.dimensions)
    .matchExact(true)
    .statistic(spec.statistic);
  if (spec.label) query.label(spec.label);
  if (spec.hide) query.hide(true);
  return query;
};

export interface InsightsSpec {
  statistic: 'SUM' | 'AVG' | 'MAX' | 'MIN' | 'COUNT';
  metricName: string;
  namespace: string;
  /** The exact dimension keys of the metrics to read (`SCHEMA(namespace, keys…)`). */
  schema: readonly string[];
  /** `key = 'value'` conditions, ANDed; a value may be a `$variable`. */
  where?: Record<string, string>;
  groupBy: readonly string[];
  /** `ORDER BY <statistic>() DESC LIMIT <n>`: the largest groups. */
  top?: number;
}

/**
 * Metrics Insights SQL with every identifier written as CloudWatch needs it: a reserved keyword
 * (`User`, `Type`, …) or a name with other characters than letters, digits and `_` is quoted.
 */
export const insightsSql = (spec: InsightsSpec): string => {
  const keys = (names: readonly string[]) => names.map(insightsIdentifier).join(', ');
  const conditions = Object.entries(spec.where ?? {}).map(
    ([key, value]) => `${insightsIdentifier(key)} = ${insightsValue(value)}`,
  );
  return [
    `SELECT ${spec.statistic}(${insightsIdentifier(spec.metricName)})`,
    `FROM SCHEMA(${insightsIdentifier(spec.namespace)}, ${keys(spec.schema)})`,
    conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '',
    spec.groupBy.length > 0 ? `GROUP BY ${keys(spec.groupBy)}` : '',
    spec.top === undefined ? '' : `ORDER BY ${spec.statistic}() DESC LIMIT ${spec.top}`,
  ]
    .filter(Boolean)
    .join(' ');
};

/** Metrics Insights: one series per group. Grafana needs a statistic on every metrics query. */
export const insights = (id: string, spec: InsightsSpec, label?: string): MetricsQueryBuilder => {
  const query = metricsQuery(id)
    .metricQueryType(MetricQueryType.Insights)
    .metricEditorMode(MetricEditorMode.Code)
    .sqlExpression(insightsSql(spec))
    .statistic('Average');
  if (label) query.label(label);
  return query;
};

/**
 * Metric math over the ids of other queries of the same panel. Mind CloudWatch's types: SUM, AVG,
 * MAX and MIN of an array (a search) are a series, of one metric a number, and a builder query
 * over a variable is a search only while the variable holds more than one value; so sums take
 * the array form, `SUM([x])`, a series either way. PERIOD takes one metric only, so a rate
 * divides by `$__period_auto` (cloudwatch.ts PERIOD_AUTO).
 */
export const math = (id: string, expression: string, label: string): MetricsQueryBuilder =>
  metricsQuery(id)
    .metricQueryType(MetricQueryType.Search)
    .metricEditorMode(MetricEditorMode.Code)
    .expression(expression)
    .statistic('Average')
    .label(label);

/**
 * Logs Insights over the log groups of `functions`, by the ARNs the deployment gives (the
 * datasource reads `logGroups` by ARN; the Grafana task role may query the functions' groups
 * only). Logs Insights bills every byte of the named groups in the panel's range, whatever the
 * query filters: a panel names only the groups it needs, over a short range.
 */
export const logs = (
  id: string,
  expression: string,
  functions: readonly FunctionName[],
): LogsQueryBuilder =>
  new LogsQueryBuilder()
    .datasource(CLOUDWATCH_DATASOURCE)
    .queryMode(QueryMode.Logs)
    .region('default')
    .refId(id.toUpperCase())
    .id(id)
    .logGroups(
      functions.map((fn) =>
        new LogGroupBuilder()
          .arn(deploymentMarker(deploymentKey.functionLogGroupArn(fn)))
          .name(deploymentMarker(deploymentKey.logGroupName(fn))),
      ),
    )
    .expression(expression);

/**
 * Readings stored (DataIngested) over the sensor metrics' one dimension set, summed per
 * `groupBy`, the 20 largest groups; `where` narrows it (a run).
 */
export const ingestedBy = (groupBy: string, where: Record<string, string> = {}) =>
  insights(
    'g',
    {
      statistic: 'SUM',
      metricName: SensorMetric.ingested,
      namespace: SENSOR_NAMESPACE,
      schema: Object.values(SensorDimension),
      where,
      groupBy: [groupBy],
      top: 20,
    },
    dimLabel(groupBy),
  );

/** `${PROP('Dim.<key>')}`: CloudWatch's dynamic label for a dimension's value. */
export const dimLabel = (...keys: string[]): string =>
  keys.map((key) => `\${PROP('Dim.${key}')}`).join(' ');

/** The sum of a query's series, a series whether the query is a search or one metric. */
export const sumOf = (id: string): string => `SUM([${id}])`;

/** A `$variable` reference. */
export const ref = (name: string): string => `$${name}`;

/** What names a metric: namespace, name and dimensions, without how it is shown. */
export type MetricId = Pick<MetricSpec, 'namespace' | 'metricName' | 'dimensions'>;

/**
 * Metrics of the stage's resources of one kind: keyed by `key`, whose values the deployment
 * variable `variable` picks (plus fixed `extra` dimensions).
 */
export const resourceMetric =
  (namespace: string, key: string, variable: string, extra: Record<string, string> = {}) =>
  (metricName: string): MetricId => ({
    namespace,
    metricName,
    dimensions: { [key]: ref(variable), ...extra },
  });
