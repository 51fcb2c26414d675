/** The one-time GitHub deploy roles and CDK execution policy: who may deploy, and what. */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { featureFlags } from '../create-app.ts';
import { asArray, resourcesOfType, synthesize, type PolicyStatementJson } from '../test-support.ts';
import {
  DEPLOYED_SERVICES,
  deployRoleName,
  EXECUTION_POLICY_NAME,
  GitHubDeployRoleStack,
} from './github-deploy-role.ts';

const build = (createOidcProvider: boolean, repository = 'octo-org/iot-playground') => {
  const app = new App({ context: featureFlags() });
  const stack = new GitHubDeployRoleStack(app, 'GitHubDeploy', {
    repository,
    createOidcProvider,
    regions: { prod: 'eu-central-1' },
    env: { account: '111111111111', region: 'eu-west-1' },
  });
  return { app, stack, template: Template.fromStack(stack) };
};

const roleResource = (template: Template, stage: 'dev' | 'prod') => {
  const [entry] = Object.entries(resourcesOfType(template, 'AWS::IAM::Role')).filter(
    ([, role]) => role.Properties?.RoleName === deployRoleName(stage),
  );
  expect(entry, `role of ${stage}`).toBeDefined();
  return { id: entry![0], properties: entry![1].Properties! };
};

const inlineStatements = (template: Template, roleId: string): PolicyStatementJson[] =>
  Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))
    .filter((policy) =>
      (policy.Properties?.Roles as { Ref: string }[]).some((role) => role.Ref === roleId),
    )
    .flatMap(
      (policy) =>
        (policy.Properties?.PolicyDocument as { Statement: PolicyStatementJson[] }).Statement,
    );

describe('GitHub deploy roles', () => {
  const { app, template } = build(true);

  it.each(['dev', 'prod'] as const)(
    'role %s trusts only its own GitHub environment of the repository',
    (stage) => {
      template.hasResourceProperties('AWS::IAM::OIDCProvider', {
        Url: 'https://token.actions.githubusercontent.com',
        ClientIdList: ['sts.amazonaws.com'],
      });
      const { properties } = roleResource(template, stage);
      expect(properties.AssumeRolePolicyDocument).toMatchObject({
        Statement: [
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRoleWithWebIdentity',
            Principal: { Federated: expect.anything() },
            Condition: {
              StringEquals: {
                'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
                'token.actions.githubusercontent.com:sub': `repo:octo-org/iot-playground:environment:${stage}`,
              },
            },
          },
        ],
      });
      expect(JSON.stringify(properties.AssumeRolePolicyDocument)).not.toMatch(/StringLike|\*/);
      expect(properties.MaxSessionDuration).toBe(3600);
      expect(properties.ManagedPolicyArns ?? []).toEqual([]);
    },
  );

  it.each([
    ['dev', 'eu-west-1'],
    ['prod', 'eu-central-1'],
  ] as const)('role %s may only assume the CDK bootstrap roles of %s', (stage, region) => {
    const { id } = roleResource(template, stage);
    expect(inlineStatements(template, id)).toEqual([
      expect.objectContaining({
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Resource: ['deploy', 'file-publishing', 'image-publishing', 'lookup'].map(
          (kind) =>
            `arn:aws:iam::111111111111:role/cdk-hnb659fds-${kind}-role-111111111111-${region}`,
        ),
      }),
    ]);
  });

  it('outputs each role with the region its environment must use', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.RegionDev?.Value).toBe('eu-west-1');
    expect(outputs.RegionProd?.Value).toBe('eu-central-1');
    expect(outputs).toHaveProperty('DeployRoleArnDev');
    expect(outputs).toHaveProperty('DeployRoleArnProd');
  });

  it('is cdk-nag AwsSolutions clean', () => {
    expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
  });

  it('reuses an existing OIDC provider when asked', () => {
    const existing = build(false).template;
    existing.resourceCountIs('AWS::IAM::OIDCProvider', 0);
    existing.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: {
              Federated:
                'arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com',
            },
          }),
        ],
      },
    });
  });

  it('refuses a repository that is not owner/name', () => {
    expect(() => build(true, 'iot-playground')).toThrow(/must be owner\/name/);
  });
});

describe('CDK execution policy', () => {
  const { template } = build(true);
  const [policy] = Object.values(resourcesOfType(template, 'AWS::IAM::ManagedPolicy'));
  const statements = () =>
    (policy?.Properties?.PolicyDocument as { Statement: PolicyStatementJson[] }).Statement;
  const actions = () => statements().flatMap((statement) => asArray(statement.Action));

  it('is a named managed policy, not AdministratorAccess', () => {
    expect(policy?.Properties?.ManagedPolicyName).toBe(EXECUTION_POLICY_NAME);
    expect(actions()).not.toContain('*');
    expect(JSON.stringify(policy)).not.toContain('AdministratorAccess');
  });

  it('covers the service of every resource the app deploys, and no other service', () => {
    // Both components with every option, so every resource type the app can create appears.
    const types = new Set<string>();
    const contexts: Record<string, string>[] = [
      { component: 'lambdas' },
      {
        component: 'full',
        domainName: 'api.example.com',
        grafanaDomainName: 'grafana.example.com',
        hostedZoneName: 'example.com',
        hostedZoneId: 'Z0123456789ABCDEFGHIJ',
        alarmEmail: 'ops@example.com',
        jwtIssuer: 'https://auth.example.com',
        jwtAudience: 'iot',
      },
    ];
    for (const context of contexts) {
      const synth = synthesize(context);
      try {
        for (const resource of Object.values(synth.template.toJSON().Resources as object)) {
          types.add((resource as { Type: string }).Type);
        }
      } finally {
        synth.dispose();
      }
    }
    const iamPrefix: Record<string, string> = {
      ApiGatewayV2: 'apigateway',
      CertificateManager: 'acm',
      CloudWatch: 'cloudwatch',
      DynamoDB: 'dynamodb',
      EC2: 'ec2',
      ECS: 'ecs',
      ElasticLoadBalancingV2: 'elasticloadbalancing',
      Events: 'events',
      IAM: 'iam',
      Lambda: 'lambda',
      Logs: 'logs',
      Route53: 'route53',
      SecretsManager: 'secretsmanager',
      SNS: 'sns',
      SQS: 'sqs',
    };
    const needed = new Set<string>();
    for (const type of types) {
      if (type === 'AWS::CDK::Metadata') continue;
      // A custom resource is a Lambda function that CloudFormation invokes.
      const prefix = type.startsWith('Custom::') ? 'lambda' : iamPrefix[type.split('::')[1]!];
      expect(prefix, `IAM prefix of ${type}`).toBeDefined();
      needed.add(prefix!);
    }
    const granted = new Set(actions().map((action) => action.split(':')[0]));
    for (const prefix of needed) expect(granted, prefix).toContain(prefix);
    // Beyond them only IAM service-linked roles, the asset bucket and the bootstrap version.
    expect([...granted].sort()).toEqual([...needed, 's3', 'ssm'].sort());
    expect([...needed].filter((p) => p !== 'iam').sort()).toEqual([...DEPLOYED_SERVICES].sort());
  });

  it('manages only the stacks’ own roles, and attaches no managed policy but the app’s', () => {
    for (const statement of statements()) {
      if (!asArray(statement.Action).some((action) => action.startsWith('iam:'))) continue;
      const resources = JSON.stringify(statement.Resource);
      if (asArray(statement.Action).includes('iam:CreateServiceLinkedRole')) {
        expect(JSON.stringify(statement)).toContain('ecs.amazonaws.com');
        continue;
      }
      expect(resources).toContain('role/IotPlayground-dev-*');
      expect(resources).toContain('role/IotPlayground-prod-*');
      expect(resources).not.toContain('"*"');
    }
    const attach = statements().find((s) => asArray(s.Action).includes('iam:AttachRolePolicy'));
    expect(JSON.stringify(attach)).toContain('AWSLambdaBasicExecutionRole');
    expect(actions()).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/^iam:(CreateUser|CreateAccessKey|\*)/)]),
    );
  });
});
