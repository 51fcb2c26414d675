/**
 * What Grafana's CloudWatch datasource frontend sends, for the check to send the same: which
 * queries it sends at all, how it interpolates them, and how a variable lists its options. From
 * grafana/grafana-cloudwatch-datasource:
 * - src/datasource.ts (`filterQuery`: a hidden query goes only as a metrics query with an id),
 *   src/utils/utils.ts (`filterMetricsQuery`), CloudWatchLogsQueryRunner.ts (`filterQuery`);
 * - CloudWatchMetricsQueryRunner.ts (`replaceMetricQueryVars`, `getPeriod`) and
 *   CloudWatchRequest.ts (`convertDimensionFormat`, `getActualRegion`);
 * - CloudWatchLogsQueryRunner.ts (`handleLogQueries`: log groups interpolated by value, legacy
 *   names by text; StartQuery as a `logAction`);
 * - src/variables.ts and src/resources/ResourcesAPI.ts (the resource behind each variable query
 *   type and its parameters).
 */
import { queryKind, type Target, type VariableJson } from '#shared/dashboard-model/index.ts';
import {
  resourcePath,
  type LogGroupJson,
  type MetricJson,
  type ResourceResponseJson,
} from '#shared/grafana-query-api.ts';
import { reasonOf, type GrafanaClient } from './grafana-client.ts';
import { replace, variableName, type Scope } from './template.ts';
import type { Lister, Listing } from './variables.ts';

export interface DatasourceInfo {
  uid: string;
  type: string;
  /** `jsonData.defaultRegion`; unknown when the token may not read the datasource. */
  defaultRegion?: string;
}

/** `getActualRegion`: 'default' (or none) is the datasource's region. The backend reads 'default' alike. */
export const actualRegion = (region: string | undefined, datasource: DatasourceInfo): string =>
  region === undefined || region === '' || region === 'default'
    ? (datasource.defaultRegion ?? 'default')
    : region;

/** `convertDimensionFormat`: a multi-value variable becomes its values; a list stays as written. */
export const convertDimensions = (
  dimensions: Record<string, string | string[] | null> | undefined,
  scope: Scope,
): Record<string, string[] | null> =>
  Object.fromEntries(
    Object.entries(dimensions ?? {}).map(([key, value]) => {
      const name = replace(key, scope);
      if (Array.isArray(value)) return [name, value];
      if (!value) return [name, null];
      const variable = scope.get(variableName(value) ?? '');
      if (!variable) return [name, [value]];
      const multi = ['custom', 'query', 'datasource'].includes(variable.type) && variable.multi;
      return [name, multi ? replace(value, scope, 'pipe').split('|') : [replace(value, scope)]];
    }),
  );

/** `interpolateStringArrayUsingSingleOrMultiValuedVariable`: values (ARNs) or texts (names). */
const interpolateList = (strings: string[], scope: Scope, key: 'value' | 'text'): string[] =>
  strings.flatMap((text) => {
    const variable = scope.get(variableName(text) ?? '');
    if (!variable) return [text];
    const raw = variable[key];
    if (Array.isArray(raw))
      return replace(text, scope, key === 'value' ? 'pipe' : 'text').split(
        key === 'value' ? '|' : ' + ',
      );
    return [replace(text, scope, key === 'value' ? 'pipe' : 'text')];
  });

/** Why the datasource would not send a query, or undefined when it sends it. */
export const notSentReason = (target: Target): string | undefined => {
  const kind = queryKind(target);
  if (kind === 'logs') {
    if (target.hide === true) return 'a hidden Logs Insights query is not sent';
    const groups = (target.logGroups?.length ?? 0) + (target.logGroupNames?.length ?? 0);
    if (groups === 0) return 'a Logs Insights query without log groups is not sent';
    if (!target.expression) return 'a Logs Insights query without a query string is not sent';
    return undefined;
  }
  if (target.hide === true && target.id === '') return 'a hidden query without an id is not sent';
  if (!target.region) return 'a query without a region is not sent';
  if (kind === 'search' && !(target.namespace && target.metricName && target.statistic))
    return 'a builder query needs namespace, metric and statistic to be sent';
  if (kind === 'math' && !target.expression)
    return 'a math query without an expression is not sent';
  if (kind === 'insights' && !target.sqlExpression)
    return 'a Metrics Insights query without SQL is not sent';
  return undefined;
};

/** `getPeriod`: a number of seconds (at least 1), or as written ('' and 'auto' leave it to the backend). */
const periodOf = (period: string | undefined, scope: Scope): string => {
  const value = replace(period, scope);
  if (!value || value.toLowerCase() === 'auto') return value;
  const units: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
  const match = /^(\d+)([smhdw]?)$/.exec(value);
  const seconds = match ? Number(match[1]) * (units[match[2] || 's'] as number) : Number(value);
  return String(Math.max(1, seconds));
};

/** A metrics query as `handleMetricQueries` sends it, variables interpolated. */
export const metricQuery = (
  target: Target,
  scope: Scope,
  datasource: DatasourceInfo,
  interval: { intervalMs: number; maxDataPoints: number },
): Record<string, unknown> => ({
  timezoneUTCOffset: '+0000',
  ...interval,
  ...target,
  region: replace(actualRegion(target.region, datasource), scope),
  namespace: replace(target.namespace, scope),
  metricName: replace(target.metricName, scope),
  dimensions: convertDimensions(target.dimensions, scope),
  statistic: replace(target.statistic, scope),
  period: periodOf(target.period, scope),
  id: replace(target.id, scope),
  expression: replace(target.expression, scope),
  sqlExpression: replace(target.sqlExpression, scope, 'raw'),
  type: 'timeSeriesQuery',
  datasource: { type: datasource.type, uid: datasource.uid },
});

/** A Logs Insights query as StartQuery sends it (`handleLogQueries`). */
export const logsStartQuery = (
  target: Target,
  scope: Scope,
  datasource: DatasourceInfo,
  interval: { intervalMs: number; maxDataPoints: number },
): Record<string, unknown> => {
  const arns = interpolateList(
    (target.logGroups ?? []).map((group) => group.arn),
    scope,
    'value',
  );
  const names = interpolateList(target.logGroupNames ?? [], scope, 'text');
  return {
    ...interval,
    refId: target.refId,
    region: replace(actualRegion(target.region, datasource), scope),
    queryString: replace(target.expression, scope),
    logGroups: [...new Set(arns)].map((arn) => ({ arn, name: arn })),
    logGroupNames: [...new Set(names)],
    id: '',
    queryMode: 'Logs',
    datasource: { type: datasource.type, uid: datasource.uid },
    type: 'logAction',
    subtype: 'StartQuery',
  };
};

const STANDARD_STATISTICS = ['Average', 'Maximum', 'Minimum', 'Sum', 'SampleCount'];

/** The variable query types the datasource lists through a resource the check knows. */
const KNOWN_ELSEWHERE = [
  'regions',
  'namespaces',
  'dimensionKeys',
  'ebsVolumeIDs',
  'ec2InstanceAttributes',
  'resourceARNs',
  'accounts',
];

/**
 * Lists a CloudWatch query variable's options through the datasource's resource endpoints, with
 * the parameters ResourcesAPI.ts sends.
 */
export const cloudWatchLister =
  (
    client: GrafanaClient,
    datasourceOf: (variable: VariableJson) => Promise<DatasourceInfo>,
  ): Lister =>
  async (variable, scope): Promise<Listing> => {
    const datasource = await datasourceOf(variable);
    if (datasource.type !== 'cloudwatch')
      return {
        options: [],
        asked: false,
        error: `the check cannot list a ${datasource.type} variable`,
      };
    const query = (typeof variable.query === 'object' ? variable.query : {}) as Record<
      string,
      string | undefined
    >;
    const region = replace(actualRegion(query.region, datasource), scope);
    const ask = async <T>(
      resource: string,
      params: Record<string, string>,
    ): Promise<{ items?: ResourceResponseJson<T>[]; error?: string }> => {
      let answer;
      try {
        answer = await client.get(resourcePath(datasource.uid, resource), params);
      } catch (error) {
        return { error: `${resource}: request failed: ${(error as Error).message}` };
      }
      if (answer.status >= 400 || !Array.isArray(answer.body))
        return { error: `${resource}: ${reasonOf(answer)}` };
      return { items: answer.body as ResourceResponseJson<T>[] };
    };
    const fromItems = <T>(
      answer: { items?: ResourceResponseJson<T>[]; error?: string },
      option: (value: T) => { text: string; value: string },
    ): Listing =>
      answer.error !== undefined
        ? { options: [], asked: true, error: answer.error }
        : { options: (answer.items ?? []).map((item) => option(item.value)), asked: true };
    const queryType = query.queryType ?? '';
    switch (queryType) {
      case 'dimensionValues': {
        if (!query.dimensionKey || !query.metricName) return { options: [], asked: false };
        const dimensionFilters = (
          variable.query as { dimensionFilters?: Record<string, string | string[]> }
        ).dimensionFilters;
        const answer = await ask<string>('dimension-values', {
          region,
          namespace: replace(query.namespace, scope),
          metricName: replace(query.metricName.trim(), scope),
          dimensionKey: replace(query.dimensionKey, scope),
          dimensionFilters: JSON.stringify(convertDimensions(dimensionFilters, scope)),
          ...(query.accountId ? { accountId: replace(query.accountId, scope) } : {}),
        });
        return fromItems(answer, (value) => ({ text: value, value }));
      }
      case 'metrics': {
        if (!query.namespace) return { options: [], asked: false };
        const answer = await ask<MetricJson>('metrics', {
          region,
          namespace: replace(query.namespace, scope),
        });
        return fromItems(answer, (metric) => ({ text: metric.name, value: metric.name }));
      }
      case 'logGroups': {
        const prefix = replace(query.logGroupPrefix, scope);
        const answer = await ask<LogGroupJson>('log-groups', {
          region,
          logGroupNamePrefix: prefix,
          listAllLogGroups: 'true',
          ...(query.accountId ? { accountId: replace(query.accountId, scope) } : {}),
        });
        // Text: the name; value: the ARN, which the logs queries take.
        return fromItems(answer, (group) => ({ text: group.name, value: group.arn }));
      }
      case 'statistics':
        return { options: STANDARD_STATISTICS.map((s) => ({ text: s, value: s })), asked: false };
      default:
        if (KNOWN_ELSEWHERE.includes(queryType))
          return {
            options: [],
            asked: false,
            error: `the check does not list variable query type ${queryType} yet`,
          };
        // `execute` in src/variables.ts has no default case: the variable lists nothing.
        return {
          options: [],
          asked: false,
          note: `the datasource has no variable query type ${JSON.stringify(queryType)}: it lists nothing`,
        };
    }
  };
