/**
 * CloudWatch queries as the dashboards use them: metric searches (builder mode), Metrics
 * Insights SQL, metric math over other queries, and Logs Insights. Each names its datasource by
 * the provisioned uid.
 */
import {
  LogsQueryBuilder,
  MetricEditorMode,
  MetricQueryType,
  MetricsQueryBuilder,
  QueryMode,
} from '@grafana/grafana-foundation-sdk/cloudwatch';
import { CLOUDWATCH_DATASOURCE, DEPLOYMENT_VARIABLES } from '#shared/grafana.ts';

export type Query = MetricsQueryBuilder | LogsQueryBuilder;

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

/** A CloudWatch metric id: metric math refers to a query by it. */
const metricsQuery = (id: string) =>
  new MetricsQueryBuilder()
    .datasource(CLOUDWATCH_DATASOURCE)
    .queryMode(QueryMode.Metrics)
    .region('default')
    .refId(id.toUpperCase())
    .id(id)
    .period('');

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

/** Metrics Insights (`SELECT SUM(m) FROM SCHEMA(...) GROUP BY d`): one series per group. */
export const insights = (id: string, sql: string, label?: string): MetricsQueryBuilder => {
  const query = metricsQuery(id)
    .metricQueryType(MetricQueryType.Insights)
    .metricEditorMode(MetricEditorMode.Code)
    .sqlExpression(sql);
  if (label) query.label(label);
  return query;
};

/** Metric math over the ids of other queries of the same panel. */
export const math = (id: string, expression: string, label: string): MetricsQueryBuilder =>
  metricsQuery(id)
    .metricQueryType(MetricQueryType.Search)
    .metricEditorMode(MetricEditorMode.Code)
    .expression(expression)
    .label(label);

/** Logs Insights over the stage's log groups (the `logGroups` variable). */
export const logs = (id: string, expression: string): LogsQueryBuilder =>
  new LogsQueryBuilder()
    .datasource(CLOUDWATCH_DATASOURCE)
    .queryMode(QueryMode.Logs)
    .region('default')
    .refId(id.toUpperCase())
    .id(id)
    .logGroupNames([`$${DEPLOYMENT_VARIABLES.logGroups}`])
    .expression(expression);

/** `${PROP('Dim.<key>')}`: CloudWatch's dynamic label for a dimension's value. */
export const dimLabel = (...keys: string[]): string =>
  keys.map((key) => `\${PROP('Dim.${key}')}`).join(' ');

/** A `$variable` reference. */
export const ref = (name: string): string => `$${name}`;
