/**
 * Grafana on ECS Fargate for component `full`: public subnets only (no NAT gateway to pay
 * for), an internet-facing ALB (HTTPS with a custom domain), the admin password in Secrets
 * Manager, a task role that reads CloudWatch metrics and this stack's function logs, and an
 * image with the datasource and dashboards provisioned in it.
 *
 * Stateless by design: Grafana's SQLite database lives in the task's ephemeral storage and
 * is rebuilt at every start from what the image and the task definition provision (admin
 * user, datasource, dashboards, which the UI cannot change). A restart loses only sessions
 * and UI-made changes (users, stars, annotations), so no EFS volume is needed.
 *
 * The dashboards get the stack's own resources (its HTTP API, functions, queues, tables and log
 * groups) from the task's environment: the image's start writes them into the dashboard JSON
 * (grafana/provision-dashboards.sh), so no physical name is typed into a dashboard and none is
 * discovered from CloudWatch's listings (shared/dashboard-model/deployment.ts).
 */
import {
  Annotations,
  ArnFormat,
  type CfnResource,
  Duration,
  IgnoreMode,
  type RemovalPolicy,
  SecretValue,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import {
  functionNames,
  queueNames,
  tableNames,
  type FunctionName,
  type QueueName,
} from '#infra/topology.ts';
import { deploymentValues, type DeploymentResources } from '#shared/dashboard-model/index.ts';
import type { GrafanaAccess } from '../stage-config.ts';
import type { PublicApi } from './api.ts';
import { REPO_ROOT, type ServiceFunction } from './function-factory.ts';
import type { IngestionQueue } from './ingestion-queue.ts';
import type { DataTables } from './tables.ts';

const GRAFANA_PORT = 3000;

/** The shortest refresh Grafana lets a viewer choose (`min_refresh_interval`). */
export const GRAFANA_MIN_REFRESH = '1m';

/**
 * Sizing and start-up allowance: Grafana's first start runs several hundred database
 * migrations on an empty SQLite (every start, as it is stateless), which on 0.25 vCPU can take
 * longer than a minute; with rollback on failure, a first deploy whose health checks fail in
 * time deletes the whole stack. 0.5 vCPU / 1 GiB starts it well inside the grace period.
 */
export const GRAFANA_TASK = {
  cpu: 512,
  memoryLimitMiB: 1024,
  healthCheckGracePeriod: Duration.minutes(5),
  healthCheck: {
    path: '/api/health',
    interval: Duration.seconds(15),
    timeout: Duration.seconds(5),
    healthyThresholdCount: 2,
    unhealthyThresholdCount: 5,
  },
};

/** Docker context: the repository, narrowed to the image folder and the generated dashboards. */
export const GRAFANA_IMAGE = {
  directory: REPO_ROOT,
  file: 'infra/aws/grafana/Dockerfile',
  // .dockerignore syntax: exclude everything, then re-include the two folders the Dockerfile
  // copies, so the asset hash (and the upload) depends on nothing else.
  exclude: [
    '*',
    '!infra',
    'infra/*',
    '!infra/aws',
    'infra/aws/*',
    '!infra/aws/grafana',
    '!dashboards',
    'dashboards/*',
    '!dashboards/generated',
  ],
};

export interface GrafanaDomain {
  domainName: string;
  certificate: acm.ICertificate;
  hostedZone: route53.IHostedZone;
}

/** The stack's resources, which the dashboards read by the deployment's values. */
export interface StackResources {
  stage: string;
  api: PublicApi;
  functions: Record<FunctionName, ServiceFunction>;
  queues: Record<QueueName, IngestionQueue>;
  tables: DataTables;
}

/** The dashboards' deployment values of a stack, but Grafana's own log group. */
export const deploymentOf = (
  stack: StackResources,
): Omit<DeploymentResources, 'otherLogGroupNames'> & {
  otherLogGroupNames: Omit<DeploymentResources['otherLogGroupNames'], 'grafana'>;
} => ({
  stage: stack.stage,
  httpApiId: stack.api.httpApi.apiId,
  functions: Object.fromEntries(
    functionNames.map((name) => {
      const { fn, logGroup } = stack.functions[name];
      return [
        name,
        {
          name: fn.functionName,
          logGroupName: logGroup.logGroupName,
          logGroupArn: logGroup.logGroupArn,
        },
      ];
    }),
  ) as DeploymentResources['functions'],
  queues: Object.fromEntries(
    queueNames.map((name) => [
      name,
      {
        name: stack.queues[name].queue.queueName,
        deadLetterName: stack.queues[name].deadLetterQueue.queueName,
      },
    ]),
  ) as DeploymentResources['queues'],
  tables: Object.fromEntries(
    tableNames.map((name) => [name, stack.tables.tables[name].tableName]),
  ) as DeploymentResources['tables'],
  otherLogGroupNames: { apiAccess: stack.api.accessLogGroup.logGroupName },
});

export interface GrafanaProps {
  /** The admin password (grafanaAdminSecret): the stage's, so it outlives this Grafana. */
  adminPassword: secretsmanager.ISecret;
  /** The stack's resources the dashboards show (deploymentOf). */
  deployment: ReturnType<typeof deploymentOf>;
  removalPolicy: RemovalPolicy;
  logRetention: logs.RetentionDays;
  /** Log groups Grafana may query with Logs Insights (the stack's functions). */
  queryableLogGroups: logs.ILogGroup[];
  customDomain?: GrafanaDomain;
  anonymousViewer: boolean;
  /** CIDR allow-list and/or OIDC sign-in at the load balancer. */
  access?: GrafanaAccess;
}

/**
 * The CloudWatch datasource's calls that IAM cannot scope to resources; the stage's permissions
 * boundary must allow them too (infra/aws/bootstrap/stage-policies.ts).
 */
export const GRAFANA_UNSCOPED_READS = [
  'cloudwatch:GetMetricData',
  'cloudwatch:ListMetrics',
  'cloudwatch:DescribeAlarms',
  'cloudwatch:DescribeAlarmsForMetric',
  'cloudwatch:DescribeAlarmHistory',
  'logs:DescribeLogGroups',
  'logs:GetQueryResults',
  'logs:StopQuery',
  'ec2:DescribeRegions',
] as const;

/**
 * Grafana's admin password, a secret of the stage rather than of its Grafana: where the stage
 * can run Grafana (component `full`, or the infrastructure panel set up to start it), it is
 * created whether Grafana runs now or not. Created and deleted with Grafana, it could not be
 * created again under its name when the panel starts Grafana after a stop: deleted, it stays
 * scheduled for deletion for its recovery window (7 to 30 days), and prod retains it
 * (CreateSecret refuses a name a secret scheduled for deletion still holds; DeleteSecret's
 * page in the Secrets Manager API reference).
 */
export const grafanaAdminSecret = (
  scope: Construct,
  removalPolicy: RemovalPolicy,
): secretsmanager.Secret => {
  const secret = new secretsmanager.Secret(scope, 'GrafanaAdminPassword', {
    // Named under the stack's prefix: the only secrets the stage's execution policy and
    // permissions boundary let anyone read (CloudFormation would name it by logical id).
    secretName: `${Stack.of(scope).stackName}-grafana-admin`,
    description: 'Grafana admin password (user admin)',
    generateSecretString: { passwordLength: 32, excludePunctuation: true },
    removalPolicy,
  });
  Validations.of(secret).acknowledge({
    id: 'AwsSolutions-SMG4',
    reason:
      'Grafana reads the admin password only when it creates its admin user at start; a ' +
      'rotation Lambda could not change the running instance. Rotate by putting a new ' +
      'value and forcing a new deployment of the service.',
  });
  return secret;
};

export class Grafana extends Construct {
  readonly url: string;
  readonly vpc: ec2.Vpc;
  readonly service: ecs.FargateService;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly adminPassword: secretsmanager.ISecret;
  readonly taskRole: iam.IRole;

  constructor(scope: Construct, id: string, props: GrafanaProps) {
    super(scope, id);
    const domain = props.customDomain;
    const https = domain !== undefined;

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }],
    });
    Validations.of(this.vpc).acknowledge({
      id: 'AwsSolutions-VPC7',
      reason:
        'The VPC holds only the Grafana task and its load balancer in public subnets; flow ' +
        'logs would mostly record internet scan noise at ingestion cost, and requests to ' +
        'Grafana are logged by Grafana itself (router logging) into CloudWatch Logs.',
    });

    this.ownDefaultGroupProviderLogs(props);

    const cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: this.vpc,
      containerInsightsV2: ecs.ContainerInsights.DISABLED,
    });
    Validations.of(cluster).acknowledge({
      id: 'AwsSolutions-ECS4',
      reason:
        'One Grafana task: the free AWS/ECS CPU and memory metrics suffice; Container ' +
        'Insights would add billed custom metrics for no operational gain.',
    });

    this.adminPassword = props.adminPassword;

    const taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: GRAFANA_TASK.cpu,
      memoryLimitMiB: GRAFANA_TASK.memoryLimitMiB,
      // Graviton Fargate is ~20% cheaper; the image build only copies files, so building it
      // for arm64 on an x86 runner needs no emulation.
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    this.taskRole = taskDefinition.taskRole;
    this.grantCloudWatchRead(taskDefinition.taskRole, props.queryableLogGroups);

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });

    const securityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc: this.vpc,
      description: 'Grafana load balancer: HTTP(S) from the internet',
      allowAllOutbound: false,
    });
    Validations.of(securityGroup).acknowledge({
      id: 'AwsSolutions-EC23',
      reason:
        'The Grafana load balancer is the public entry point for people viewing dashboards; ' +
        'Grafana authenticates every non-anonymous request.',
    });
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: this.vpc,
      internetFacing: true,
      securityGroup,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      dropInvalidHeaderFields: true,
    });
    Validations.of(this.loadBalancer).acknowledge({
      id: 'AwsSolutions-ELB2',
      reason:
        'Requests are logged by Grafana (GF_SERVER_ROUTER_LOGGING) into CloudWatch Logs; an ' +
        'S3 access-log bucket would need its own logging bucket and lifecycle for a single ' +
        'dashboard endpoint.',
    });

    if (!https) {
      // Stage prod refuses this configuration (stage-config.ts); dev may, with a warning.
      Annotations.of(this).addWarningV2(
        'iot-playground:grafana-plain-http',
        'Grafana is served over plain HTTP (no grafanaDomainName): its admin password and ' +
          'session cookies cross the internet unencrypted. Acceptable for a dev stage only.',
      );
    }
    const baseUrl = domain
      ? `https://${domain.domainName}`
      : `http://${this.loadBalancer.loadBalancerDnsName}`;
    this.url = baseUrl;

    const container = taskDefinition.addContainer('grafana', {
      image: ecs.ContainerImage.fromAsset(GRAFANA_IMAGE.directory, {
        file: GRAFANA_IMAGE.file,
        exclude: GRAFANA_IMAGE.exclude,
        ignoreMode: IgnoreMode.DOCKER,
        platform: Platform.LINUX_ARM64,
      }),
      portMappings: [{ containerPort: GRAFANA_PORT }],
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'grafana', logGroup }),
      environment: {
        // The dashboards' deployment values: provision-dashboards.sh writes them into the JSON.
        ...deploymentValues({
          ...props.deployment,
          otherLogGroupNames: {
            ...props.deployment.otherLogGroupNames,
            grafana: logGroup.logGroupName,
          },
        }),
        // The provisioned CloudWatch datasource's default region.
        AWS_REGION: Stack.of(this).region,
        GF_SERVER_ROOT_URL: baseUrl,
        GF_SERVER_ROUTER_LOGGING: 'true',
        GF_SECURITY_COOKIE_SECURE: String(https),
        GF_AUTH_ANONYMOUS_ENABLED: String(props.anonymousViewer),
        GF_AUTH_ANONYMOUS_ORG_ROLE: 'Viewer',
        // Over plain HTTP nobody signs in: the admin password would cross the internet in
        // clear. Dashboards and the datasource are provisioned from code, so dev needs no admin;
        // to administer, deploy with grafanaDomainName (HTTPS).
        ...(https ? {} : { GF_AUTH_DISABLE_LOGIN_FORM: 'true', GF_AUTH_BASIC_ENABLED: 'false' }),
        // Every refresh is billed per metric: no tab may refresh faster than the dashboards'
        // fastest default (dashboards/open-tab-cost.ts holds each to $0.05 an hour there).
        GF_DASHBOARDS_MIN_REFRESH_INTERVAL: GRAFANA_MIN_REFRESH,
      },
      secrets: {
        GF_SECURITY_ADMIN_PASSWORD: ecs.Secret.fromSecretsManager(this.adminPassword),
      },
    });
    Validations.of(taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'The plain environment holds only non-secret settings (region, public URL, feature ' +
        'switches); the admin password is injected from Secrets Manager.',
    });

    this.service = new ecs.FargateService(this, 'Service', {
      cluster,
      taskDefinition,
      desiredCount: 1,
      // Public subnets and a public IP instead of a NAT gateway: the task pulls its image and
      // reaches the CloudWatch APIs directly; its security group admits only the load balancer.
      assignPublicIp: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      healthCheckGracePeriod: GRAFANA_TASK.healthCheckGracePeriod,
      circuitBreaker: { rollback: true },
    });

    const allowedCidrs = props.access?.allowedCidrs;
    const listener = domain
      ? this.loadBalancer.addListener('Https', {
          port: 443,
          certificates: [domain.certificate],
          sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
          open: allowedCidrs === undefined,
        })
      : this.loadBalancer.addListener('Http', { port: 80, open: allowedCidrs === undefined });
    if (https) {
      this.loadBalancer.addRedirect({
        sourcePort: 80,
        targetPort: 443,
        open: allowedCidrs === undefined,
      });
    }
    for (const cidr of allowedCidrs ?? []) {
      for (const port of https ? [80, 443] : [80]) {
        securityGroup.addIngressRule(
          ec2.Peer.ipv4(cidr),
          ec2.Port.tcp(port),
          `Grafana from ${cidr}`,
        );
      }
    }

    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'Targets', {
      vpc: this.vpc,
      port: GRAFANA_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [this.service.loadBalancerTarget({ containerName: container.containerName })],
      healthCheck: { ...GRAFANA_TASK.healthCheck, healthyHttpCodes: '200' },
      deregistrationDelay: Duration.seconds(15),
    });
    const forward = elbv2.ListenerAction.forward([this.targetGroup]);
    const oidc = props.access?.oidc;
    if (oidc) {
      // The load balancer signs people in with the identity provider before Grafana sees a
      // request; it calls the provider's token endpoint itself, hence HTTPS out.
      securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'OIDC token endpoint');
    }
    listener.addAction('Default', {
      action: oidc
        ? elbv2.ListenerAction.authenticateOidc({
            issuer: oidc.issuer,
            authorizationEndpoint: oidc.authorizationEndpoint,
            tokenEndpoint: oidc.tokenEndpoint,
            userInfoEndpoint: oidc.userInfoEndpoint,
            clientId: oidc.clientId,
            clientSecret: SecretValue.secretsManager(oidc.clientSecretName),
            next: forward,
          })
        : forward,
    });

    if (domain) {
      new route53.ARecord(this, 'AliasRecord', {
        zone: domain.hostedZone,
        recordName: domain.domainName,
        target: route53.RecordTarget.fromAlias(new targets.LoadBalancerTarget(this.loadBalancer)),
      });
    }

    const executionRole = taskDefinition.obtainExecutionRole();
    Validations.of(executionRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken, added by CDK for pulling the image asset, has no resource ' +
        'scope; the image pull itself is limited to the asset repository.',
    });
  }

  /**
   * The VPC's Custom::VpcRestrictDefaultSG runs a CDK provider function whose log group Lambda
   * would create on first use, without retention and outside the stack (it would outlive
   * destroy). Declared here, before the custom resource runs, it gets the stage's retention
   * and removal policy like every other log group.
   */
  private ownDefaultGroupProviderLogs(props: GrafanaProps): void {
    const stack = Stack.of(this);
    const provider = stack.node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider');
    const handler = provider?.node.tryFindChild('Handler') as CfnResource | undefined;
    const restrict = this.vpc.node.tryFindChild('RestrictDefaultSecurityGroupCustomResource');
    if (handler === undefined || restrict === undefined) {
      throw new Error('The VPC no longer restricts its default security group as expected');
    }
    const logGroup = new logs.LogGroup(this, 'RestrictDefaultSecurityGroupLogs', {
      logGroupName: `/aws/lambda/${handler.ref}`,
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    restrict.node.addDependency(logGroup);
  }

  /**
   * What Grafana's CloudWatch datasource needs. Metric reads and query polling have no
   * resource-level permissions; Logs Insights queries are limited to the given log groups.
   */
  private grantCloudWatchRead(role: iam.IRole, logGroups: logs.ILogGroup[]): void {
    const stack = Stack.of(this);
    // GetMetricData and ListMetrics have neither resource-level permissions nor a namespace
    // condition key (cloudwatch:namespace governs PutMetricData only), so IAM cannot narrow
    // metric reads to this stack's namespaces: metric values of the account are readable.
    // Logs, where IP addresses and user names are, are limited to the function log groups.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadMetricsAndAlarms',
        actions: [...GRAFANA_UNSCOPED_READS],
        resources: ['*'],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'QueryStackLogs',
        actions: [
          'logs:StartQuery',
          'logs:GetLogGroupFields',
          'logs:GetLogEvents',
          'logs:FilterLogEvents',
        ],
        // Both ARN forms: the CloudFormation attribute ends in `:*`, some APIs check the bare one.
        resources: logGroups.flatMap((group) => [
          group.logGroupArn,
          stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: group.logGroupName,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ]),
      }),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'CloudWatch GetMetricData/ListMetrics/Describe*, Logs DescribeLogGroups, ' +
        'GetQueryResults, StopQuery and EC2 DescribeRegions support no resource-level ' +
        'permissions; all are read-only. Log queries themselves are scoped to this stack.',
    });
  }
}
