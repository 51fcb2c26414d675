/**
 * One-time account setup for the delivery workflows: GitHub's OIDC identity provider and a
 * role that GitHub Actions jobs of one repository (running in a GitHub environment) can
 * assume without stored keys. The role may only assume the CDK bootstrap roles of this
 * account and region, so what a deployment can do is decided by `cdk bootstrap`, not here.
 */
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

export const GITHUB_OIDC_URL = 'https://token.actions.githubusercontent.com';
export const GITHUB_OIDC_AUDIENCE = 'sts.amazonaws.com';
/** The CDK bootstrap default; change only together with `cdk bootstrap --qualifier`. */
export const DEFAULT_CDK_QUALIFIER = 'hnb659fds';

export interface GitHubDeployRoleProps extends StackProps {
  /** `owner/name` of the repository whose workflows may deploy. */
  repository: string;
  /** An account has one provider per URL; pass false when it already exists. */
  createOidcProvider: boolean;
  cdkQualifier?: string;
}

export class GitHubDeployRoleStack extends Stack {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: GitHubDeployRoleProps) {
    super(scope, id, props);
    if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(props.repository)) {
      throw new Error(`githubRepository=${props.repository} must be owner/name`);
    }
    const qualifier = props.cdkQualifier ?? DEFAULT_CDK_QUALIFIER;

    const provider = props.createOidcProvider
      ? new iam.OidcProviderNative(this, 'GitHubOidc', {
          url: GITHUB_OIDC_URL,
          clientIds: [GITHUB_OIDC_AUDIENCE],
          // AWS validates GitHub's tokens against its own trusted CAs and ignores these;
          // they are GitHub's published intermediate thumbprints for older API paths.
          thumbprints: [
            '6938fd4d98bab03faadb97b34396831e3780aea1',
            '1c58a3a8518e8759bf075b76b750d4f2df264fcd',
          ],
        })
      : iam.OidcProviderNative.fromOidcProviderArn(
          this,
          'GitHubOidc',
          this.formatArn({
            service: 'iam',
            region: '',
            resource: 'oidc-provider',
            resourceName: 'token.actions.githubusercontent.com',
          }),
        );

    this.role = new iam.Role(this, 'DeployRole', {
      description: `GitHub Actions deployments of ${props.repository}`,
      maxSessionDuration: Duration.hours(1),
      assumedBy: new iam.WebIdentityPrincipal(provider.oidcProviderArn, {
        StringEquals: { 'token.actions.githubusercontent.com:aud': GITHUB_OIDC_AUDIENCE },
        // Only jobs that run in a GitHub environment (dev, prod) of this repository: the
        // environments carry the protection rules (reviewers, branches).
        StringLike: {
          'token.actions.githubusercontent.com:sub': `repo:${props.repository}:environment:*`,
        },
      }),
    });

    const bootstrapRoles = ['deploy', 'file-publishing', 'image-publishing', 'lookup'].map((kind) =>
      this.formatArn({
        service: 'iam',
        region: '',
        resource: 'role',
        resourceName: `cdk-${qualifier}-${kind}-role-${this.account}-${this.region}`,
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'AssumeCdkBootstrapRoles',
        actions: ['sts:AssumeRole', 'sts:TagSession'],
        resources: bootstrapRoles,
      }),
    );

    new CfnOutput(this, 'DeployRoleArn', {
      value: this.role.roleArn,
      description: 'Store as the GitHub secret AWS_DEPLOY_ROLE_ARN',
    });
  }
}
