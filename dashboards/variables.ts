/** The deployment variables most dashboards share. */
import { DEPLOYMENT_VARIABLES } from '#shared/grafana.ts';
import { AWS_METRICS } from '#shared/dashboard-model/index.ts';
import { dimensionValues, logGroupsVariable, stageVariable } from './panels.ts';

const { lambda, sqs, dynamodb, api, logs } = AWS_METRICS;

export const functionVariable = () =>
  dimensionValues(DEPLOYMENT_VARIABLES.function, 'Function', {
    namespace: lambda.namespace,
    metricName: lambda.metrics.invocations,
    dimensionKey: 'FunctionName',
    ofStage: true,
    multi: true,
    relisting: 'load',
  });

export const queueVariable = () =>
  dimensionValues(DEPLOYMENT_VARIABLES.queue, 'Queue', {
    namespace: sqs.namespace,
    metricName: sqs.metrics.visible,
    dimensionKey: 'QueueName',
    ofStage: true,
    multi: true,
    relisting: 'load',
  });

export const tableVariable = () =>
  dimensionValues(DEPLOYMENT_VARIABLES.table, 'Table', {
    namespace: dynamodb.namespace,
    metricName: dynamodb.metrics.writeUnits,
    dimensionKey: 'TableName',
    ofStage: true,
    multi: true,
    relisting: 'load',
  });

/** HTTP API ids carry no stage, so the API is picked from the region's list. */
export const apiVariable = () =>
  dimensionValues(DEPLOYMENT_VARIABLES.api, 'HTTP API', {
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
  dimensionValues(DEPLOYMENT_VARIABLES.logGroupNames, 'Log group names', {
    namespace: logs.namespace,
    metricName: logs.metrics.incomingBytes,
    dimensionKey: 'LogGroupName',
    ofStage: true,
    multi: true,
    relisting: 'load',
  });

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
