/**
 * The deployment variables most dashboards share: the stage, and the stage's functions, queues,
 * tables, log groups and HTTP API as the deployment gives them (custom variables whose values
 * Grafana's start fills in, shared/dashboard-model/deployment.ts). Nothing here is discovered from
 * ListMetrics: that lists only what reported metrics (an idle dead-letter queue is missing),
 * lists every stage's API, and is answered once for the page's life.
 */
import { DEPLOYMENT_VARIABLES } from '#shared/grafana.ts';
import { AWS_METRICS, deploymentKey, OTHER_LOG_GROUPS } from '#shared/dashboard-model/index.ts';
import {
  functionNames,
  queueNames,
  tableNames,
  type FunctionName,
  type QueueName,
  type TableName,
} from '#infra/topology.ts';
import { deploymentResources, stageVariable } from './panels.ts';
import { resourceMetric } from './queries.ts';

const { lambda, sqs, dynamodb, api, logs } = AWS_METRICS;
const V = DEPLOYMENT_VARIABLES;
const k = deploymentKey;

/** Metrics of the resources each deployment variable picks (the variables below list them). */
export const ofApi = resourceMetric(api.namespace, 'ApiId', V.api);
export const ofFunction = resourceMetric(lambda.namespace, 'FunctionName', V.function);
export const ofQueue = resourceMetric(sqs.namespace, 'QueueName', V.queue);
export const ofTable = resourceMetric(dynamodb.namespace, 'TableName', V.table);
export const ofLogGroup = resourceMetric(logs.namespace, 'LogGroupName', V.logGroupNames);

export const functionVariable = (names: readonly FunctionName[] = functionNames) =>
  deploymentResources(
    V.function,
    'Function',
    names.map((name) => ({ text: name, key: k.function(name) })),
  );

export const queueVariable = (names: readonly QueueName[] = queueNames) =>
  deploymentResources(
    V.queue,
    'Queue',
    names.flatMap((name) => [
      { text: name, key: k.queue(name) },
      { text: `${name} dead letters`, key: k.deadLetterQueue(name) },
    ]),
  );

export const tableVariable = (names: readonly TableName[] = tableNames) =>
  deploymentResources(
    V.table,
    'Table',
    names.map((name) => ({ text: name, key: k.table(name) })),
  );

/** The stage's own HTTP API: the one value the deployment gives. */
export const apiVariable = () =>
  deploymentResources(V.api, 'HTTP API', [{ text: 'HTTP API', key: k.httpApi() }]);

/**
 * Every log group of the stage by name (functions, API access logs, Grafana): AWS/Logs metrics
 * such as IncomingBytes are keyed by `LogGroupName`.
 */
export const logGroupNamesVariable = () =>
  deploymentResources(V.logGroupNames, 'Log group names', [
    ...functionNames.map((name) => ({ text: name, key: k.logGroupName(name) })),
    ...Object.entries(OTHER_LOG_GROUPS).map(([key, text]) => ({
      text,
      key: k.logGroupName(key),
    })),
  ]);

export { stageVariable };

/**
 * Every deployment variable: the stage and the resources read within it (every function, queue
 * and table, or those given).
 */
export const deploymentVariables = (
  only: {
    functions?: readonly FunctionName[];
    queues?: readonly QueueName[];
    tables?: readonly TableName[];
  } = {},
) => [
  stageVariable(),
  apiVariable(),
  functionVariable(only.functions),
  queueVariable(only.queues),
  tableVariable(only.tables),
];
