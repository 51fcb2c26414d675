/**
 * What the security review asked of the stacks themselves (issue 18): each stage on its own
 * bootstrap and boundary, prod keeping its dead-letter queue, alarms that reach someone, a
 * budget and per-route throttles, and Grafana not open to the internet by default.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { PIPELINE_NAMESPACE } from '#shared/metrics-contract.ts';
import { STAGE_THROUGHPUT } from '#infra/throughput.ts';
import { functionNames, routeKey, topology } from '#infra/topology.ts';

const DATA_ROUTES = ['POST /api/sensors/data', 'GET /api/sensors/data'];
import { INTERRUPT_ALL_ROUTE } from './constructs/api.ts';
import type { TemplateJson } from './iam/deployment-requests.ts';
import { rolesWithoutBoundary } from './iam/policy-catalogue.ts';
import { STAGE_COST_TAG } from './constructs/budget.ts';
import { CDK_QUALIFIERS, DEFAULT_MONTHLY_BUDGET_USD } from './stage-config.ts';
import { logicalId, resourcesOfType, synthesize, useSynth } from './test-support.ts';

const PROD = {
  stage: 'prod',
  component: 'full',
  corsOrigins: 'https://play.example.com',
  alarmEmail: 'ops@example.com',
  grafanaDomainName: 'grafana.example.com',
  hostedZoneName: 'example.com',
  hostedZoneId: 'Z0123456789ABCDEFGHIJ',
};

const prod = useSynth(PROD);
const dev = useSynth({ stage: 'dev', component: 'full' });

describe('stages are isolated', () => {
  it.each([
    ['prod', prod],
    ['dev', dev],
  ] as const)('%s deploys through its own bootstrap qualifier', (stage, synth) => {
    const assembly = synth.app.synth().getStackByName(`IotPlayground-${stage}`);
    const qualifier = CDK_QUALIFIERS[stage];
    expect(assembly.assumeRoleArn).toContain(`cdk-${qualifier}-deploy-role-`);
    expect(assembly.cloudFormationExecutionRoleArn).toContain(`cdk-${qualifier}-cfn-exec-role-`);
    expect(assembly.lookupRole?.arn).toContain(`cdk-${qualifier}-lookup-role-`);
    expect(synth.template.toJSON().Parameters.BootstrapVersion.Default).toBe(
      `/cdk-bootstrap/${qualifier}/version`,
    );
  });

  it('pins the stack to the stage account when one is given', () => {
    const pinned = synthesize({
      stage: 'dev',
      devAccount: '222222222222',
      prodAccount: '333333333333',
    });
    try {
      expect(pinned.stack.account).toBe('222222222222');
    } finally {
      pinned.dispose();
    }
  });

  it.each([
    ['prod', prod],
    ['dev', dev],
  ] as const)(
    'every role of %s carries the stage boundary, CDK provider roles included',
    (stage, synth) => {
      const roles = Object.keys(resourcesOfType(synth.template, 'AWS::IAM::Role'));
      expect(roles.length).toBeGreaterThan(5);
      // The catalogue's question (check:policies asks it of every synthesized stack).
      expect(rolesWithoutBoundary(synth.template.toJSON() as TemplateJson, stage)).toEqual([]);
    },
  );
});

describe('dead-letter queue', () => {
  it('prod retains both queues: the DLQ holds accepted readings not stored yet', () => {
    const { queue, deadLetterQueue } = prod.stack.queues.measurements;
    for (const resource of [queue, deadLetterQueue]) {
      expect(prod.template.toJSON().Resources[logicalId(prod, resource)]).toMatchObject({
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    }
  });

  it('dev deletes them with the stack', () => {
    const dlq = dev.stack.queues.measurements.deadLetterQueue;
    expect(dev.template.toJSON().Resources[logicalId(dev, dlq)].DeletionPolicy).toBe('Delete');
  });
});

describe('alarms', () => {
  const alarms = (synth: typeof prod) =>
    Object.values(resourcesOfType(synth.template, 'AWS::CloudWatch::Alarm')).map(
      (alarm) => alarm.Properties as Record<string, unknown>,
    );

  it('fire on any parked measurement', () => {
    expect(alarms(dev)).toContainEqual(
      expect.objectContaining({
        Namespace: PIPELINE_NAMESPACE,
        MetricName: 'MeasurementsParked',
        Dimensions: [{ Name: 'service', Value: topology.functions.ingestConsumer.service }],
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      }),
    );
  });

  it('fire when Grafana has no healthy task, missing data included', () => {
    const targets = logicalId(prod, prod.stack.grafana!.targetGroup);
    expect(alarms(prod)).toContainEqual(
      expect.objectContaining({
        Namespace: 'AWS/ApplicationELB',
        MetricName: 'HealthyHostCount',
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
        Dimensions: expect.arrayContaining([
          { Name: 'TargetGroup', Value: { 'Fn::GetAtt': [targets, 'TargetGroupFullName'] } },
        ]),
      }),
    );
  });
});

describe('cost runaway', () => {
  it('a monthly budget per stage mails the alarm address at 80% spent and 100% forecast', () => {
    prod.template.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: {
        BudgetName: 'IotPlayground-prod-monthly',
        BudgetType: 'COST',
        TimeUnit: 'MONTHLY',
        BudgetLimit: { Amount: DEFAULT_MONTHLY_BUDGET_USD.prod, Unit: 'USD' },
        CostFilters: { TagKeyValue: [`user:${STAGE_COST_TAG}$prod`] },
      },
      NotificationsWithSubscribers: [
        {
          Notification: Match.objectLike({ NotificationType: 'ACTUAL', Threshold: 80 }),
          Subscribers: [{ SubscriptionType: 'EMAIL', Address: PROD.alarmEmail }],
        },
        {
          Notification: Match.objectLike({ NotificationType: 'FORECASTED', Threshold: 100 }),
          Subscribers: [{ SubscriptionType: 'EMAIL', Address: PROD.alarmEmail }],
        },
      ],
    });
  });

  it('takes the limit from context', () => {
    const custom = synthesize({ stage: 'dev', monthlyBudgetUsd: '25' });
    try {
      custom.template.hasResourceProperties('AWS::Budgets::Budget', {
        Budget: Match.objectLike({ BudgetLimit: { Amount: 25, Unit: 'USD' } }),
      });
    } finally {
      custom.dispose();
    }
  });

  it('tags every resource for the budget filter', () => {
    const table = prod.template.toJSON().Resources[logicalId(prod, prod.stack.tables.tables.runs)];
    expect(table.Properties.Tags).toContainEqual({ Key: STAGE_COST_TAG, Value: 'prod' });
  });

  it.each(['prod', 'dev'] as const)('%s throttles the run routes far below ingestion', (stage) => {
    const synth = stage === 'prod' ? prod : dev;
    const { apiThrottle, routeThrottles } = STAGE_THROUGHPUT[stage];
    const [resource] = Object.values(resourcesOfType(synth.template, 'AWS::ApiGatewayV2::Stage'));
    const settings = resource!.Properties!.RouteSettings as Record<
      string,
      { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }
    >;
    const runRoutes = topology.routes.filter((route) => route.function === 'runApi').map(routeKey);
    const infraRoutes = topology.routes.filter((route) => route.function === 'infraApi');
    expect(Object.keys(settings).sort()).toEqual(
      [...runRoutes, ...DATA_ROUTES, ...infraRoutes.map(routeKey)].sort(),
    );
    // The infrastructure panel: an anonymous caller starts or stops Grafana once a second at most.
    for (const route of infraRoutes) {
      const throttle =
        route.method === 'POST' ? routeThrottles.infraPanelDeploy : routeThrottles.infraPanelRead;
      expect(settings[routeKey(route)]).toEqual({
        ThrottlingRateLimit: throttle.rateLimit,
        ThrottlingBurstLimit: throttle.burstLimit,
      });
    }
    expect(routeThrottles.infraPanelDeploy.rateLimit).toBeLessThanOrEqual(1);
    for (const key of runRoutes) {
      expect(settings[key]!.ThrottlingRateLimit, key).toBeLessThanOrEqual(
        apiThrottle.rateLimit / 10,
      );
    }
    expect(settings[INTERRUPT_ALL_ROUTE]).toEqual({
      ThrottlingRateLimit: routeThrottles.interruptAll.rateLimit,
      ThrottlingBurstLimit: routeThrottles.interruptAll.burstLimit,
    });
    expect(routeThrottles.interruptAll.rateLimit).toBeLessThan(routeThrottles.runApi.rateLimit);
  });

  it.each(['prod', 'dev'] as const)('%s throttles the data routes per route', (stage) => {
    // A flood on the data routes stops at their own limit, not only at the stage's.
    const synth = stage === 'prod' ? prod : dev;
    const { routeThrottles } = STAGE_THROUGHPUT[stage];
    const [resource] = Object.values(resourcesOfType(synth.template, 'AWS::ApiGatewayV2::Stage'));
    const settings = resource!.Properties!.RouteSettings as Record<string, unknown>;
    expect(settings['POST /api/sensors/data']).toEqual({
      ThrottlingRateLimit: routeThrottles.ingest.rateLimit,
      ThrottlingBurstLimit: routeThrottles.ingest.burstLimit,
    });
    expect(settings['GET /api/sensors/data']).toEqual({
      ThrottlingRateLimit: routeThrottles.sensorQuery.rateLimit,
      ThrottlingBurstLimit: routeThrottles.sensorQuery.burstLimit,
    });
  });

  it.each(['prod', 'dev'] as const)('%s reserves concurrency for every function', (stage) => {
    // In a shared account a flood on one stage cannot take the executions the other needs.
    const synth = stage === 'prod' ? prod : dev;
    const { reservedConcurrency } = STAGE_THROUGHPUT[stage];
    for (const name of functionNames) {
      const fn =
        synth.template.toJSON().Resources[logicalId(synth, synth.stack.functions[name].fn)];
      expect(fn.Properties.ReservedConcurrentExecutions, name).toBe(reservedConcurrency[name]);
    }
  });
});

describe('Grafana exposure', () => {
  const environment = (synth: typeof prod): Record<string, string> => {
    const [task] = Object.values(resourcesOfType(synth.template, 'AWS::ECS::TaskDefinition'));
    const [container] = task!.Properties!.ContainerDefinitions as {
      Environment: { Name: string; Value: string }[];
    }[];
    return Object.fromEntries(container!.Environment.map((entry) => [entry.Name, entry.Value]));
  };

  it('is anonymous-free by default in prod, with the login form over HTTPS', () => {
    expect(environment(prod)).toMatchObject({ GF_AUTH_ANONYMOUS_ENABLED: 'false' });
    expect(environment(prod)).not.toHaveProperty('GF_AUTH_DISABLE_LOGIN_FORM');
  });

  it('refuses every login over plain HTTP (dev without a domain): no password in clear', () => {
    expect(environment(dev)).toMatchObject({
      GF_AUTH_DISABLE_LOGIN_FORM: 'true',
      GF_AUTH_BASIC_ENABLED: 'false',
    });
  });

  it('admits only the allow-listed CIDRs when given', () => {
    const listed = synthesize({ ...PROD, grafanaAllowedCidrs: '203.0.113.0/24,198.51.100.7/32' });
    try {
      const groups = Object.values(resourcesOfType(listed.template, 'AWS::EC2::SecurityGroup'));
      const ingress = groups.flatMap(
        (group) =>
          (group.Properties?.SecurityGroupIngress ?? []) as { CidrIp?: string; FromPort: number }[],
      );
      const sources = ingress.map((rule) => `${rule.CidrIp}:${rule.FromPort}`).sort();
      expect(sources).toEqual(
        [
          '198.51.100.7/32:443',
          '198.51.100.7/32:80',
          '203.0.113.0/24:443',
          '203.0.113.0/24:80',
        ].sort(),
      );
      expect(JSON.stringify(ingress)).not.toContain('0.0.0.0/0');
    } finally {
      listed.dispose();
    }
  });

  it('signs people in at the load balancer with OIDC when configured', () => {
    const oidc = synthesize({
      ...PROD,
      grafanaOidcIssuer: 'https://id.example.com',
      grafanaOidcAuthorizationEndpoint: 'https://id.example.com/authorize',
      grafanaOidcTokenEndpoint: 'https://id.example.com/token',
      grafanaOidcUserInfoEndpoint: 'https://id.example.com/userinfo',
      grafanaOidcClientId: 'grafana',
      grafanaOidcClientSecretName: 'IotPlayground-prod-grafana-oidc',
    });
    try {
      oidc.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
        Port: 443,
        DefaultActions: [
          Match.objectLike({
            Type: 'authenticate-oidc',
            Order: 1,
            AuthenticateOidcConfig: Match.objectLike({
              Issuer: 'https://id.example.com',
              ClientId: 'grafana',
              ClientSecret: Match.stringLikeRegexp(
                'resolve:secretsmanager:IotPlayground-prod-grafana-oidc:SecretString',
              ),
            }),
          }),
          Match.objectLike({ Type: 'forward', Order: 2 }),
        ],
      });
    } finally {
      oidc.dispose();
    }
  });

  it('names the admin secret under the stage prefix the policies scope', () => {
    prod.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'IotPlayground-prod-grafana-admin',
    });
  });
});
