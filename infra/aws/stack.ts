/**
 * The IoT Playground stack, built from `infra/topology.ts`: tables, queue, functions, HTTP API,
 * schedules, alarms, and Grafana when the component is `full`.
 */
import { CfnOutput, Duration, Fn, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import {
  type FunctionName,
  functionNames,
  type QueueName,
  queueNames,
  topology,
} from '#infra/topology.ts';
import type { DeploymentConfig } from './stage-config.ts';
import { OperationalAlarms } from './constructs/alarms.ts';
import { STAGE_COST_TAG, StageBudget } from './constructs/budget.ts';
import { PublicApi } from './constructs/api.ts';
import { CustomDomain } from './constructs/custom-domain.ts';
import { type CodeProvider, ServiceFunction } from './constructs/function-factory.ts';
import { deploymentOf, Grafana, grafanaAdminSecret } from './constructs/grafana.ts';
import { InfraPanel } from './constructs/infra-panel.ts';
import { IngestionQueue } from './constructs/ingestion-queue.ts';
import { DataTables } from './constructs/tables.ts';

export interface IotPlaygroundStackProps extends StackProps {
  config: DeploymentConfig;
  /** Replaces esbuild bundling of the handlers (tests); see CodeProvider. */
  code?: CodeProvider;
}

/** Names of the stack outputs (the deploy workflow lists them all in its job summary). */
export const OUTPUTS = {
  apiUrl: 'ApiUrl',
  adminInvokeArn: 'AdminInvokeArn',
  grafanaUrl: 'GrafanaUrl',
  grafanaAdminSecret: 'GrafanaAdminSecretArn',
  alarmTopic: 'AlarmTopicArn',
  queueName: 'MeasurementQueueName',
  deadLetterQueueName: 'MeasurementDeadLetterQueueName',
  consumerLogGroupName: 'MeasurementConsumerLogGroupName',
  infraPanelSecret: 'InfraPanelGitHubSecretArn',
  tableName: (table: string) => `${table.charAt(0).toUpperCase()}${table.slice(1)}TableName`,
} as const;

/** The GrafanaUrl output of a stage without Grafana: runs then carry `grafanaUrl: null`. */
export const NO_GRAFANA =
  'none: no Grafana in this stage (component full or -c grafanaUrl), runs carry grafanaUrl null';

export class IotPlaygroundStack extends Stack {
  readonly functions: Record<FunctionName, ServiceFunction>;
  readonly tables: DataTables;
  readonly queues: Record<QueueName, IngestionQueue>;
  readonly api: PublicApi;
  readonly grafana?: Grafana;
  readonly infraPanel: InfraPanel;

  constructor(scope: Construct, id: string, props: IotPlaygroundStackProps) {
    super(scope, id, props);
    const { config } = props;
    const { settings } = config;
    Tags.of(this).add('project', 'iot-playground');
    Tags.of(this).add('stage', config.stage);
    Tags.of(this).add(STAGE_COST_TAG, config.stage);

    const domain = this.customDomain(config);

    const tables = new DataTables(this, 'Tables', { settings });
    this.tables = tables;
    const queues = Object.fromEntries(
      queueNames.map((name) => [
        name,
        new IngestionQueue(this, `${name}Queue`, { name, removalPolicy: settings.removalPolicy }),
      ]),
    ) as Record<QueueName, IngestionQueue>;
    this.queues = queues;

    const grafanaDomainName = config.domain?.grafanaDomainName;
    const grafanaDomain =
      domain && grafanaDomainName !== undefined
        ? {
            domainName: grafanaDomainName,
            certificate: domain.certificate,
            hostedZone: domain.hostedZone,
          }
        : undefined;

    // The functions come first so Grafana can be scoped to their log groups; the run API's
    // GRAFANA_URL is bound afterwards (it depends on the load balancer).
    this.functions = Object.fromEntries(
      functionNames.map((name) => [
        name,
        new ServiceFunction(this, name, { name, settings, tables, queues, code: props.code }),
      ]),
    ) as Record<FunctionName, ServiceFunction>;
    const handlers = Object.fromEntries(
      functionNames.map((name): [FunctionName, lambda.IFunction] => [
        name,
        this.functions[name].fn,
      ]),
    ) as Record<FunctionName, lambda.IFunction>;

    for (const name of queueNames) {
      const { consumer } = topology.queues[name];
      // The measurement queue's mapping is sized per stage (infra/throughput.ts); others as declared.
      queues[name].connectConsumer(
        this.functions[consumer.function].fn,
        name === 'measurements' ? settings.throughput.consumer : consumer,
      );
    }

    for (const schedule of topology.schedules) {
      new events.Rule(this, `${schedule.function}Schedule`, {
        description: `Invokes ${schedule.function} every ${schedule.rateMinutes} minute(s)`,
        schedule: events.Schedule.rate(Duration.minutes(schedule.rateMinutes)),
        targets: [new eventTargets.LambdaFunction(this.functions[schedule.function].fn)],
      });
    }

    this.api = new PublicApi(this, 'Api', {
      functions: handlers,
      throttle: settings.throughput.apiThrottle,
      routeThrottles: settings.throughput.routeThrottles,
      corsOrigins: config.corsOrigins,
      jwt: config.jwt,
      customDomain:
        domain && config.domain?.apiDomainName !== undefined
          ? {
              domainName: config.domain.apiDomainName,
              certificate: domain.certificate,
              hostedZone: domain.hostedZone,
            }
          : undefined,
      logRetention: settings.logRetention,
      removalPolicy: settings.removalPolicy,
    });

    // The stage's, not Grafana's: the panel stops and starts Grafana (grafanaAdminSecret).
    const grafanaPassword =
      config.component === 'full' || config.infraPanel.repository !== undefined
        ? grafanaAdminSecret(this, settings.removalPolicy)
        : undefined;
    if (config.component === 'full' && grafanaPassword) {
      this.grafana = new Grafana(this, 'Grafana', {
        adminPassword: grafanaPassword,
        deployment: deploymentOf({
          stage: config.stage,
          api: this.api,
          functions: this.functions,
          queues,
          tables,
        }),
        removalPolicy: settings.removalPolicy,
        logRetention: settings.logRetention,
        // Not the API access logs: they hold callers' IP addresses, and with
        // grafanaAnonymousViewer anyone could query them through the datasource.
        queryableLogGroups: functionNames.map((name) => this.functions[name].logGroup),
        customDomain: grafanaDomain,
        anonymousViewer: config.grafanaAnonymousViewer,
        access: config.grafanaAccess,
      });
    }
    const grafanaUrl = this.grafana?.url ?? config.grafanaUrl;
    if (grafanaUrl !== undefined) {
      this.functions.runApi.fn.addEnvironment('GRAFANA_URL', grafanaUrl);
      // The link selects the stage too, or a prod run would open on dev's functions and logs.
      this.functions.runApi.fn.addEnvironment('GRAFANA_STAGE', config.stage);
    }

    const measurements = queues.measurements;
    const alarms = new OperationalAlarms(this, 'Alarms', {
      functions: handlers,
      queue: measurements,
      httpApi: this.api.httpApi,
      thresholds: settings.alarms,
      alarmEmail: config.alarmEmail,
      grafanaTargets: this.grafana?.targetGroup,
      removalPolicy: settings.removalPolicy,
    });
    this.infraPanel = new InfraPanel(this, 'InfraPanel', {
      fn: this.functions.infraApi.fn,
      stage: config.stage,
      settings: config.infraPanel,
      alarmTopic: alarms.topic,
      removalPolicy: settings.removalPolicy,
    });
    new StageBudget(this, 'Budget', {
      stage: config.stage,
      monthlyLimitUsd: config.monthlyBudgetUsd,
      alarmEmail: config.alarmEmail,
    });

    new CfnOutput(this, OUTPUTS.apiUrl, {
      value: this.api.url,
      description: 'Base URL of the HTTP API',
    });
    if (this.api.iamRouteArns.length > 0) {
      // An operator (or a workflow) is allowed execute-api:Invoke on these to call the admin
      // routes signed with SigV4 (`npm run admin`, docs/deploying.md).
      new CfnOutput(this, OUTPUTS.adminInvokeArn, {
        value: Fn.join(',', this.api.iamRouteArns),
        description: 'execute-api:Invoke resources of the IAM-authorized admin routes',
      });
    }
    new CfnOutput(this, OUTPUTS.grafanaUrl, {
      value: grafanaUrl ?? NO_GRAFANA,
      description: 'Grafana base URL given to the run API for grafanaUrl',
    });
    if (grafanaPassword) {
      new CfnOutput(this, OUTPUTS.grafanaAdminSecret, {
        value: grafanaPassword.secretArn,
        description: 'Secrets Manager secret holding the Grafana admin password (user admin)',
      });
    }
    if (this.infraPanel.secret) {
      new CfnOutput(this, OUTPUTS.infraPanelSecret, {
        value: this.infraPanel.secret.secretArn,
        description: "Secrets Manager secret for the infrastructure panel's GitHub credential",
      });
    }
    if (alarms.topic) {
      // The smoke test reports whether the alarm e-mail has confirmed its subscription.
      new CfnOutput(this, OUTPUTS.alarmTopic, { value: alarms.topic.topicArn });
    }
    new CfnOutput(this, OUTPUTS.queueName, { value: measurements.queue.queueName });
    new CfnOutput(this, OUTPUTS.deadLetterQueueName, {
      value: measurements.deadLetterQueue.queueName,
    });
    // Where `npm run redrive` reads why messages failed.
    new CfnOutput(this, OUTPUTS.consumerLogGroupName, {
      value: this.functions[topology.queues.measurements.consumer.function].logGroup.logGroupName,
    });
    for (const [name, table] of Object.entries(tables.tables)) {
      new CfnOutput(this, OUTPUTS.tableName(name), { value: table.tableName });
    }
  }

  private customDomain(config: DeploymentConfig): CustomDomain | undefined {
    const settings = config.domain;
    if (settings === undefined) return undefined;
    const names = [
      settings.apiDomainName,
      config.component === 'full' ? settings.grafanaDomainName : undefined,
    ].filter((name): name is string => name !== undefined);
    if (names.length === 0) return undefined;
    return new CustomDomain(this, 'Domain', { settings, names });
  }
}
