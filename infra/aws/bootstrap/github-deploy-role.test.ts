/** The one-time GitHub deploy role: who may assume it, and what it may do. */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { featureFlags } from '../create-app.ts';
import { GitHubDeployRoleStack } from './github-deploy-role.ts';

const build = (createOidcProvider: boolean, repository = 'octo-org/iot-playground') => {
  const app = new App({ context: featureFlags() });
  const stack = new GitHubDeployRoleStack(app, 'GitHubDeploy', {
    repository,
    createOidcProvider,
    env: { account: '111111111111', region: 'eu-west-1' },
  });
  return { app, stack, template: Template.fromStack(stack) };
};

describe('GitHub deploy role', () => {
  const { app, template } = build(true);

  it('trusts only GitHub OIDC tokens of the repository, in a GitHub environment', () => {
    template.hasResourceProperties('AWS::IAM::OIDCProvider', {
      Url: 'https://token.actions.githubusercontent.com',
      ClientIdList: ['sts.amazonaws.com'],
    });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRoleWithWebIdentity',
            Principal: { Federated: Match.anyValue() },
            Condition: {
              StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' },
              StringLike: {
                'token.actions.githubusercontent.com:sub':
                  'repo:octo-org/iot-playground:environment:*',
              },
            },
          },
        ],
      },
      MaxSessionDuration: 3600,
    });
  });

  it('may only assume the four CDK bootstrap roles of its account and region', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    expect(policies).toHaveLength(1);
    const statements = (policies[0] as { Properties: { PolicyDocument: { Statement: unknown[] } } })
      .Properties.PolicyDocument.Statement;
    expect(statements).toEqual([
      expect.objectContaining({
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Resource: ['deploy', 'file-publishing', 'image-publishing', 'lookup'].map(
          (kind) =>
            `arn:aws:iam::111111111111:role/cdk-hnb659fds-${kind}-role-111111111111-eu-west-1`,
        ),
      }),
    ]);
    template.resourcePropertiesCountIs(
      'AWS::IAM::Role',
      { ManagedPolicyArns: Match.anyValue() },
      0,
    );
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
