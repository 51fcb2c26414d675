/**
 * One-time account setup for the delivery workflows: GitHub's OIDC identity provider, one
 * deploy role per stage that only jobs of that stage's GitHub environment can assume, and the
 * CloudFormation execution policy for `cdk bootstrap --cloudformation-execution-policies`.
 *
 * A deploy role may only assume the CDK bootstrap roles of its stage's region, so what a
 * deployment can do is decided by the bootstrap's execution policy: `CdkExecutionPolicy`
 * below, limited to the services this app deploys instead of AdministratorAccess.
 */
import { CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { STAGES, type StageName, stackNameFor } from '../stage-config.ts';

export const GITHUB_OIDC_URL = 'https://token.actions.githubusercontent.com';
export const GITHUB_OIDC_AUDIENCE = 'sts.amazonaws.com';
/** The CDK bootstrap default; change only together with `cdk bootstrap --qualifier`. */
export const DEFAULT_CDK_QUALIFIER = 'hnb659fds';

/** The roles as IAM names them; the README and the workflows refer to these names. */
export const deployRoleName = (stage: StageName): string => `IotPlayground-github-deploy-${stage}`;
export const EXECUTION_POLICY_NAME = 'IotPlayground-cdk-execution';

/**
 * Services whose resources the app's stacks contain (both components, every option), by IAM
 * prefix. CloudFormation acts with the execution policy, so it needs each of them and no other.
 */
export const DEPLOYED_SERVICES = [
  'acm',
  'apigateway',
  'cloudwatch',
  'dynamodb',
  'ec2',
  'ecs',
  'elasticloadbalancing',
  'events',
  'lambda',
  'logs',
  'route53',
  'secretsmanager',
  'sns',
  'sqs',
] as const;

/** AWS managed policies the app attaches to a role (CDK's default-SG provider function). */
const ATTACHABLE_MANAGED_POLICIES = ['service-role/AWSLambdaBasicExecutionRole'];

export interface GitHubDeployRoleProps extends StackProps {
  /** `owner/name` of the repository whose workflows may deploy. */
  repository: string;
  /** An account has one provider per URL; pass false when it already exists. */
  createOidcProvider: boolean;
  cdkQualifier?: string;
  /** Region each stage deploys to; the bootstrap's own region by default. */
  regions?: Partial<Record<StageName, string>>;
}

export class GitHubDeployRoleStack extends Stack {
  readonly roles: Record<StageName, iam.Role>;
  readonly executionPolicy: iam.ManagedPolicy;

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

    this.roles = Object.fromEntries(
      STAGES.map((stage) => {
        const region = props.regions?.[stage] ?? this.region;
        const role = this.deployRole(stage, region, props.repository, provider, qualifier);
        new CfnOutput(this, `DeployRoleArn${capitalized(stage)}`, {
          value: role.roleArn,
          description: `Secret AWS_DEPLOY_ROLE_ARN of the GitHub environment ${stage}`,
        });
        new CfnOutput(this, `Region${capitalized(stage)}`, {
          value: region,
          description: `Variable AWS_REGION of the GitHub environment ${stage}`,
        });
        return [stage, role];
      }),
    ) as Record<StageName, iam.Role>;

    this.executionPolicy = this.cdkExecutionPolicy(qualifier);
    new CfnOutput(this, 'CdkExecutionPolicyArn', {
      value: this.executionPolicy.managedPolicyArn,
      description: 'Give to cdk bootstrap --cloudformation-execution-policies in each region',
    });
  }

  /**
   * Trusted by exactly one GitHub environment (`sub` is `repo:<owner>/<name>:environment:<stage>`),
   * so a workflow that names another environment, or none, cannot use it; and allowed only the
   * CDK bootstrap roles of its stage's region.
   */
  private deployRole(
    stage: StageName,
    region: string,
    repository: string,
    provider: iam.IOidcProvider,
    qualifier: string,
  ): iam.Role {
    const role = new iam.Role(this, `DeployRole${capitalized(stage)}`, {
      roleName: deployRoleName(stage),
      description: `GitHub Actions deployments of ${repository}, environment ${stage}`,
      maxSessionDuration: Duration.hours(1),
      assumedBy: new iam.WebIdentityPrincipal(provider.oidcProviderArn, {
        StringEquals: {
          'token.actions.githubusercontent.com:aud': GITHUB_OIDC_AUDIENCE,
          'token.actions.githubusercontent.com:sub': `repo:${repository}:environment:${stage}`,
        },
      }),
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'AssumeCdkBootstrapRoles',
        actions: ['sts:AssumeRole', 'sts:TagSession'],
        resources: ['deploy', 'file-publishing', 'image-publishing', 'lookup'].map((kind) =>
          this.formatArn({
            service: 'iam',
            region: '',
            resource: 'role',
            resourceName: `cdk-${qualifier}-${kind}-role-${this.account}-${region}`,
          }),
        ),
      }),
    );
    return role;
  }

  /**
   * What CloudFormation may do when it deploys this app: the services of its resources, IAM
   * only on the stacks' own roles, the CDK asset bucket and bootstrap version only. No IAM users
   * or keys, no other S3 buckets, no KMS, no account settings.
   */
  private cdkExecutionPolicy(qualifier: string): iam.ManagedPolicy {
    const stackRoles = STAGES.map((stage) =>
      this.formatArn({
        service: 'iam',
        region: '',
        resource: 'role',
        resourceName: `${stackNameFor(stage)}-*`,
      }),
    );
    const statements = [
      new iam.PolicyStatement({
        sid: 'DeployedServices',
        actions: DEPLOYED_SERVICES.map((service) => `${service}:*`),
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'StackRoles',
        actions: [
          'iam:CreateRole',
          'iam:DeleteRole',
          'iam:GetRole',
          'iam:UpdateRole',
          'iam:UpdateRoleDescription',
          'iam:UpdateAssumeRolePolicy',
          'iam:TagRole',
          'iam:UntagRole',
          'iam:PutRolePolicy',
          'iam:GetRolePolicy',
          'iam:DeleteRolePolicy',
          'iam:ListRolePolicies',
          'iam:ListAttachedRolePolicies',
          'iam:DetachRolePolicy',
          'iam:PassRole',
        ],
        resources: stackRoles,
      }),
      new iam.PolicyStatement({
        sid: 'AttachOnlyTheManagedPoliciesTheAppUses',
        actions: ['iam:AttachRolePolicy'],
        resources: stackRoles,
        conditions: {
          ArnEquals: {
            'iam:PolicyARN': ATTACHABLE_MANAGED_POLICIES.map(
              (name) => `arn:${this.partition}:iam::aws:policy/${name}`,
            ),
          },
        },
      }),
      new iam.PolicyStatement({
        sid: 'ServiceLinkedRolesOfEcsAndLoadBalancing',
        actions: ['iam:CreateServiceLinkedRole'],
        resources: ['*'],
        conditions: {
          StringEquals: {
            'iam:AWSServiceName': ['ecs.amazonaws.com', 'elasticloadbalancing.amazonaws.com'],
          },
        },
      }),
      new iam.PolicyStatement({
        sid: 'CdkAssetsAndBootstrapVersion',
        actions: ['s3:GetObject', 'ssm:GetParameter', 'ssm:GetParameters'],
        resources: [
          `arn:${this.partition}:s3:::cdk-${qualifier}-assets-${this.account}-*/*`,
          this.formatArn({
            service: 'ssm',
            region: '*',
            resource: 'parameter',
            resourceName: `cdk-bootstrap/${qualifier}/version`,
          }),
        ],
      }),
    ];
    const policy = new iam.ManagedPolicy(this, 'CdkExecutionPolicy', {
      managedPolicyName: EXECUTION_POLICY_NAME,
      description: 'CloudFormation execution policy for the IoT Playground stacks (cdk bootstrap)',
      statements,
    });
    // cdk-nag reports each `*` action and each wildcard resource as its own IAM5 finding.
    const findings = new Set<string>();
    for (const statement of statements) {
      for (const action of statement.actions.filter((a) => a.includes('*'))) {
        findings.add(`Action::${action}`);
      }
      for (const resource of statement.resources.filter((r) => r.includes('*'))) {
        findings.add(`Resource::${flattenForNag(this.resolve(resource))}`);
      }
    }
    const reason =
      'A CloudFormation execution policy: CloudFormation creates, updates and deletes every ' +
      'resource of the stacks, whose physical names it generates, so it needs the full action ' +
      'set of each service the app deploys. The policy narrows AdministratorAccess to those ' +
      "services; IAM to the stacks' own roles; S3 and SSM to the CDK asset bucket and version.";
    for (const finding of findings) {
      Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
    }
    return policy;
  }
}

const capitalized = (text: string): string => `${text.charAt(0).toUpperCase()}${text.slice(1)}`;

/** A resolved value as cdk-nag names it in findings: `{Ref: X}` becomes `<X>`, joins are joined. */
const flattenForNag = (value: unknown): string => {
  if (typeof value === 'string') return value;
  const node = value as { Ref?: string; 'Fn::Join'?: [string, unknown[]] };
  if (node.Ref !== undefined) return `<${node.Ref}>`;
  if (node['Fn::Join'] !== undefined) {
    const [delimiter, parts] = node['Fn::Join'];
    return parts.map(flattenForNag).join(delimiter);
  }
  return JSON.stringify(value);
};
