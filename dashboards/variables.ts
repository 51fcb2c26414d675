/** The deployment variables most dashboards share. */
import { DEPLOYMENT_VARIABLES } from '#shared/grafana.ts';
import { AWS_METRICS } from '#shared/dashboard-model/index.ts';
import { dimensionValues, logGroupsVariable, stageVariable } from './panels.ts';
import { resourceMetric } from './queries.ts';

const { lambda, sqs, dynamodb, api, logs } = AWS_METRICS;
const V = DEPLOYMENT_VARIABLES;

/** Metrics of the resources each deployment variable picks (the variables below list them). */
export const ofApi = resourceMetric(api.namespace, 'ApiId', V.api);
export const ofFunction = resourceMetric(lambda.namespace, 'FunctionName', V.function);
export const ofQueue = resourceMetric(sqs.namespace, 'QueueName', V.queue);
export const ofTable = resourceMetric(dynamodb.namespace, 'TableName', V.table);
export const ofLogGroup = resourceMetric(logs.namespace, 'LogGroupName', V.logGroupNames);

/** A variable listing the stage's resources of one kind, any number selectable, listed on load. */
const stageResources = (
  name: string,
  label: string,
  namespace: string,
  metricName: string,
  dimensionKey: string,
) =>
  dimensionValues(name, label, {
    namespace,
    metricName,
    dimensionKey,
    ofStage: true,
    multi: true,
    relisting: 'load',
  });

export const functionVariable = () =>
  stageResources(
    V.function,
    'Function',
    lambda.namespace,
    lambda.metrics.invocations,
    'FunctionName',
  );

export const queueVariable = () =>
  stageResources(V.queue, 'Queue', sqs.namespace, sqs.metrics.visible, 'QueueName');

export const tableVariable = () =>
  stageResources(V.table, 'Table', dynamodb.namespace, dynamodb.metrics.writeUnits, 'TableName');

/** HTTP API ids carry no stage, so the API is picked from the region's list. */
export const apiVariable = () =>
  dimensionValues(V.api, 'HTTP API', {
    namespace: api.namespace,
    metricName: api.metrics.count,
    dimensionKey: 'ApiId',
    relisting: 'load',
  });

/**
 * Every log group of the stage by name (functions, API access logs, Grafana): AWS/Logs metrics
 * such as IncomingBytes are keyed by `LogGroupName`, not by the ARN the logGroups variable holds.
 */
export const logGroupNamesVariable = () =>
  stageResources(
    V.logGroupNames,
    'Log group names',
    logs.namespace,
    logs.metrics.incomingBytes,
    'LogGroupName',
  );

export { logGroupsVariable, stageVariable };

/** Every deployment variable: the stage and the resources read within it. */
export const deploymentVariables = () => [
  stageVariable(),
  apiVariable(),
  functionVariable(),
  queueVariable(),
  tableVariable(),
  logGroupsVariable(),
];
