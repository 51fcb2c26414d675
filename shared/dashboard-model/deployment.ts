/**
 * The deployment's own resources, given to the dashboards when Grafana starts rather than
 * discovered from CloudWatch's listings: ListMetrics lists only resources that reported metrics
 * in the last two weeks (an idle dead-letter queue or sweeper is missing, and a one-resource list
 * turns a search into a plain metric), lists every stage's and project's HTTP API, and Grafana's
 * datasource keeps each answer for the page's life (`memoizedGetRequest` in
 * grafana-cloudwatch-datasource src/resources/ResourcesAPI.ts).
 *
 * No physical name is typed into a dashboard: the generated JSON holds a marker per resource
 * (`@@IOTP_<KEY>@@`), and the deployment replaces each with its value as Grafana starts
 * (infra/aws/grafana/provision-dashboards.sh, from the task's environment) or as the local stack
 * serves the page (the same substitution, `provisionDashboard`). Grafana itself interpolates
 * environment variables in its provisioning YAML only, "not in the dashboard definition files
 * themselves" (https://grafana.com/docs/grafana/latest/administration/provisioning/).
 */
import type { FunctionName, QueueName, TableName } from '#infra/topology.ts';

/** Environment variables the markers name all start with this. */
export const DEPLOYMENT_PREFIX = 'IOTP_';

/** Log groups a stage has besides its functions', by key and label. */
export const OTHER_LOG_GROUPS = { apiAccess: 'API access logs', grafana: 'Grafana' } as const;

/** The names and ARNs of one deployment, as the stack (or the local stack) knows them. */
export interface DeploymentResources {
  stage: string;
  /** The stage's HTTP API id (`ApiId`). */
  httpApiId: string;
  functions: Record<FunctionName, { name: string; logGroupName: string; logGroupArn: string }>;
  queues: Record<QueueName, { name: string; deadLetterName: string }>;
  tables: Record<TableName, string>;
  /** The stage's other log groups by name (API access logs, Grafana's own). */
  otherLogGroupNames: Record<keyof typeof OTHER_LOG_GROUPS, string>;
}

/** The environment variable names, each a resource of the deployment. */
export const deploymentKey = {
  stage: () => 'STAGE',
  httpApi: () => 'HTTP_API',
  function: (name: string) => `FUNCTION_${name}`,
  functionLogGroupArn: (name: string) => `LOG_GROUP_ARN_${name}`,
  logGroupName: (name: string) => `LOG_GROUP_NAME_${name}`,
  queue: (name: string) => `QUEUE_${name}`,
  deadLetterQueue: (name: string) => `DEAD_LETTER_QUEUE_${name}`,
  table: (name: string) => `TABLE_${name}`,
} as const;

/** The marker a dashboard holds where the deployment's value goes. */
export const deploymentMarker = (key: string): string => `@@${DEPLOYMENT_PREFIX}${key}@@`;

/** Every value of a deployment, by environment variable name. */
export const deploymentValues = (resources: DeploymentResources): Record<string, string> => {
  const k = deploymentKey;
  const entries: [string, string][] = [
    [k.stage(), resources.stage],
    [k.httpApi(), resources.httpApiId],
    ...Object.entries(resources.functions).flatMap(([name, fn]): [string, string][] => [
      [k.function(name), fn.name],
      [k.functionLogGroupArn(name), fn.logGroupArn],
      [k.logGroupName(name), fn.logGroupName],
    ]),
    ...Object.entries(resources.queues).flatMap(([name, queue]): [string, string][] => [
      [k.queue(name), queue.name],
      [k.deadLetterQueue(name), queue.deadLetterName],
    ]),
    ...Object.entries(resources.tables).map(([name, table]): [string, string] => [
      k.table(name),
      table,
    ]),
    ...Object.entries(resources.otherLogGroupNames).map(([name, group]): [string, string] => [
      k.logGroupName(name),
      group,
    ]),
  ];
  return Object.fromEntries(entries.map(([key, value]) => [`${DEPLOYMENT_PREFIX}${key}`, value]));
};

/**
 * What a value may hold: the characters of AWS names and ARNs. It goes into a JSON string and a
 * Grafana custom variable (where `,` separates options), so no quote, backslash or comma.
 */
export const DEPLOYMENT_VALUE = /^[A-Za-z0-9._:/*#-]+$/;

const MARKER = /@@(IOTP_[A-Za-z0-9_]+)@@/g;

/** The markers a dashboard's JSON holds. */
export const deploymentMarkers = (json: string): string[] =>
  [...new Set([...json.matchAll(MARKER)].map((match) => match[1] as string))].sort();

/**
 * The dashboard JSON with every marker replaced by the deployment's value; a marker without a
 * value, or a value with a character it may not hold, is an error (Grafana would show nothing).
 */
export const provisionDashboard = (json: string, values: Record<string, string>): string =>
  json.replace(MARKER, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`No deployment value for ${name}`);
    if (!DEPLOYMENT_VALUE.test(value))
      throw new Error(`${name} holds a character a dashboard cannot take: ${value}`);
    return value;
  });
