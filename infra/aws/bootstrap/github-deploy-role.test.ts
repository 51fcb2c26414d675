/**
 * Who may deploy what: the GitHub deploy role of each stage, and the fence on the stage's CDK
 * bootstrap roles, proven by evaluating the synthesized policies (iam/policy-evaluation.ts)
 * together with the bootstrap deploy role's own policy as the installed CDK CLI's bootstrap
 * template defines it (node_modules/aws-cdk/lib/api/bootstrap/bootstrap-template.yaml).
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { CfnInclude } from 'aws-cdk-lib/cloudformation-include';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { featureFlags } from '../create-app.ts';
import { resolveIntrinsics } from '../iam/intrinsics.ts';
import { decide, type PolicyDocument, type Principal } from '../iam/policy-evaluation.ts';
import { CDK_QUALIFIERS, type StageName } from '../stage-config.ts';
import { asArray, resourcesOfType } from '../test-support.ts';
import {
  bootstrapFenceName,
  bootstrapRoleName,
  DATA_READS,
  deployRoleName,
  GitHubDeployStack,
  planRoleName,
  STACK_CHANGES,
} from './github-deploy-role.ts';

const ACCOUNT = '111111111111';
const REGION = 'eu-west-1';
const env = { account: ACCOUNT, region: REGION };

const build = (
  stage: StageName,
  createOidcProvider = true,
  repository = 'octo-org/iot-playground',
) => {
  const app = new App({ context: featureFlags() });
  const stack = new GitHubDeployStack(app, `IotPlayground-${stage}-github-deploy`, {
    stage,
    repository,
    createOidcProvider,
    env,
  });
  return { app, stack, template: Template.fromStack(stack) };
};

const documentsOf = (
  template: Template,
  type: string,
  filter: (p: Record<string, unknown>) => boolean,
) =>
  Object.values(resourcesOfType(template, type))
    .filter((resource) => filter(resource.Properties!))
    .map(
      (resource) => resolveIntrinsics(resource.Properties!.PolicyDocument, env) as PolicyDocument,
    );

const stages = {
  dev: build('dev'),
  prod: build('prod'),
};

const roleId = (stage: StageName, name: string): string => {
  const [entry] = Object.entries(resourcesOfType(stages[stage].template, 'AWS::IAM::Role')).filter(
    ([, role]) => role.Properties?.RoleName === name,
  );
  expect(entry, name).toBeDefined();
  return entry![0];
};

/** A GitHub role of a stage: its inline policies. */
const githubRole = (stage: StageName, name = deployRoleName(stage)): Principal => {
  const id = roleId(stage, name);
  return {
    identity: documentsOf(stages[stage].template, 'AWS::IAM::Policy', (p) =>
      (p.Roles as { Ref: string }[]).some((role) => role.Ref === id),
    ),
  };
};

const fence = (stage: StageName): PolicyDocument => {
  const [document] = documentsOf(
    stages[stage].template,
    'AWS::IAM::ManagedPolicy',
    (p) => p.ManagedPolicyName === bootstrapFenceName(stage),
  );
  expect(document).toBeDefined();
  return document!;
};

/** The policy `cdk bootstrap --qualifier` gives the stage's deploy role, from the CLI's template. */
const bootstrapDeployRole = (stage: StageName): PolicyDocument[] => {
  const qualifier = CDK_QUALIFIERS[stage];
  const cli = path.dirname(createRequire(import.meta.url).resolve('aws-cdk/package.json'));
  const stack = new Stack(new App(), 'Bootstrap');
  const include = new CfnInclude(stack, 'Template', {
    templateFile: path.join(cli, 'lib/api/bootstrap/bootstrap-template.yaml'),
  });
  const role = include.getResource('DeploymentActionRole') as iam.CfnRole;
  const policies = stack.resolve(role.policies) as { policyDocument: unknown }[];
  const bootstrapEnv = {
    ...env,
    refs: { Qualifier: qualifier, CdkBootstrapVersion: `/cdk-bootstrap/${qualifier}/version` },
    attributes: {
      'CloudFormationExecutionRole.Arn': `arn:aws:iam::${ACCOUNT}:role/${bootstrapRoleName(qualifier, 'cfn-exec', ACCOUNT, REGION)}`,
      'StagingBucket.Arn': `arn:aws:s3:::cdk-${qualifier}-assets-${ACCOUNT}-${REGION}`,
    },
  };
  return policies.map(
    (policy) => resolveIntrinsics(policy.policyDocument, bootstrapEnv) as PolicyDocument,
  );
};

const stackArn = (name: string) =>
  `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${name}/8f0e-41a2`;
const bootstrapRole = (stage: StageName, kind: string, account = ACCOUNT) =>
  `arn:aws:iam::${account}:role/${bootstrapRoleName(CDK_QUALIFIERS[stage], kind, account, REGION)}`;

describe('GitHub deploy roles', () => {
  it.each([
    ['dev', deployRoleName('dev'), 'dev-deploy'],
    ['prod', deployRoleName('prod'), 'prod-deploy'],
    ['dev', planRoleName('dev'), 'dev'],
    ['prod', planRoleName('prod'), 'prod'],
  ] as const)(
    '%s: %s trusts only the GitHub environment %s of the repository',
    (stage, name, environment) => {
      const { template } = stages[stage];
      template.hasResourceProperties('AWS::IAM::OIDCProvider', {
        Url: 'https://token.actions.githubusercontent.com',
        ClientIdList: ['sts.amazonaws.com'],
      });
      const properties = template.toJSON().Resources[roleId(stage, name)].Properties;
      expect(properties.AssumeRolePolicyDocument).toMatchObject({
        Statement: [
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRoleWithWebIdentity',
            Principal: { Federated: expect.anything() },
            Condition: {
              StringEquals: {
                'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
                'token.actions.githubusercontent.com:sub': `repo:octo-org/iot-playground:environment:${environment}`,
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

  it('the dev role may assume only the dev bootstrap roles of its account and region', () => {
    const assume = (resource: string) =>
      decide(githubRole('dev'), { action: 'sts:AssumeRole', resource });
    for (const kind of ['deploy', 'file-publishing', 'image-publishing', 'lookup']) {
      expect(assume(bootstrapRole('dev', kind)), kind).toBe('allow');
      expect(assume(bootstrapRole('prod', kind)), `prod ${kind}`).toBe('implicit-deny');
      expect(assume(bootstrapRole('dev', kind, '222222222222')), `other account ${kind}`).toBe(
        'implicit-deny',
      );
    }
    expect(assume(bootstrapRole('dev', 'cfn-exec'))).toBe('implicit-deny');
    expect(
      assume(`arn:aws:iam::${ACCOUNT}:role/cdk-hnb659fds-deploy-role-${ACCOUNT}-${REGION}`),
    ).toBe('implicit-deny');
  });

  it('the dev deploy role itself touches no stack: it only assumes the bootstrap roles', () => {
    for (const action of [
      'cloudformation:UpdateStack',
      'cloudformation:DeleteStack',
      'cloudformation:UpdateTerminationProtection',
      'cloudformation:DescribeStacks',
    ]) {
      for (const stack of ['IotPlayground-prod', 'IotPlayground-dev']) {
        expect(
          decide(githubRole('dev'), { action, resource: stackArn(stack) }),
          `${action} ${stack}`,
        ).toBe('implicit-deny');
      }
    }
  });

  it('the dev plan role reads only the dev stack and assumes only the dev lookup role', () => {
    const plan = githubRole('dev', planRoleName('dev'));
    for (const action of ['cloudformation:DescribeStacks', 'cloudformation:GetTemplate']) {
      expect(decide(plan, { action, resource: stackArn('IotPlayground-dev') }), action).toBe(
        'allow',
      );
      expect(decide(plan, { action, resource: stackArn('IotPlayground-prod') }), action).toBe(
        'implicit-deny',
      );
    }
    expect(
      decide(plan, {
        action: 'cloudformation:UpdateStack',
        resource: stackArn('IotPlayground-dev'),
      }),
    ).toBe('implicit-deny');
    expect(
      decide(plan, { action: 'sts:AssumeRole', resource: bootstrapRole('dev', 'lookup') }),
    ).toBe('allow');
    for (const kind of ['deploy', 'file-publishing', 'image-publishing']) {
      expect(
        decide(plan, { action: 'sts:AssumeRole', resource: bootstrapRole('dev', kind) }),
        kind,
      ).toBe('implicit-deny');
    }
    expect(
      decide(plan, { action: 'sts:AssumeRole', resource: bootstrapRole('prod', 'lookup') }),
    ).toBe('implicit-deny');
  });

  it('outputs the role and the region its environment must use', () => {
    const outputs = stages.prod.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.Region?.Value).toBe(REGION);
    expect(outputs).toHaveProperty('DeployRoleArn');
    expect(outputs).toHaveProperty('PlanRoleArn');
  });

  it('reuses an existing OIDC provider when asked', () => {
    const existing = build('prod', false).template;
    existing.resourceCountIs('AWS::IAM::OIDCProvider', 0);
    existing.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: {
              Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`,
            },
          }),
        ],
      },
    });
  });

  it('refuses a repository that is not owner/name', () => {
    expect(() => build('dev', true, 'iot-playground')).toThrow(/must be owner\/name/);
  });

  it('is cdk-nag AwsSolutions clean', () => {
    for (const stage of ['dev', 'prod'] as const) {
      expect(new AwsSolutionsChecks().validateScope(stages[stage].app).violations).toEqual([]);
    }
  });
});

describe('the fence on the bootstrap roles', () => {
  const devDeploy: Principal = { identity: [...bootstrapDeployRole('dev'), fence('dev')] };

  it('is attached to the stage’s bootstrap deploy and lookup roles', () => {
    stages.dev.template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      ManagedPolicyName: bootstrapFenceName('dev'),
      Roles: ['deploy', 'lookup'].map((kind) =>
        bootstrapRoleName(CDK_QUALIFIERS.dev, kind, ACCOUNT, REGION),
      ),
    });
  });

  it('the dev deploy role cannot update, delete or unprotect the prod stack', () => {
    const prodStack = stackArn('IotPlayground-prod');
    for (const action of [
      'cloudformation:UpdateStack',
      'cloudformation:DeleteStack',
      'cloudformation:UpdateTerminationProtection',
      'cloudformation:CreateChangeSet',
      'cloudformation:ExecuteChangeSet',
    ]) {
      // Without the fence the CLI template's own policy allows it (on `*`): the finding.
      expect(
        decide({ identity: bootstrapDeployRole('dev') }, { action, resource: prodStack }),
        `${action} unfenced`,
      ).toBe('allow');
      expect(decide(devDeploy, { action, resource: prodStack }), action).toBe('explicit-deny');
      expect(
        decide(devDeploy, { action, resource: stackArn('IotPlayground-dev') }),
        `${action} on dev`,
      ).toBe('allow');
    }
  });

  it('fences every stack-changing call the bootstrap deploy role is granted', () => {
    const granted = bootstrapDeployRole('dev')
      .flatMap((document) => asArray(document.Statement))
      .filter((statement) => statement.Effect === 'Allow')
      .flatMap((statement) => asArray(statement.Action ?? []))
      .filter((action) => action.startsWith('cloudformation:'));
    expect(granted.length).toBeGreaterThan(5);
    for (const action of granted) {
      expect(STACK_CHANGES, `${action} is granted on * by the bootstrap template`).toContain(
        action,
      );
      expect(decide(devDeploy, { action, resource: stackArn('CustomerBilling') }), action).toBe(
        'explicit-deny',
      );
    }
  });

  it('denies the deploy and lookup roles reading data (the lookup role has ReadOnlyAccess)', () => {
    // ReadOnlyAccess grants these reads on every resource; modelled as such here.
    const readOnly: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: DATA_READS, Resource: '*' }],
    };
    const lookup: Principal = { identity: [readOnly, fence('dev')] };
    for (const [action, resource] of [
      [
        'dynamodb:Scan',
        `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/IotPlayground-prod-TablesSensorData-X`,
      ],
      ['dynamodb:GetItem', `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/Customers`],
      [
        'sqs:ReceiveMessage',
        `arn:aws:sqs:${REGION}:${ACCOUNT}:IotPlayground-prod-measurementsQueue-X`,
      ],
      ['logs:StartQuery', `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/billing`],
    ] as const) {
      expect(decide(lookup, { action, resource }), action).toBe('explicit-deny');
    }
  });

  it('prod’s fence keeps the prod deploy role on prod', () => {
    const prodDeploy: Principal = { identity: [...bootstrapDeployRole('prod'), fence('prod')] };
    expect(
      decide(prodDeploy, {
        action: 'cloudformation:DeleteStack',
        resource: stackArn('IotPlayground-dev'),
      }),
    ).toBe('explicit-deny');
    expect(
      decide(prodDeploy, {
        action: 'cloudformation:UpdateStack',
        resource: stackArn('IotPlayground-prod'),
      }),
    ).toBe('allow');
  });
});
