/**
 * Who may deploy what: the GitHub roles of each stage, and the fences on the stage's CDK
 * bootstrap roles, proven by the catalogue's questions (iam/policy-catalogue.ts, the same ones
 * `npm run check:policies` asks AWS), evaluated with the synthesized policies and the bootstrap
 * deploy role's own policy as the installed CDK CLI's bootstrap template defines it
 * (node_modules/aws-cdk/lib/api/bootstrap/bootstrap-template.yaml).
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { featureFlags } from '../create-app.ts';
import { cliBootstrapDeployPolicy } from '../iam/bootstrap-policies.ts';
import type { PropertyId } from '../iam/policy-catalogue.ts';
import { decide } from '../iam/policy-evaluation.ts';
import { catalogueOf, type Layout, LAYOUTS, questionsOf, unmet } from '../iam/test-support.ts';
import { CDK_QUALIFIERS, type StageName } from '../stage-config.ts';
import { asArray } from '../test-support.ts';
import {
  bootstrapFenceName,
  bootstrapRoleName,
  deployRoleName,
  GitHubDeployStack,
  lookupFenceName,
  planRoleName,
  POLICY_CHECKS,
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

const stages = {
  dev: build('dev'),
  prod: build('prod'),
};

const roleId = (stage: StageName, name: string): string => {
  const [entry] = Object.entries(stages[stage].template.findResources('AWS::IAM::Role')).filter(
    ([, role]) => role.Properties?.RoleName === name,
  );
  expect(entry, name).toBeDefined();
  return entry![0];
};

const stackArn = (name: string) =>
  `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${name}/8f0e-41a2`;

const PROPERTIES: [PropertyId, number][] = [
  ['github-roles', 20],
  ['bootstrap-fence', 25],
  ['lookup-scope', 15],
];

describe.each(Object.keys(LAYOUTS) as Layout[])('%s', (layout) => {
  it.each(PROPERTIES)(
    '%s: every question answered as designed, in both stages',
    (property, atLeast) => {
      for (const stage of ['dev', 'prod'] as const) {
        const catalogue = catalogueOf(layout, stage);
        expect(questionsOf(catalogue, property).length, stage).toBeGreaterThanOrEqual(atLeast);
        expect(unmet(catalogue, property), stage).toEqual([]);
      }
    },
  );
});

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

describe('the fences on the bootstrap roles', () => {
  const cliPolicy = cliBootstrapDeployPolicy('dev', env);

  it('the fence is attached to the stage’s bootstrap deploy and lookup roles, the lookup fence to the lookup role', () => {
    stages.dev.template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      ManagedPolicyName: bootstrapFenceName('dev'),
      Roles: ['deploy', 'lookup'].map((kind) =>
        bootstrapRoleName(CDK_QUALIFIERS.dev, kind, ACCOUNT, REGION),
      ),
    });
    stages.dev.template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      ManagedPolicyName: lookupFenceName('dev'),
      Roles: [bootstrapRoleName(CDK_QUALIFIERS.dev, 'lookup', ACCOUNT, REGION)],
    });
  });

  it('is needed: without it the CLI template’s own policy lets the dev deploy role change prod', () => {
    for (const action of ['cloudformation:UpdateStack', 'cloudformation:DeleteStack']) {
      expect(
        decide({ identity: cliPolicy }, { action, resource: stackArn('IotPlayground-prod') }),
        action,
      ).toBe('allow');
    }
  });

  it('covers every stack-changing call the bootstrap deploy role is granted', () => {
    const granted = cliPolicy
      .flatMap((document) => asArray(document.Statement))
      .filter((statement) => statement.Effect === 'Allow')
      .flatMap((statement) => asArray(statement.Action ?? []))
      .filter((action) => action.startsWith('cloudformation:'));
    expect(granted.length).toBeGreaterThan(5);
    for (const action of granted) {
      expect(STACK_CHANGES, `${action} is granted on * by the bootstrap template`).toContain(
        action,
      );
    }
  });
});

describe('the plan role (issue 28: check:policies in the plan job)', () => {
  it('may ask IAM and Access Analyzer about policies, exactly those three actions beyond its reads', () => {
    const id = roleId('dev', planRoleName('dev'));
    const statements = Object.values(stages.dev.template.findResources('AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy.Properties?.Roles).includes(`"${id}"`))
      .flatMap((policy) => asArray(policy.Properties!.PolicyDocument.Statement)) as {
      Sid: string;
      Action: string | string[];
    }[];
    const ask = statements.find((statement) => statement.Sid === 'AskAwsAboutThePolicies');
    expect(asArray(ask!.Action).sort()).toEqual([...POLICY_CHECKS].sort());
    expect(POLICY_CHECKS.sort()).toEqual(
      [
        'access-analyzer:CheckAccessNotGranted',
        'access-analyzer:ValidatePolicy',
        'iam:SimulateCustomPolicy',
      ].sort(),
    );
  });
});
