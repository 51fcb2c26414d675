/**
 * The requests CloudFormation makes, with the execution role, to deploy a synthesized template:
 * per resource type, the create/update/delete/read calls of its handlers, modelled on the
 * `handlers.*.permissions` of the CloudFormation resource type schemas (`aws cloudformation
 * describe-type`; e.g. aws-cloudformation-resource-providers-logs, aws-logs-loggroup.json),
 * on the resource's ARN as CloudFormation would name it (`<stack>-<logical id>-<suffix>`), plus
 * the roles it passes, the service-linked roles a first deployment creates, the dynamic
 * references it resolves and the custom resources it invokes. Test support: the execution policy
 * must allow every one of them (stage-policies.test.ts).
 */
import { STAGE_COST_TAG } from '../constructs/budget.ts';
import { type DeploymentEnvironment, resolveIntrinsics } from './intrinsics.ts';
import type { AccessRequest } from './policy-evaluation.ts';

interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
}

export interface TemplateJson {
  Resources: Record<string, Resource>;
  Parameters?: Record<string, { Default?: string }>;
}

export interface DeploymentRequest extends AccessRequest {
  /** The resource (logical id) whose deployment makes the request. */
  for: string;
}

const SUFFIX = 'A1B2C3D4E5F6';

/** Physical names and ARNs of the template's resources, as CloudFormation would make them. */
export const deploymentEnvironment = (
  template: TemplateJson,
  stackName: string,
  account: string,
  region: string,
): DeploymentEnvironment => {
  const refs: Record<string, string> = {};
  const attributes: Record<string, string> = {};
  const base: DeploymentEnvironment = { account, region, refs, attributes };
  for (const [name, parameter] of Object.entries(template.Parameters ?? {})) {
    if (parameter.Default !== undefined) refs[name] = parameter.Default;
  }
  // Two passes: an explicit name may refer to another resource's (a log group named after
  // the function it serves), known only after the first.
  let firstPass = true;
  const explicit = (resource: Resource, key: string): string | undefined => {
    const value = resource.Properties?.[key];
    if (value === undefined) return undefined;
    try {
      return String(resolveIntrinsics(value, base));
    } catch (error) {
      if (firstPass) return undefined;
      throw error;
    }
  };
  const arn = (service: string, rest: string, regional = true) =>
    `arn:aws:${service}:${regional ? region : ''}:${account}:${rest}`;
  for (const pass of [1, 2]) {
    firstPass = pass === 1;
    for (const [id, resource] of Object.entries(template.Resources)) {
      const generated = `${stackName}-${id}-${SUFFIX}`;
      switch (resource.Type) {
        case 'AWS::DynamoDB::Table': {
          const name = explicit(resource, 'TableName') ?? generated;
          refs[id] = name;
          attributes[`${id}.Arn`] = arn('dynamodb', `table/${name}`);
          break;
        }
        case 'AWS::SQS::Queue': {
          const name = explicit(resource, 'QueueName') ?? generated;
          refs[id] = `https://sqs.${region}.amazonaws.com/${account}/${name}`;
          attributes[`${id}.Arn`] = arn('sqs', name);
          attributes[`${id}.QueueName`] = name;
          break;
        }
        case 'AWS::Logs::LogGroup': {
          const name = explicit(resource, 'LogGroupName') ?? generated;
          refs[id] = name;
          attributes[`${id}.Arn`] = arn('logs', `log-group:${name}:*`);
          break;
        }
        case 'AWS::Lambda::Function': {
          const name = explicit(resource, 'FunctionName') ?? generated;
          refs[id] = name;
          attributes[`${id}.Arn`] = arn('lambda', `function:${name}`);
          break;
        }
        case 'AWS::IAM::Role': {
          const name = explicit(resource, 'RoleName') ?? generated;
          refs[id] = name;
          attributes[`${id}.Arn`] = arn('iam', `role/${name}`, false);
          break;
        }
        case 'AWS::SecretsManager::Secret':
          refs[id] = arn(
            'secretsmanager',
            `secret:${explicit(resource, 'Name') ?? generated}-AbCdEf`,
          );
          break;
        case 'AWS::SNS::Topic': {
          const name = explicit(resource, 'TopicName') ?? generated;
          refs[id] = arn('sns', name);
          attributes[`${id}.TopicName`] = name;
          attributes[`${id}.TopicArn`] = arn('sns', name);
          break;
        }
        case 'AWS::Events::Rule':
          refs[id] = generated;
          attributes[`${id}.Arn`] = arn('events', `rule/${generated}`);
          break;
        case 'AWS::CloudWatch::Alarm':
          refs[id] = generated;
          attributes[`${id}.Arn`] = arn('cloudwatch', `alarm:${generated}`);
          break;
        default:
          break;
      }
    }
  }
  return {
    ...base,
    // Ids CloudFormation or the service assigns (vpc-…, sg-…, API ids): opaque placeholders.
    fallback: (name) => `${name.replace('.', '-').toLowerCase()}-0123456789`,
  };
};

/** Actions of one resource's lifecycle on its own ARN. */
const LIFECYCLE: Record<
  string,
  { actions: string[]; arn: (ref: string, attrs: (a: string) => string) => string }
> = {
  'AWS::DynamoDB::Table': {
    actions: [
      'dynamodb:CreateTable',
      'dynamodb:DescribeTable',
      'dynamodb:UpdateTable',
      'dynamodb:DeleteTable',
      'dynamodb:UpdateTimeToLive',
      'dynamodb:DescribeTimeToLive',
      'dynamodb:UpdateContinuousBackups',
      'dynamodb:DescribeContinuousBackups',
      'dynamodb:TagResource',
      'dynamodb:UntagResource',
      'dynamodb:ListTagsOfResource',
    ],
    arn: (_, attr) => attr('Arn'),
  },
  'AWS::SQS::Queue': {
    actions: [
      'sqs:CreateQueue',
      'sqs:GetQueueAttributes',
      'sqs:SetQueueAttributes',
      'sqs:DeleteQueue',
      'sqs:TagQueue',
      'sqs:UntagQueue',
      'sqs:ListQueueTags',
    ],
    arn: (_, attr) => attr('Arn'),
  },
  'AWS::Logs::LogGroup': {
    actions: [
      'logs:CreateLogGroup',
      'logs:PutRetentionPolicy',
      'logs:DeleteRetentionPolicy',
      'logs:DeleteLogGroup',
      'logs:TagResource',
      'logs:UntagResource',
      'logs:ListTagsForResource',
    ],
    arn: (_, attr) => attr('Arn'),
  },
  'AWS::Lambda::Function': {
    actions: [
      'lambda:CreateFunction',
      'lambda:GetFunction',
      'lambda:GetFunctionConfiguration',
      'lambda:UpdateFunctionCode',
      'lambda:UpdateFunctionConfiguration',
      'lambda:DeleteFunction',
      'lambda:TagResource',
      'lambda:UntagResource',
      'lambda:ListTags',
      'lambda:GetRuntimeManagementConfig',
    ],
    arn: (_, attr) => attr('Arn'),
  },
  'AWS::SecretsManager::Secret': {
    actions: [
      'secretsmanager:CreateSecret',
      'secretsmanager:DescribeSecret',
      'secretsmanager:UpdateSecret',
      'secretsmanager:DeleteSecret',
      'secretsmanager:TagResource',
      'secretsmanager:UntagResource',
    ],
    arn: (ref) => ref,
  },
  'AWS::SNS::Topic': {
    actions: [
      'sns:CreateTopic',
      'sns:GetTopicAttributes',
      'sns:SetTopicAttributes',
      'sns:DeleteTopic',
      'sns:TagResource',
      'sns:UntagResource',
      'sns:ListTagsForResource',
      'sns:ListSubscriptionsByTopic',
    ],
    arn: (ref) => ref,
  },
  'AWS::Events::Rule': {
    actions: [
      'events:PutRule',
      'events:DescribeRule',
      'events:PutTargets',
      'events:RemoveTargets',
      'events:ListTargetsByRule',
      'events:DeleteRule',
    ],
    arn: (_, attr) => attr('Arn'),
  },
  'AWS::CloudWatch::Alarm': {
    actions: [
      'cloudwatch:PutMetricAlarm',
      'cloudwatch:DeleteAlarms',
      'cloudwatch:TagResource',
      'cloudwatch:ListTagsForResource',
    ],
    arn: (_, attr) => attr('Arn'),
  },
};

/** Services whose resources IAM names by ids assigned at creation: the calls, on `*`. */
const UNNAMED: Record<string, string[]> = {
  'AWS::ApiGatewayV2::Api': [
    'apigateway:POST',
    'apigateway:GET',
    'apigateway:PATCH',
    'apigateway:PUT',
    'apigateway:DELETE',
    'apigateway:TagResource',
  ],
  'AWS::ApiGatewayV2::ApiMapping': ['apigateway:POST', 'apigateway:GET', 'apigateway:DELETE'],
  'AWS::ApiGatewayV2::Authorizer': [
    'apigateway:POST',
    'apigateway:GET',
    'apigateway:PATCH',
    'apigateway:DELETE',
  ],
  'AWS::ApiGatewayV2::DomainName': [
    'apigateway:POST',
    'apigateway:GET',
    'apigateway:PATCH',
    'apigateway:DELETE',
    'acm:DescribeCertificate',
  ],
  'AWS::ApiGatewayV2::Integration': [
    'apigateway:POST',
    'apigateway:GET',
    'apigateway:PATCH',
    'apigateway:DELETE',
  ],
  'AWS::ApiGatewayV2::Route': [
    'apigateway:POST',
    'apigateway:GET',
    'apigateway:PATCH',
    'apigateway:DELETE',
  ],
  'AWS::ApiGatewayV2::Stage': [
    'apigateway:POST',
    'apigateway:GET',
    'apigateway:PATCH',
    'apigateway:DELETE',
  ],
  'AWS::CertificateManager::Certificate': [
    'acm:RequestCertificate',
    'acm:DescribeCertificate',
    'acm:DeleteCertificate',
    'acm:AddTagsToCertificate',
    'acm:ListTagsForCertificate',
    'route53:ChangeResourceRecordSets',
    'route53:GetChange',
  ],
  'AWS::Route53::RecordSet': [
    'route53:ChangeResourceRecordSets',
    'route53:GetChange',
    'route53:ListResourceRecordSets',
    'route53:GetHostedZone',
  ],
  'AWS::EC2::VPC': [
    'ec2:CreateVpc',
    'ec2:DescribeVpcs',
    'ec2:ModifyVpcAttribute',
    'ec2:DescribeVpcAttribute',
    'ec2:DeleteVpc',
    'ec2:CreateTags',
    'ec2:DeleteTags',
    'ec2:DescribeSecurityGroups',
  ],
  'AWS::EC2::Subnet': [
    'ec2:CreateSubnet',
    'ec2:DescribeSubnets',
    'ec2:ModifySubnetAttribute',
    'ec2:DeleteSubnet',
    'ec2:CreateTags',
    'ec2:DescribeAvailabilityZones',
  ],
  'AWS::EC2::RouteTable': [
    'ec2:CreateRouteTable',
    'ec2:DescribeRouteTables',
    'ec2:DeleteRouteTable',
    'ec2:CreateTags',
  ],
  'AWS::EC2::Route': [
    'ec2:CreateRoute',
    'ec2:ReplaceRoute',
    'ec2:DeleteRoute',
    'ec2:DescribeRouteTables',
  ],
  'AWS::EC2::SubnetRouteTableAssociation': [
    'ec2:AssociateRouteTable',
    'ec2:DisassociateRouteTable',
    'ec2:DescribeRouteTables',
  ],
  'AWS::EC2::InternetGateway': [
    'ec2:CreateInternetGateway',
    'ec2:DescribeInternetGateways',
    'ec2:DeleteInternetGateway',
    'ec2:CreateTags',
  ],
  'AWS::EC2::VPCGatewayAttachment': [
    'ec2:AttachInternetGateway',
    'ec2:DetachInternetGateway',
    'ec2:DescribeInternetGateways',
  ],
  'AWS::EC2::SecurityGroup': [
    'ec2:CreateSecurityGroup',
    'ec2:DescribeSecurityGroups',
    'ec2:AuthorizeSecurityGroupIngress',
    'ec2:AuthorizeSecurityGroupEgress',
    'ec2:RevokeSecurityGroupIngress',
    'ec2:RevokeSecurityGroupEgress',
    'ec2:DeleteSecurityGroup',
    'ec2:CreateTags',
  ],
  'AWS::EC2::SecurityGroupIngress': [
    'ec2:AuthorizeSecurityGroupIngress',
    'ec2:RevokeSecurityGroupIngress',
    'ec2:DescribeSecurityGroupRules',
  ],
  'AWS::EC2::SecurityGroupEgress': [
    'ec2:AuthorizeSecurityGroupEgress',
    'ec2:RevokeSecurityGroupEgress',
    'ec2:DescribeSecurityGroupRules',
  ],
  'AWS::ECS::Cluster': [
    'ecs:CreateCluster',
    'ecs:DescribeClusters',
    'ecs:PutClusterCapacityProviders',
    'ecs:UpdateClusterSettings',
    'ecs:DeleteCluster',
    'ecs:TagResource',
  ],
  'AWS::ECS::TaskDefinition': [
    'ecs:RegisterTaskDefinition',
    'ecs:DescribeTaskDefinition',
    'ecs:DeregisterTaskDefinition',
    'ecs:TagResource',
  ],
  'AWS::ECS::Service': [
    'ecs:CreateService',
    'ecs:DescribeServices',
    'ecs:UpdateService',
    'ecs:DeleteService',
    'ecs:TagResource',
    'elasticloadbalancing:DescribeTargetGroups',
    'ec2:DescribeNetworkInterfaces',
  ],
  'AWS::ElasticLoadBalancingV2::LoadBalancer': [
    'elasticloadbalancing:CreateLoadBalancer',
    'elasticloadbalancing:DescribeLoadBalancers',
    'elasticloadbalancing:ModifyLoadBalancerAttributes',
    'elasticloadbalancing:SetSecurityGroups',
    'elasticloadbalancing:DeleteLoadBalancer',
    'elasticloadbalancing:AddTags',
    'ec2:DescribeSubnets',
  ],
  'AWS::ElasticLoadBalancingV2::Listener': [
    'elasticloadbalancing:CreateListener',
    'elasticloadbalancing:DescribeListeners',
    'elasticloadbalancing:ModifyListener',
    'elasticloadbalancing:DeleteListener',
  ],
  'AWS::ElasticLoadBalancingV2::TargetGroup': [
    'elasticloadbalancing:CreateTargetGroup',
    'elasticloadbalancing:DescribeTargetGroups',
    'elasticloadbalancing:ModifyTargetGroup',
    'elasticloadbalancing:ModifyTargetGroupAttributes',
    'elasticloadbalancing:DeleteTargetGroup',
    'elasticloadbalancing:AddTags',
  ],
};

/** Service-linked roles the first resource of a type creates (with iam:AWSServiceName). */
const SERVICE_LINKED: Record<string, string> = {
  'AWS::ECS::Service': 'ecs.amazonaws.com',
  'AWS::ElasticLoadBalancingV2::LoadBalancer': 'elasticloadbalancing.amazonaws.com',
  'AWS::ApiGatewayV2::DomainName': 'ops.apigateway.amazonaws.com',
};

/** Resource types with no own lifecycle calls beyond what `specific` below makes. */
const HANDLED_BELOW = new Set([
  'AWS::CDK::Metadata',
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::Lambda::Permission',
  'AWS::Lambda::EventSourceMapping',
  'AWS::SQS::QueuePolicy',
  'AWS::SNS::TopicPolicy',
  'AWS::SNS::Subscription',
  'AWS::Budgets::Budget',
  'AWS::SecretsManager::ResourcePolicy',
]);

/** The value of the stage tag a resource's properties give it, if any (list or map of tags). */
export const stageTagOf = (props: Record<string, unknown> = {}): string | undefined => {
  const tags = props.Tags;
  const value = Array.isArray(tags)
    ? (tags as { Key: string; Value: unknown }[]).find((tag) => tag.Key === STAGE_COST_TAG)?.Value
    : (tags as Record<string, unknown> | undefined)?.[STAGE_COST_TAG];
  return typeof value === 'string' ? value : undefined;
};

/** `aws:ResourceTag` and `aws:RequestTag` of the stage tag, when the resource carries it. */
const stageTagContext = (props: Record<string, unknown>): AccessRequest['context'] => {
  const value = stageTagOf(props);
  return value === undefined
    ? {}
    : { [`aws:ResourceTag/${STAGE_COST_TAG}`]: value, [`aws:RequestTag/${STAGE_COST_TAG}`]: value };
};

/** Whether `requestsOf` knows what CloudFormation calls for a resource type. */
export const knowsResourceType = (type: string): boolean =>
  type in LIFECYCLE || type in UNNAMED || HANDLED_BELOW.has(type) || type.startsWith('Custom::');

/** Every request CloudFormation makes to create, update and delete the template's resources. */
export const requestsOf = (
  template: TemplateJson,
  env: DeploymentEnvironment,
): DeploymentRequest[] => {
  const resolve = (value: unknown) => resolveIntrinsics(value, env);
  const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);
  const requests: DeploymentRequest[] = [];
  const add = (
    id: string,
    actions: string[],
    resource: string,
    context?: AccessRequest['context'],
  ) => {
    for (const action of actions) requests.push({ for: id, action, resource, context });
  };
  const boundaryOf = (roleRef: unknown): string | undefined => {
    const roleId = Object.entries(template.Resources).find(
      ([id, r]) => r.Type === 'AWS::IAM::Role' && env.refs?.[id] === roleRef,
    )?.[1];
    const boundary = roleId?.Properties?.PermissionsBoundary;
    return boundary === undefined ? undefined : String(resolve(boundary));
  };
  const roleArn = (name: string) => `arn:aws:iam::${env.account}:role/${name}`;
  const functionArn = (nameOrArn: string) =>
    nameOrArn.startsWith('arn:')
      ? nameOrArn
      : `arn:aws:lambda:${env.region}:${env.account}:function:${nameOrArn}`;
  const queueArn = (url: string) => {
    const [, , , account, name] = url.split('/');
    return `arn:aws:sqs:${env.region}:${account}:${name}`;
  };

  for (const [id, resource] of Object.entries(template.Resources)) {
    const props = resource.Properties ?? {};
    const attr = (attribute: string) => env.attributes?.[`${id}.${attribute}`] ?? '';
    const lifecycle = LIFECYCLE[resource.Type];
    if (lifecycle) add(id, lifecycle.actions, lifecycle.arn(env.refs?.[id] ?? '', attr));
    const unnamed = UNNAMED[resource.Type];
    // The stack tags what it creates: the calls on it carry the tag, as resource and request tag.
    if (unnamed) add(id, unnamed, '*', stageTagContext(props));
    const linked = SERVICE_LINKED[resource.Type];
    if (linked) {
      add(
        id,
        ['iam:CreateServiceLinkedRole'],
        `arn:aws:iam::${env.account}:role/aws-service-role/${linked}/x`,
        {
          'iam:AWSServiceName': linked,
        },
      );
    }
    // Dynamic references are resolved with the execution role.
    for (const match of JSON.stringify(resolve(props)).matchAll(
      /\{\{resolve:secretsmanager:([^:}]+)/g,
    )) {
      add(
        id,
        ['secretsmanager:GetSecretValue'],
        `arn:aws:secretsmanager:${env.region}:${env.account}:secret:${match[1]}`,
      );
    }
    switch (resource.Type) {
      case 'AWS::IAM::Role': {
        const name = env.refs![id]!;
        const boundary: Record<string, string> =
          props.PermissionsBoundary === undefined
            ? {}
            : { 'iam:PermissionsBoundary': String(resolve(props.PermissionsBoundary)) };
        add(
          id,
          ['iam:CreateRole', 'iam:PutRolePolicy', 'iam:DeleteRolePolicy'],
          roleArn(name),
          boundary,
        );
        add(
          id,
          // No iam:UpdateAssumeRolePolicy: CloudFormation calls it only when a template changes
          // a role's trust, which the execution policy refuses (a new role is created instead).
          [
            'iam:GetRole',
            'iam:TagRole',
            'iam:UntagRole',
            'iam:ListRolePolicies',
            'iam:ListAttachedRolePolicies',
            'iam:DeleteRole',
            'iam:UpdateRoleDescription',
          ],
          roleArn(name),
        );
        for (const policy of asArray(props.ManagedPolicyArns ?? [])) {
          add(id, ['iam:AttachRolePolicy', 'iam:DetachRolePolicy'], roleArn(name), {
            ...boundary,
            'iam:PolicyARN': String(resolve(policy)),
          });
        }
        break;
      }
      case 'AWS::IAM::Policy':
        for (const role of asArray(props.Roles)) {
          const name = String(resolve(role));
          const boundary = boundaryOf(name);
          add(
            id,
            ['iam:PutRolePolicy', 'iam:DeleteRolePolicy'],
            roleArn(name),
            boundary ? { 'iam:PermissionsBoundary': boundary } : {},
          );
          add(id, ['iam:GetRolePolicy'], roleArn(name));
        }
        break;
      case 'AWS::Lambda::Function':
        add(id, ['iam:PassRole'], String(resolve(props.Role)), {
          'iam:PassedToService': 'lambda.amazonaws.com',
        });
        if (props.Code && (props.Code as { S3Bucket?: unknown }).S3Bucket !== undefined) {
          const code = resolve(props.Code) as { S3Bucket: string; S3Key: string };
          add(id, ['s3:GetObject'], `arn:aws:s3:::${code.S3Bucket}/${code.S3Key}`);
        }
        break;
      case 'AWS::ECS::TaskDefinition':
        for (const key of ['TaskRoleArn', 'ExecutionRoleArn']) {
          if (props[key] !== undefined) {
            add(id, ['iam:PassRole'], String(resolve(props[key])), {
              'iam:PassedToService': 'ecs-tasks.amazonaws.com',
            });
          }
        }
        break;
      case 'AWS::Lambda::Permission':
        add(
          id,
          ['lambda:AddPermission', 'lambda:RemovePermission', 'lambda:GetPolicy'],
          functionArn(String(resolve(props.FunctionName))),
          { 'lambda:Principal': String(resolve(props.Principal)) },
        );
        break;
      case 'AWS::Lambda::EventSourceMapping': {
        const context = { 'lambda:FunctionArn': functionArn(String(resolve(props.FunctionName))) };
        add(id, ['lambda:CreateEventSourceMapping'], '*', context);
        add(
          id,
          [
            'lambda:GetEventSourceMapping',
            'lambda:UpdateEventSourceMapping',
            'lambda:DeleteEventSourceMapping',
          ],
          `arn:aws:lambda:${env.region}:${env.account}:event-source-mapping:0123`,
          context,
        );
        add(id, ['lambda:ListEventSourceMappings'], '*');
        break;
      }
      case 'AWS::SQS::QueuePolicy':
        for (const queue of asArray(props.Queues)) {
          add(
            id,
            ['sqs:SetQueueAttributes', 'sqs:GetQueueAttributes'],
            queueArn(String(resolve(queue))),
          );
        }
        break;
      case 'AWS::SNS::TopicPolicy':
        for (const topic of asArray(props.Topics)) {
          add(id, ['sns:SetTopicAttributes', 'sns:GetTopicAttributes'], String(resolve(topic)));
        }
        break;
      case 'AWS::SecretsManager::ResourcePolicy':
        // The handler's permissions in the resource type's CloudFormation schema; it passes
        // BlockPublicPolicy to PutResourcePolicy, the request's secretsmanager:BlockPublicPolicy.
        add(
          id,
          ['secretsmanager:GetResourcePolicy', 'secretsmanager:DeleteResourcePolicy'],
          String(resolve(props.SecretId)),
        );
        add(id, ['secretsmanager:PutResourcePolicy'], String(resolve(props.SecretId)), {
          'secretsmanager:BlockPublicPolicy': String(props.BlockPublicPolicy === true),
        });
        break;
      case 'AWS::SNS::Subscription':
        add(
          id,
          ['sns:Subscribe', 'sns:Unsubscribe', 'sns:GetSubscriptionAttributes'],
          String(resolve(props.TopicArn)),
        );
        break;
      case 'AWS::Budgets::Budget': {
        const name = (resolve(props.Budget) as { BudgetName: string }).BudgetName;
        add(
          id,
          ['budgets:ModifyBudget', 'budgets:ViewBudget'],
          `arn:aws:budgets::${env.account}:budget/${name}`,
        );
        break;
      }
      case 'AWS::ApiGatewayV2::Stage':
        if (props.AccessLogSettings !== undefined) {
          // https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging.html
          add(
            id,
            [
              'logs:CreateLogDelivery',
              'logs:GetLogDelivery',
              'logs:UpdateLogDelivery',
              'logs:DeleteLogDelivery',
              'logs:ListLogDeliveries',
              'logs:PutResourcePolicy',
              'logs:DescribeResourcePolicies',
              'logs:DescribeLogGroups',
            ],
            '*',
          );
        }
        break;
      case 'AWS::Logs::LogGroup':
      case 'AWS::CloudWatch::Alarm':
        add(
          id,
          [
            resource.Type === 'AWS::Logs::LogGroup'
              ? 'logs:DescribeLogGroups'
              : 'cloudwatch:DescribeAlarms',
          ],
          '*',
        );
        break;
      case 'AWS::SecretsManager::Secret':
        if (props.GenerateSecretString !== undefined)
          add(id, ['secretsmanager:GetRandomPassword'], '*');
        break;
      default:
        if (resource.Type.startsWith('Custom::')) {
          // CloudFormation invokes the provider function of a custom resource.
          add(id, ['lambda:InvokeFunction'], functionArn(String(resolve(props.ServiceToken))));
        }
    }
  }
  return requests;
};
