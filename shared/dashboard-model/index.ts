/**
 * What the dashboards are built to and what the local renderer checks them against: the
 * generated dashboard JSON as its readers see it, the facts of Grafana's CloudWatch datasource
 * and of CloudWatch, and the AWS service metrics the dashboards may query. Here, under shared/,
 * so that `dashboards/` (which writes the JSON) and `infra/local/grafana` (which renders it)
 * both depend on it and neither reaches into the other.
 */
export { AWS_EXTRA_DIMENSIONS, AWS_METRICS } from './aws-metrics.ts';
export {
  insightsIdentifier,
  insightsValue,
  METRIC_DATA_ID,
  PERIOD_AUTO,
  SEARCH_LOOKBACK_MS,
  SEARCH_MAX_SERIES,
  VARIABLE_QUERY_REF_ID,
  VARIABLE_QUERY_TYPES,
  VariableQueryType,
  type CloudWatchVariableQuery,
  type DimensionValuesQuery,
  type LogGroupsQuery,
} from './cloudwatch.ts';
export {
  DEPLOYMENT_PREFIX,
  DEPLOYMENT_VALUE,
  deploymentKey,
  deploymentMarker,
  deploymentMarkers,
  deploymentValues,
  OTHER_LOG_GROUPS,
  provisionDashboard,
  type DeploymentResources,
} from './deployment.ts';
export { INSIGHTS_RESERVED_KEYWORDS } from './insights-reserved-keywords.ts';
export {
  DASHBOARD_DATASOURCE,
  INSIGHTS_MAX_METRICS,
  INSIGHTS_MAX_SERIES,
  InsightsSyntaxError,
  mathReferences,
  parseInsights,
  queryKind,
  type DashboardJson,
  type DashboardLinkJson,
  type DataSourceRef,
  type GridPos,
  type InsightsQuery,
  type LogGroupRef,
  type PanelJson,
  type QueryKind,
  type Target,
  type ThresholdStep,
  type TransformationJson,
  type VariableJson,
  type VariableOptionJson,
} from './model.ts';
