/**
 * The two managed policies that bound what a stage's deployment can do, deployed once per stage
 * before `cdk bootstrap` (which takes the execution policy's ARN):
 *
 * - the **permissions boundary** every role of the stage's stack carries (the app applies it
 *   with `PermissionsBoundary.of`): whatever a template writes into a role, the role can do no
 *   more than read and write the stage's own tables, queues, logs and secret, pull the stage's
 *   image and read metrics;
 * - the **CloudFormation execution policy**: the services the app deploys, the data services
 *   (tables, queues, functions, log groups, secrets, topics, rules, alarms, budgets) only under
 *   the stage's name prefix, roles only with the boundary (which can never be removed), roles
 *   passed only to Lambda and ECS tasks.
 *
 * CloudFormation names what it creates `<stack name>-<logical id>-<suffix>`, so the stack name
 * `IotPlayground-<stage>` is the prefix that scopes a stage's resources; the secret is named
 * explicitly under it. Evaluated against real requests in stage-policies.test.ts.
 */
import { ArnFormat, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { STAGE_COST_TAG } from '../constructs/budget.ts';
import { GRAFANA_UNSCOPED_READS } from '../constructs/grafana.ts';
import {
  CDK_QUALIFIERS,
  executionPolicyName,
  permissionsBoundaryName,
  type StageName,
  stackNameFor,
} from '../stage-config.ts';

/** Services whose resources the app's stacks contain (both components, every option). */
export const DEPLOYED_SERVICES = [
  'acm',
  'apigateway',
  'budgets',
  'cloudwatch',
  'dynamodb',
  'ec2',
  'ecs',
  'elasticloadbalancing',
  'events',
  'iam',
  'lambda',
  'logs',
  'route53',
  'secretsmanager',
  'sns',
  'sqs',
] as const;

/** The services a stage's roles are passed to: its functions and its Grafana task. */
export const ROLE_SERVICES = ['lambda.amazonaws.com', 'ecs-tasks.amazonaws.com'];

/** Service-linked roles a first deployment may need: Fargate, the load balancer, API domains. */
export const SERVICE_LINKED_ROLES = [
  'ecs.amazonaws.com',
  'elasticloadbalancing.amazonaws.com',
  'ops.apigateway.amazonaws.com',
];

/**
 * Services whose resources IAM cannot name before they exist: the execution policy grants them
 * on `*`, and tells the stages apart by the stage tag every resource of the stack carries
 * (`iot-playground:stage`, infra/aws/stack.ts). Route 53 is not among them: its record changes
 * take no tag condition (see SHARED_ACCOUNT_EXPOSURES in iam/stage-resources.ts).
 */
export const TAG_FENCED_SERVICES = ['acm', 'apigateway', 'ec2', 'ecs', 'elasticloadbalancing'];

/** The principals the app lets invoke its functions: API Gateway and the sweeper's schedule. */
export const INVOKING_SERVICES = ['apigateway.amazonaws.com', 'events.amazonaws.com'];

/**
 * Calls that would make a stage's data reachable from outside it, none of which the app makes:
 * a role's trust changed after creation, a resource policy on a table or a secret, a function
 * URL, queue and topic permissions. (`sqs:SetQueueAttributes` and `sns:SetTopicAttributes`,
 * which also set queue and topic policies, are needed to create the stage's queues and topic
 * and take no condition; check:policies judges the policies the template sets.)
 */
export const NEVER_PUBLIC = [
  'iam:UpdateAssumeRolePolicy',
  'dynamodb:PutResourcePolicy',
  'lambda:CreateFunctionUrlConfig',
  'lambda:UpdateFunctionUrlConfig',
  'sqs:AddPermission',
  'sns:AddPermission',
];

/** AWS managed policies the app attaches to a role (CDK's default-SG provider function). */
export const ATTACHABLE_MANAGED_POLICIES = ['service-role/AWSLambdaBasicExecutionRole'];

/** The EC2 calls of the Grafana VPC's resources; not `ec2:*` (instances, snapshots, AMIs). */
const NETWORK_ACTIONS = [
  'ec2:Describe*',
  'ec2:CreateVpc',
  'ec2:DeleteVpc',
  'ec2:ModifyVpcAttribute',
  'ec2:CreateSubnet',
  'ec2:DeleteSubnet',
  'ec2:ModifySubnetAttribute',
  'ec2:CreateRouteTable',
  'ec2:DeleteRouteTable',
  'ec2:AssociateRouteTable',
  'ec2:DisassociateRouteTable',
  'ec2:CreateRoute',
  'ec2:DeleteRoute',
  'ec2:ReplaceRoute',
  'ec2:CreateInternetGateway',
  'ec2:DeleteInternetGateway',
  'ec2:AttachInternetGateway',
  'ec2:DetachInternetGateway',
  'ec2:CreateSecurityGroup',
  'ec2:DeleteSecurityGroup',
  'ec2:AuthorizeSecurityGroupIngress',
  'ec2:AuthorizeSecurityGroupEgress',
  'ec2:RevokeSecurityGroupIngress',
  'ec2:RevokeSecurityGroupEgress',
  'ec2:UpdateSecurityGroupRuleDescriptionsIngress',
  'ec2:UpdateSecurityGroupRuleDescriptionsEgress',
  'ec2:CreateTags',
  'ec2:DeleteTags',
];

/** ARNs of one stage, from the stack's account and partition. */
export class StageArns {
  readonly prefix: string;
  constructor(
    readonly stack: Stack,
    readonly stage: StageName,
  ) {
    this.prefix = `${stackNameFor(stage)}-`;
  }

  private arn(service: string, resource: string, resourceName?: string, separator = '/'): string {
    return this.stack.formatArn({
      service,
      region: service === 'iam' || service === 'budgets' ? '' : '*',
      resource,
      resourceName,
      arnFormat: separator === ':' ? ArnFormat.COLON_RESOURCE_NAME : ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  get tables() {
    return this.arn('dynamodb', 'table', `${this.prefix}*`);
  }
  get queues() {
    return this.stack.formatArn({ service: 'sqs', region: '*', resource: `${this.prefix}*` });
  }
  get functions() {
    return this.arn('lambda', 'function', `${this.prefix}*`, ':');
  }
  /** CloudFormation-named groups, and the provider function's `/aws/lambda/<function>` group. */
  get logGroups() {
    return [`${this.prefix}*`, `/aws/lambda/${this.prefix}*`].map((name) =>
      this.arn('logs', 'log-group', name, ':'),
    );
  }
  get secrets() {
    return this.arn('secretsmanager', 'secret', `${this.prefix}*`, ':');
  }
  get topics() {
    return this.stack.formatArn({ service: 'sns', region: '*', resource: `${this.prefix}*` });
  }
  get rules() {
    return this.arn('events', 'rule', `${this.prefix}*`);
  }
  get alarms() {
    return this.arn('cloudwatch', 'alarm', `${this.prefix}*`, ':');
  }
  get budgets() {
    return this.arn('budgets', 'budget', `${this.prefix}*`);
  }
  get roles() {
    return this.arn('iam', 'role', `${this.prefix}*`);
  }
  get boundary() {
    return this.arn('iam', 'policy', permissionsBoundaryName(this.stage));
  }
  get executionPolicy() {
    return this.arn('iam', 'policy', executionPolicyName(this.stage));
  }
  get securityGroups() {
    return this.arn('ec2', 'security-group', '*');
  }
  get containerImages() {
    return this.arn('ecr', 'repository', `cdk-${CDK_QUALIFIERS[this.stage]}-container-assets-*`);
  }
}

/** What any role of the stage may ever do: the union of what the app's roles need, scoped. */
export const boundaryStatements = (arns: StageArns): iam.PolicyStatement[] => [
  new iam.PolicyStatement({
    sid: 'StageTables',
    actions: [
      'dynamodb:GetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:Query',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:ConditionCheckItem',
      'dynamodb:DescribeTable',
    ],
    resources: [arns.tables],
  }),
  new iam.PolicyStatement({
    sid: 'StageQueues',
    actions: [
      'sqs:SendMessage',
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:ChangeMessageVisibility',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
    ],
    resources: [arns.queues],
  }),
  new iam.PolicyStatement({
    sid: 'StageLogs',
    actions: [
      'logs:CreateLogGroup',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'logs:DescribeLogStreams',
      'logs:StartQuery',
      'logs:GetLogEvents',
      'logs:FilterLogEvents',
      'logs:GetLogGroupFields',
    ],
    resources: arns.logGroups,
  }),
  new iam.PolicyStatement({
    sid: 'StageSecrets',
    actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
    resources: [arns.secrets],
  }),
  new iam.PolicyStatement({
    // The infrastructure panel tells the alarm topic when it stops an idle Grafana.
    sid: 'StageTopicsPublish',
    actions: ['sns:Publish'],
    resources: [arns.topics],
  }),
  new iam.PolicyStatement({
    sid: 'StageContainerImage',
    actions: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
    resources: [arns.containerImages],
  }),
  new iam.PolicyStatement({
    // CDK's provider function strips the rules of the VPC's default security group.
    sid: 'DefaultSecurityGroupRules',
    actions: [
      'ec2:AuthorizeSecurityGroupIngress',
      'ec2:AuthorizeSecurityGroupEgress',
      'ec2:RevokeSecurityGroupIngress',
      'ec2:RevokeSecurityGroupEgress',
    ],
    resources: [arns.securityGroups],
  }),
  new iam.PolicyStatement({
    // Reads IAM cannot scope to resources (Grafana's datasource, the image pull's token).
    sid: 'ReadsWithoutResourceScope',
    actions: [...GRAFANA_UNSCOPED_READS, 'ecr:GetAuthorizationToken'],
    resources: ['*'],
  }),
];

/** Denies the tag-fenced services on whatever carries (or is given) another stage's tag. */
const otherStageTagDeny = (sid: string, key: string, stage: StageName) => {
  const tag = `${key}/${STAGE_COST_TAG}`;
  return new iam.PolicyStatement({
    sid,
    effect: iam.Effect.DENY,
    actions: TAG_FENCED_SERVICES.map((service) => `${service}:*`),
    resources: ['*'],
    conditions: { StringNotEquals: { [tag]: stage }, Null: { [tag]: 'false' } },
  });
};

/**
 * What CloudFormation may do when it deploys the stage. Every statement is either scoped to the
 * stage's names or to services whose resources IAM cannot name before they exist (API Gateway,
 * ECS, load balancing, certificates, DNS, the VPC's networking calls).
 */
export const executionStatements = (arns: StageArns, qualifier: string): iam.PolicyStatement[] => {
  const { stack } = arns;
  return [
    new iam.PolicyStatement({
      sid: 'InfrastructureWithoutNameScope',
      actions: [
        'acm:*',
        'apigateway:*',
        'ecs:*',
        'elasticloadbalancing:*',
        'route53:*',
        ...NETWORK_ACTIONS,
      ],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'StageDataResources',
      actions: [
        'dynamodb:*',
        'sqs:*',
        'lambda:*',
        'logs:*',
        'secretsmanager:*',
        'sns:*',
        'events:*',
        'cloudwatch:*',
        'budgets:*',
      ],
      resources: [
        arns.tables,
        arns.queues,
        arns.functions,
        ...arns.logGroups,
        arns.secrets,
        arns.topics,
        arns.rules,
        arns.alarms,
        arns.budgets,
      ],
    }),
    new iam.PolicyStatement({
      // Event source mappings, narrowed by the function they feed (`lambda:FunctionArn`,
      // https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html).
      sid: 'StageEventSourceMappings',
      actions: [
        'lambda:CreateEventSourceMapping',
        'lambda:GetEventSourceMapping',
        'lambda:UpdateEventSourceMapping',
        'lambda:DeleteEventSourceMapping',
      ],
      resources: ['*'],
      conditions: { ArnLike: { 'lambda:FunctionArn': arns.functions } },
    }),
    new iam.PolicyStatement({
      // Calls with no resource to scope: reading state while waiting, the generated password,
      // and the account-level log delivery an HTTP API's access logs need
      // (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging.html).
      sid: 'UnscopedCalls',
      actions: [
        'lambda:ListEventSourceMappings',
        'logs:DescribeLogGroups',
        'logs:CreateLogDelivery',
        'logs:GetLogDelivery',
        'logs:UpdateLogDelivery',
        'logs:DeleteLogDelivery',
        'logs:ListLogDeliveries',
        'logs:PutResourcePolicy',
        'logs:DescribeResourcePolicies',
        'secretsmanager:GetRandomPassword',
        'cloudwatch:DescribeAlarms',
      ],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'StageRolesOnlyWithTheBoundary',
      actions: [
        'iam:CreateRole',
        'iam:PutRolePolicy',
        'iam:DeleteRolePolicy',
        'iam:PutRolePermissionsBoundary',
      ],
      resources: [arns.roles],
      conditions: { StringEquals: { 'iam:PermissionsBoundary': arns.boundary } },
    }),
    new iam.PolicyStatement({
      sid: 'AttachOnlyTheManagedPoliciesTheAppUses',
      actions: ['iam:AttachRolePolicy', 'iam:DetachRolePolicy'],
      resources: [arns.roles],
      conditions: {
        StringEquals: { 'iam:PermissionsBoundary': arns.boundary },
        ArnEquals: {
          'iam:PolicyARN': ATTACHABLE_MANAGED_POLICIES.map(
            (name) => `arn:${stack.partition}:iam::aws:policy/${name}`,
          ),
        },
      },
    }),
    new iam.PolicyStatement({
      sid: 'StageRoleLifecycle',
      actions: [
        'iam:GetRole',
        'iam:GetRolePolicy',
        'iam:ListRolePolicies',
        'iam:ListAttachedRolePolicies',
        'iam:ListRoleTags',
        'iam:DeleteRole',
        'iam:UpdateRole',
        'iam:UpdateRoleDescription',
        'iam:TagRole',
        'iam:UntagRole',
      ],
      resources: [arns.roles],
    }),
    new iam.PolicyStatement({
      sid: 'PassStageRolesOnlyToTheStageServices',
      actions: ['iam:PassRole'],
      resources: [arns.roles],
      conditions: { StringEquals: { 'iam:PassedToService': ROLE_SERVICES } },
    }),
    new iam.PolicyStatement({
      sid: 'ServiceLinkedRolesOfFirstDeployments',
      actions: ['iam:CreateServiceLinkedRole'],
      resources: [
        stack.formatArn({
          service: 'iam',
          region: '',
          resource: 'role',
          resourceName: 'aws-service-role/*',
        }),
      ],
      conditions: { StringEquals: { 'iam:AWSServiceName': SERVICE_LINKED_ROLES } },
    }),
    new iam.PolicyStatement({
      sid: 'NeverRemoveOrChangeTheBoundary',
      effect: iam.Effect.DENY,
      actions: [
        'iam:DeleteRolePermissionsBoundary',
        'iam:CreatePolicyVersion',
        'iam:DeletePolicy',
        'iam:DeletePolicyVersion',
        'iam:SetDefaultPolicyVersion',
      ],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'NoRoleWithoutTheBoundary',
      effect: iam.Effect.DENY,
      actions: [
        'iam:CreateRole',
        'iam:PutRolePermissionsBoundary',
        'iam:PutRolePolicy',
        'iam:AttachRolePolicy',
      ],
      resources: ['*'],
      conditions: { StringNotEquals: { 'iam:PermissionsBoundary': arns.boundary } },
    }),
    // A stage's deployment cannot touch a resource tagged for another stage (their ids are
    // assigned at creation, so the grants above are on `*`), nor tag one for another stage.
    // Keys absent from a request (an untagged resource, an action that takes no tag) leave the
    // call to the grants above.
    otherStageTagDeny('NoOtherStagesResources', 'aws:ResourceTag', arns.stage),
    otherStageTagDeny('NoResourcesTaggedForOtherStages', 'aws:RequestTag', arns.stage),
    new iam.PolicyStatement({
      sid: 'NoTrustChangesNorPublicData',
      effect: iam.Effect.DENY,
      actions: NEVER_PUBLIC,
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      // https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html
      // (secretsmanager:BlockPublicPolicy on PutResourcePolicy): a secret's resource policy only
      // with Secrets Manager's check that it grants no broad access (the infrastructure panel's
      // credential is fenced by one: every principal but its function denied the value).
      sid: 'SecretPoliciesOnlyBlockingBroadAccess',
      effect: iam.Effect.DENY,
      actions: ['secretsmanager:PutResourcePolicy'],
      resources: ['*'],
      conditions: { BoolIfExists: { 'secretsmanager:BlockPublicPolicy': 'false' } },
    }),
    new iam.PolicyStatement({
      // https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html
      // (lambda:Principal on AddPermission): no function of the stage invocable by anyone else.
      sid: 'InvokePermissionsOnlyForTheStageServices',
      effect: iam.Effect.DENY,
      actions: ['lambda:AddPermission'],
      resources: ['*'],
      conditions: { StringNotEquals: { 'lambda:Principal': INVOKING_SERVICES } },
    }),
    new iam.PolicyStatement({
      sid: 'StageCdkAssetsAndBootstrapVersion',
      actions: ['s3:GetObject', 'ssm:GetParameter', 'ssm:GetParameters'],
      resources: [
        `arn:${stack.partition}:s3:::cdk-${qualifier}-assets-${stack.account}-*/*`,
        stack.formatArn({
          service: 'ssm',
          region: '*',
          resource: 'parameter',
          resourceName: `cdk-bootstrap/${qualifier}/version`,
        }),
      ],
    }),
  ];
};

export interface StagePoliciesProps extends StackProps {
  stage: StageName;
}

/** The boundary and execution policy of one stage (deploy before `cdk bootstrap`). */
export class StagePoliciesStack extends Stack {
  readonly boundary: iam.ManagedPolicy;
  readonly executionPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: StagePoliciesProps) {
    super(scope, id, props);
    const arns = new StageArns(this, props.stage);
    const qualifier = CDK_QUALIFIERS[props.stage];
    const boundary = boundaryStatements(arns);
    const execution = executionStatements(arns, qualifier);
    this.boundary = new iam.ManagedPolicy(this, 'PermissionsBoundary', {
      managedPolicyName: permissionsBoundaryName(props.stage),
      description: `Permissions boundary of every role of IotPlayground-${props.stage}`,
      statements: boundary,
    });
    this.executionPolicy = new iam.ManagedPolicy(this, 'CdkExecutionPolicy', {
      managedPolicyName: executionPolicyName(props.stage),
      description: `CloudFormation execution policy of IotPlayground-${props.stage} (cdk bootstrap --qualifier ${qualifier})`,
      statements: execution,
    });
    acknowledgeWildcards(this, this.boundary, boundary, BOUNDARY_REASON);
    acknowledgeWildcards(this, this.executionPolicy, execution, EXECUTION_REASON);
  }
}

const BOUNDARY_REASON =
  "A permissions boundary: the stage's resources are named by CloudFormation under the stack " +
  'name, so the boundary scopes them by that prefix; the reads without resource scope are ' +
  'CloudWatch metric and ECR token calls IAM cannot scope. Proven by evaluation in tests.';
const EXECUTION_REASON =
  'A CloudFormation execution policy: CloudFormation creates, updates and deletes every ' +
  'resource of the stack under generated names, so the data services are scoped by the ' +
  'stack-name prefix and roles by the boundary; proven by evaluation in stage-policies.test.ts.';

/** cdk-nag reports each `*` action and each wildcard resource as its own IAM5 finding. */
const acknowledgeWildcards = (
  stack: Stack,
  policy: iam.ManagedPolicy,
  statements: iam.PolicyStatement[],
  reason: string,
): void => {
  const findings = new Set<string>();
  for (const statement of statements) {
    for (const action of statement.actions.filter((a) => a.includes('*'))) {
      findings.add(`Action::${action}`);
    }
    for (const resource of statement.resources.filter((r) => r.includes('*'))) {
      findings.add(`Resource::${flattenForNag(stack.resolve(resource))}`);
    }
  }
  for (const finding of findings) {
    Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
  }
};

/** A resolved value as cdk-nag names it in findings: `{Ref: X}` becomes `<X>`, joins are joined. */
export const flattenForNag = (value: unknown): string => {
  if (typeof value === 'string') return value;
  const node = value as { Ref?: string; 'Fn::Join'?: [string, unknown[]] };
  if (node.Ref !== undefined) return `<${node.Ref}>`;
  if (node['Fn::Join'] !== undefined) {
    const [delimiter, parts] = node['Fn::Join'];
    return parts.map(flattenForNag).join(delimiter);
  }
  return JSON.stringify(value);
};
