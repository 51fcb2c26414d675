/**
 * The infrastructure panel's function in the synthesized template: exactly the secret, tables
 * and topic it needs (least privilege), the secret readable by it alone, its stage settings, its
 * schedule, and who may call it per stage.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { routeKey, topology } from '#infra/topology.ts';
import { tableActions } from './constructs/tables.ts';
import { OUTPUTS } from './stack.ts';
import { ConfigurationError, readDeploymentConfig } from './stage-config.ts';
import {
  asArray,
  logicalId,
  resourcesOfType,
  statementsOfRole,
  useSynth,
  type Synthesized,
} from './test-support.ts';

const REPOSITORY = 'owner/iot-playground-serverless';

const ids = (synth: Synthesized) => ({
  fn: logicalId(synth, synth.stack.functions.infraApi.fn),
  role: logicalId(synth, synth.stack.functions.infraApi.fn.role!),
  secret: synth.stack.infraPanel.secret && logicalId(synth, synth.stack.infraPanel.secret),
});

const alarmTopicId = (synth: Synthesized) =>
  logicalId(synth, synth.stack.node.findChild('Alarms').node.findChild('Topic'));

const environment = (synth: Synthesized): Record<string, unknown> =>
  synth.template.toJSON().Resources[ids(synth).fn].Properties.Environment.Variables;

describe('a stage with the panel set up (githubRepository, alarmEmail)', () => {
  const synth = useSynth({
    stage: 'dev',
    component: 'lambdas',
    githubRepository: REPOSITORY,
    alarmEmail: 'ops@example.com',
  });

  it('grants the function exactly its secret, its tables, the alarm topic and its logs', () => {
    const { role, secret } = ids(synth);
    const table = (name: keyof typeof topology.tables) => ({
      'Fn::GetAtt': [logicalId(synth, synth.stack.tables.tables[name]), 'Arn'],
    });
    const granted = statementsOfRole(synth.template, role).flatMap((statement) => {
      expect(statement.Effect).toBe('Allow');
      return asArray(statement.Action).flatMap((action) =>
        asArray(statement.Resource).map((resource) => `${action} ${JSON.stringify(resource)}`),
      );
    });
    const runsIndexes = topology.tables.runs.indexes.map((index) => ({
      'Fn::Join': ['', [table('runs'), `/index/${index.name}`]],
    }));
    const expected = [
      `secretsmanager:GetSecretValue ${JSON.stringify({ Ref: secret })}`,
      ...tableActions('readWrite').map((a) => `${a} ${JSON.stringify(table('deployments'))}`),
      ...tableActions('read').map((a) => `${a} ${JSON.stringify(table('runs'))}`),
      `sns:Publish ${JSON.stringify({ Ref: alarmTopicId(synth) })}`,
    ];
    for (const line of expected) expect(granted).toContain(line);
    const rest = granted.filter(
      (line) =>
        !expected.includes(line) &&
        !line.startsWith('logs:') &&
        // Queries of the runs table's indexes (the newest run, the running ones).
        !runsIndexes.some((index) => line === `dynamodb:Query ${JSON.stringify(index)}`),
    );
    expect(rest).toEqual([]);
  });

  it('lets no other role of the stack near the secret, and its own policy refuses anyone else', () => {
    const { role, secret } = ids(synth);
    const roles = Object.keys(resourcesOfType(synth.template, 'AWS::IAM::Role'));
    for (const other of roles.filter((id) => id !== role)) {
      const statements = JSON.stringify(statementsOfRole(synth.template, other));
      expect(statements, other).not.toContain(`"Ref":"${secret}"`);
    }
    synth.template.hasResourceProperties('AWS::SecretsManager::ResourcePolicy', {
      SecretId: { Ref: secret },
      ResourcePolicy: {
        Statement: [
          {
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 'secretsmanager:GetSecretValue',
            Resource: '*',
            Condition: { ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [role, 'Arn'] } } },
          },
        ],
      },
    });
    synth.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'IotPlayground-dev-infra-panel-github',
    });
    synth.template.hasOutput(OUTPUTS.infraPanelSecret, { Value: { Ref: secret } });
  });

  it("keeps Grafana's admin password while Grafana is stopped, so the panel can start it again", () => {
    // Deleted with Grafana, the secret would keep its name through its recovery window (or for
    // good in prod, which retains it), and the next start's CreateSecret would be refused.
    synth.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'IotPlayground-dev-grafana-admin',
    });
    synth.template.hasOutput(OUTPUTS.grafanaAdminSecret, {});
    synth.template.resourceCountIs('AWS::ECS::Service', 0);
  });

  it('gives the function its stage, repository, secret, topic and idle period', () => {
    expect(environment(synth)).toMatchObject({
      INFRA_STAGE: 'dev',
      INFRA_ANONYMOUS: 'true',
      INFRA_IDLE_STOP_SECONDS: '7200',
      GITHUB_API_URL: 'https://api.github.com',
      GITHUB_WORKFLOW: 'deploy.yml',
      GITHUB_REPOSITORY: REPOSITORY,
      GITHUB_CREDENTIAL_SECRET_ARN: { Ref: ids(synth).secret },
      ALARM_TOPIC_ARN: { Ref: alarmTopicId(synth) },
    });
  });

  it('runs the panel’s check every 5 minutes', () => {
    const schedule = topology.schedules.find((s) => s.function === 'infraApi')!;
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: `rate(${schedule.rateMinutes} minutes)`,
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [ids(synth).fn, 'Arn'] } })],
    });
  });

  it('routes the four panel routes to it, throttled', () => {
    const routes = topology.routes.filter((route) => route.function === 'infraApi');
    expect(routes.map(routeKey).sort()).toEqual([
      'GET /infra/latest-deployment',
      'GET /infra/status/{id}',
      'POST /infra/create',
      'POST /infra/destroy',
    ]);
    for (const route of routes) {
      synth.template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: routeKey(route),
      });
    }
  });

  it('keeps the deployments on a TTL', () => {
    synth.template.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    });
  });

  it('is cdk-nag AwsSolutions clean', () => {
    expect(synth.nagFindings()).toEqual([]);
  });
});

describe('a stage without githubRepository', () => {
  const synth = useSynth({ stage: 'dev', component: 'lambdas' });

  it('creates no secret and gives the function no GitHub credential (its routes answer 503)', () => {
    expect(synth.stack.infraPanel.secret).toBeUndefined();
    synth.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(environment(synth)).not.toHaveProperty('GITHUB_CREDENTIAL_SECRET_ARN');
    expect(environment(synth)).not.toHaveProperty('GITHUB_REPOSITORY');
    expect(environment(synth)).not.toHaveProperty('ALARM_TOPIC_ARN');
  });
});

describe('who may call the panel, per stage', () => {
  const read =
    (context: Record<string, string>) =>
    (key: string): unknown =>
      context[key];
  const prod = {
    stage: 'prod',
    corsOrigins: 'https://play.example.com',
    alarmEmail: 'ops@example.com',
  };

  it('opens dev to anonymous callers by default, or not when told', () => {
    expect(readDeploymentConfig(read({ stage: 'dev' })).infraPanel.anonymous).toBe(true);
    expect(
      readDeploymentConfig(read({ stage: 'dev', infraPanelAnonymous: 'false' })).infraPanel
        .anonymous,
    ).toBe(false);
  });

  it('never opens prod anonymously: refused when synthesizing', () => {
    expect(readDeploymentConfig(read(prod)).infraPanel.anonymous).toBe(false);
    expect(() => readDeploymentConfig(read({ ...prod, infraPanelAnonymous: 'true' }))).toThrow(
      ConfigurationError,
    );
  });

  it('takes the idle period in minutes and refuses nonsense', () => {
    expect(
      readDeploymentConfig(read({ stage: 'dev', infraPanelIdleMinutes: '30' })).infraPanel
        .idleMinutes,
    ).toBe(30);
    for (const value of ['0', '2', '1.5', 'soon']) {
      expect(() =>
        readDeploymentConfig(read({ stage: 'dev', infraPanelIdleMinutes: value })),
      ).toThrow(/infraPanelIdleMinutes/);
    }
    expect(() =>
      readDeploymentConfig(read({ stage: 'dev', githubRepository: 'not a repo' })),
    ).toThrow(/owner\/name/);
  });
});
