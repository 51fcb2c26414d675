/**
 * The local stack's own resource names in place of the dashboards' markers, as Grafana's start
 * puts the stack's on AWS (shared/dashboard-model/deployment.ts): the local functions go by their
 * topology names, their log groups by `/aws/lambda/<name>`, the queues and tables by the names the
 * local stack gives them. Locally there is one deployment, whose stage is `local`.
 */
import { deploymentValues, type DeploymentResources } from '#shared/dashboard-model/index.ts';
import {
  functionNames,
  queueNames,
  tableNames,
  type QueueName,
  type TableName,
} from '#infra/topology.ts';
import { localLogGroupArn } from './evaluate.ts';

export interface LocalNames {
  apiId: string;
  functionLogGroup: (functionName: string) => string;
  queueName: (name: QueueName) => string;
  deadLetterQueueName: (name: QueueName) => string;
  tableName: (name: TableName) => string;
}

export const LOCAL_STAGE = 'local';

export const localDeployment = (names: LocalNames): Record<string, string> =>
  deploymentValues({
    stage: LOCAL_STAGE,
    httpApiId: names.apiId,
    functions: Object.fromEntries(
      functionNames.map((fn) => {
        const logGroupName = names.functionLogGroup(fn);
        return [fn, { name: fn, logGroupName, logGroupArn: localLogGroupArn(logGroupName) }];
      }),
    ) as DeploymentResources['functions'],
    queues: Object.fromEntries(
      queueNames.map((name) => [
        name,
        { name: names.queueName(name), deadLetterName: names.deadLetterQueueName(name) },
      ]),
    ) as DeploymentResources['queues'],
    tables: Object.fromEntries(
      tableNames.map((name) => [name, names.tableName(name)]),
    ) as DeploymentResources['tables'],
    // Neither exists locally: no access logs, no Grafana of its own.
    otherLogGroupNames: { apiAccess: 'local-api-access-logs', grafana: 'local-grafana' },
  });
