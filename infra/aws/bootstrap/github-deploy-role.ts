/**
 * The GitHub side of one stage's delivery, deployed once per stage after `cdk bootstrap`:
 * GitHub's OIDC identity provider (once per account), the stage's deploy role that only jobs
 * of the stage's GitHub environment can assume, and a fence on the stage's CDK bootstrap roles.
 *
 * The deploy role may assume only the bootstrap roles of its stage's qualifier (region and
 * account); the plan role only the lookup role, and read its own stack's template and outputs. The bootstrap's deploy role may change *any*
 * stack (its policy allows CloudFormation on `*`, and a stack update reuses the role stored
 * with the stack), so the fence denies it every change to a stack but the stage's own, and
 * denies it and the lookup role (ReadOnlyAccess) reading data: the dev credentials can neither
 * update, delete nor unprotect IotPlayground-prod, nor read prod's tables.
 */
import { CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { CDK_QUALIFIERS, type StageName, stackNameFor } from '../stage-config.ts';
import { flattenForNag } from './stage-policies.ts';

export const GITHUB_OIDC_URL = 'https://token.actions.githubusercontent.com';
export const GITHUB_OIDC_AUDIENCE = 'sts.amazonaws.com';

/** The roles as IAM names them; the README and the workflows refer to these names. */
export const deployRoleName = (stage: StageName): string => `IotPlayground-github-deploy-${stage}`;
export const planRoleName = (stage: StageName): string => `IotPlayground-github-plan-${stage}`;

/**
 * The GitHub environments whose jobs may use each role. `<stage>` (branch main only) holds the
 * stage's settings and plans: it synthesizes, diffs and reads outputs, read-only. Only jobs of
 * `<stage>-deploy` (main only; required reviewers for prod) may deploy, so a prod deployment
 * is approved after its diff is in the job summary.
 */
export const planEnvironment = (stage: StageName): string => stage;
export const deployEnvironment = (stage: StageName): string => `${stage}-deploy`;
export const bootstrapFenceName = (stage: StageName): string =>
  `IotPlayground-${stage}-bootstrap-fence`;
export const lookupFenceName = (stage: StageName): string => `IotPlayground-${stage}-lookup-fence`;

/**
 * All the bootstrap lookup role may still do (CDK gives it ReadOnlyAccess): what `cdk diff`
 * reads (the stage stack's template and description, its resources for nested stacks, the
 * bootstrap version; node_modules/aws-cdk/lib: loadCurrentTemplateWithNestedStacks,
 * accessStackForLookup) and the context lookups the app makes (availability zones of the
 * Grafana VPC, a hosted zone by name: AZContextProviderPlugin, HostedZoneContextProviderPlugin).
 */
export const LOOKUP_READS = {
  stack: [
    'cloudformation:DescribeStacks',
    'cloudformation:GetTemplate',
    'cloudformation:ListStackResources',
  ],
  bootstrapVersion: ['ssm:GetParameter'],
  context: [
    'ec2:DescribeAvailabilityZones',
    'route53:ListHostedZonesByName',
    'route53:GetHostedZone',
  ],
};

/**
 * What the plan role asks AWS about the synthesized policies (npm run check:policies): IAM's
 * policy simulator and Access Analyzer's policy checks, none of which reads or changes a
 * resource (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsiamaccessanalyzer.html).
 */
export const POLICY_CHECKS = [
  'iam:SimulateCustomPolicy',
  'access-analyzer:ValidatePolicy',
  'access-analyzer:CheckAccessNotGranted',
];

/** The roles `cdk bootstrap --qualifier` creates, by kind. */
export const BOOTSTRAP_ROLE_KINDS = ['deploy', 'file-publishing', 'image-publishing', 'lookup'];
export const bootstrapRoleName = (
  qualifier: string,
  kind: string,
  account: string,
  region: string,
): string => `cdk-${qualifier}-${kind}-role-${account}-${region}`;

/**
 * Every CloudFormation call that changes a stack. The bootstrap deploy role is allowed these
 * on `*` (infra/aws/bootstrap/github-deploy-role.test.ts reads its policy from the CDK CLI's own
 * template and checks that each one it grants is fenced here).
 */
export const STACK_CHANGES = [
  'cloudformation:CreateChangeSet',
  'cloudformation:DeleteChangeSet',
  'cloudformation:ExecuteChangeSet',
  'cloudformation:CreateStack',
  'cloudformation:UpdateStack',
  'cloudformation:DeleteStack',
  'cloudformation:RollbackStack',
  'cloudformation:ContinueUpdateRollback',
  'cloudformation:CancelUpdateStack',
  'cloudformation:UpdateTerminationProtection',
  'cloudformation:SetStackPolicy',
  'cloudformation:SignalResource',
  'cloudformation:CreateStackRefactor',
  'cloudformation:ExecuteStackRefactor',
];

/** Reads of stored data that ReadOnlyAccess (the lookup role) grants on every resource. */
export const DATA_READS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  'dynamodb:GetRecords',
  'dynamodb:PartiQLSelect',
  'sqs:ReceiveMessage',
  'logs:GetLogEvents',
  'logs:FilterLogEvents',
  'logs:StartQuery',
  'logs:StartLiveTail',
  'secretsmanager:GetSecretValue',
];

export interface GitHubDeployProps extends StackProps {
  stage: StageName;
  /** `owner/name` of the repository whose workflows may deploy. */
  repository: string;
  /** An account has one provider per URL; pass false when it already exists. */
  createOidcProvider: boolean;
}

export class GitHubDeployStack extends Stack {
  readonly role: iam.Role;
  readonly planRole: iam.Role;
  readonly fence: iam.ManagedPolicy;
  readonly lookupFence: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: GitHubDeployProps) {
    super(scope, id, props);
    if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(props.repository)) {
      throw new Error(`githubRepository=${props.repository} must be owner/name`);
    }
    const { stage } = props;
    const qualifier = CDK_QUALIFIERS[stage];
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

    const roleArn = (kind: string) =>
      this.formatArn({
        service: 'iam',
        region: '',
        resource: 'role',
        resourceName: bootstrapRoleName(qualifier, kind, this.account, this.region),
      });
    const [deployBootstrapRole, lookupBootstrapRole] = ['deploy', 'lookup'].map((kind) =>
      iam.Role.fromRoleName(
        this,
        `Bootstrap${kind}Role`,
        bootstrapRoleName(qualifier, kind, this.account, this.region),
      ),
    ) as [iam.IRole, iam.IRole];
    const ownStack = this.formatArn({
      service: 'cloudformation',
      resource: 'stack',
      resourceName: `${stackNameFor(stage)}/*`,
    });

    // Each role is trusted by exactly one GitHub environment (`sub` is
    // repo:<owner>/<name>:environment:<name>), so a workflow naming another one, or none,
    // cannot use it.
    const githubRole = (id: string, roleName: string, environment: string, what: string) =>
      new iam.Role(this, id, {
        roleName,
        description: `GitHub Actions ${what} of ${props.repository}, environment ${environment}`,
        maxSessionDuration: Duration.hours(1),
        assumedBy: new iam.WebIdentityPrincipal(provider.oidcProviderArn, {
          StringEquals: {
            'token.actions.githubusercontent.com:aud': GITHUB_OIDC_AUDIENCE,
            'token.actions.githubusercontent.com:sub': `repo:${props.repository}:environment:${environment}`,
          },
        }),
      });
    this.role = githubRole(
      'DeployRole',
      deployRoleName(stage),
      deployEnvironment(stage),
      'deployments',
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'AssumeTheStageBootstrapRoles',
        actions: ['sts:AssumeRole', 'sts:TagSession'],
        resources: BOOTSTRAP_ROLE_KINDS.map(roleArn),
      }),
    );
    // The smoke test reports an alarm e-mail that has not confirmed its subscription.
    const stageTopics = this.formatArn({ service: 'sns', resource: `${stackNameFor(stage)}-*` });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadTheStageAlarmSubscriptions',
        actions: ['sns:ListSubscriptionsByTopic'],
        resources: [stageTopics],
      }),
    );
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${flattenForNag(this.resolve(stageTopics))}]`,
      reason:
        'CloudFormation names the alarm topic under the stack name: the prefix scopes the read ' +
        'of its subscriptions (no message, no attribute change) to the stage.',
    });
    // Plans (synth, diff) and the load test's ApiUrl: the lookup role and the stack, read-only.
    this.planRole = githubRole('PlanRole', planRoleName(stage), planEnvironment(stage), 'plans');
    this.planRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'AssumeTheStageLookupRole',
        actions: ['sts:AssumeRole', 'sts:TagSession'],
        resources: [roleArn('lookup')],
      }),
    );
    this.planRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadTheStageStack',
        actions: ['cloudformation:DescribeStacks', 'cloudformation:GetTemplate'],
        resources: [ownStack],
      }),
    );
    Validations.of(this.planRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${flattenForNag(this.resolve(ownStack))}]`,
      reason:
        'A stack ARN ends in its id, assigned at creation: the wildcard stands for the id of ' +
        "the stage's one stack, whose template and outputs plans read.",
    });
    this.planRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'AskAwsAboutThePolicies',
        actions: POLICY_CHECKS,
        resources: ['*'],
      }),
    );
    Validations.of(this.planRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'SimulateCustomPolicy, ValidatePolicy and CheckAccessNotGranted take policy documents, ' +
        'not resources (no resource type in the Service Authorization Reference): they judge ' +
        'the synthesized policies and read or change nothing of the account.',
    });

    this.fence = new iam.ManagedPolicy(this, 'BootstrapFence', {
      managedPolicyName: bootstrapFenceName(stage),
      description: `Keeps the ${qualifier} bootstrap roles to IotPlayground-${stage} and away from data`,
      roles: [deployBootstrapRole, lookupBootstrapRole],
      statements: [
        new iam.PolicyStatement({
          sid: 'ChangeNoStackButTheStage',
          effect: iam.Effect.DENY,
          actions: STACK_CHANGES,
          notResources: [ownStack],
        }),
        new iam.PolicyStatement({
          sid: 'ReadNoData',
          effect: iam.Effect.DENY,
          actions: DATA_READS,
          resources: ['*'],
        }),
      ],
    });

    // The lookup role keeps ReadOnlyAccess (CDK's bootstrap attaches it); this denies all of it
    // but what plans read, and those reads only on the stage's stack and bootstrap version.
    const bootstrapVersion = this.formatArn({
      service: 'ssm',
      resource: 'parameter',
      resourceName: `cdk-bootstrap/${qualifier}/version`,
    });
    this.lookupFence = new iam.ManagedPolicy(this, 'LookupFence', {
      managedPolicyName: lookupFenceName(stage),
      description: `Keeps the ${qualifier} lookup role to what cdk diff and synthesis read`,
      roles: [lookupBootstrapRole],
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadNothingButWhatPlansRead',
          effect: iam.Effect.DENY,
          notActions: Object.values(LOOKUP_READS).flat(),
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'ReadNoStackButTheStage',
          effect: iam.Effect.DENY,
          actions: LOOKUP_READS.stack,
          notResources: [ownStack],
        }),
        new iam.PolicyStatement({
          sid: 'ReadNoParameterButTheBootstrapVersion',
          effect: iam.Effect.DENY,
          actions: LOOKUP_READS.bootstrapVersion,
          notResources: [bootstrapVersion],
        }),
      ],
    });

    new CfnOutput(this, 'DeployRoleArn', {
      value: this.role.roleArn,
      description: `Secret AWS_DEPLOY_ROLE_ARN of the GitHub environment ${deployEnvironment(stage)}`,
    });
    new CfnOutput(this, 'PlanRoleArn', {
      value: this.planRole.roleArn,
      description: `Secret AWS_PLAN_ROLE_ARN of the GitHub environment ${planEnvironment(stage)}`,
    });
    new CfnOutput(this, 'Region', {
      value: this.region,
      description: `Variable AWS_REGION of the GitHub environments ${stage} and ${stage}-deploy`,
    });
  }
}
