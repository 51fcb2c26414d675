/**
 * A stage's resources whose ids AWS assigns at creation (network, load balancer, ECS, API
 * Gateway, certificates, DNS records), as the *other* stage's deployment could aim at them:
 * for each, the calls that would change it, on its ARN, with the stage tag in the request when
 * AWS puts it there. The execution policy grants these services on `*` and refuses a resource
 * tagged for another stage (bootstrap/stage-policies.ts, NoOtherStagesResources), so whether
 * `aws:ResourceTag/iot-playground:stage` reaches IAM decides whether the stages are apart:
 *
 *  - the resource must carry the tag (the stack tags every resource that takes tags), and
 *  - its IAM resource type must support `aws:ResourceTag`, per the Service Authorization
 *    Reference (SAR): EC2 https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html,
 *    ELB https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticloadbalancingv2.html,
 *    ECS https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html,
 *    ACM https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscertificatemanager.html,
 *    API Gateway V2 https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonapigatewaymanagementv2.html,
 *    Route 53 https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonroute53.html
 *    (no tag condition on record changes).
 *
 * API Gateway lets only APIs, stages, domain names and VPC links carry tags, and in its V2 API
 * (HTTP APIs) child resources do not inherit them, except API mappings, which inherit their
 * domain name's (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-tagging-supported-resources.html).
 * So an HTTP API's routes, integrations and authorizers, and Route 53 records, stay within
 * reach of the other stage in a shared account: SHARED_ACCOUNT_EXPOSURES, documented in
 * docs/security.md and accepted at bootstrap with `-c sharedAccount=acknowledged`.
 */
import { STAGE_COST_TAG } from '../constructs/budget.ts';
import { stageTagOf, type TemplateJson } from './deployment-requests.ts';
import type { AccessRequest } from './policy-evaluation.ts';

export interface TargetRequest extends AccessRequest {
  /** The logical id of the resource aimed at, and its type. */
  for: string;
  type: string;
  /** Why the stage tag cannot reach IAM for this request, when it cannot. */
  exposure?: string;
}

interface Target {
  /** The ARN AWS authorizes the calls on (ids are placeholders: they exist only once created). */
  arn: (id: string, arn: (service: string, rest: string) => string) => string;
  actions: string[];
  /** Where the tag comes from: the resource's own Tags, its parent's, or none (exposure). */
  tag: { own: true } | { inheritedFrom: string } | { exposure: string };
}

const placeholder = (id: string) => id.toLowerCase().slice(0, 17);

const API_CHILD =
  'HTTP API child resources neither carry nor inherit tags, so no aws:ResourceTag reaches IAM';

/** Per CloudFormation type: what the other stage would call on it. */
const TARGETS: Record<string, Target> = {
  'AWS::EC2::VPC': {
    arn: (id, arn) => arn('ec2', `vpc/vpc-${placeholder(id)}`),
    actions: [
      'ec2:CreateSubnet',
      'ec2:CreateRouteTable',
      'ec2:CreateSecurityGroup',
      'ec2:AttachInternetGateway',
      'ec2:ModifyVpcAttribute',
      'ec2:DeleteVpc',
      'ec2:DeleteTags',
    ],
    tag: { own: true },
  },
  'AWS::EC2::Subnet': {
    arn: (id, arn) => arn('ec2', `subnet/subnet-${placeholder(id)}`),
    actions: ['ec2:ModifySubnetAttribute', 'ec2:AssociateRouteTable', 'ec2:DeleteSubnet'],
    tag: { own: true },
  },
  'AWS::EC2::RouteTable': {
    arn: (id, arn) => arn('ec2', `route-table/rtb-${placeholder(id)}`),
    actions: ['ec2:CreateRoute', 'ec2:ReplaceRoute', 'ec2:DeleteRoute', 'ec2:DeleteRouteTable'],
    tag: { own: true },
  },
  'AWS::EC2::InternetGateway': {
    arn: (id, arn) => arn('ec2', `internet-gateway/igw-${placeholder(id)}`),
    actions: ['ec2:DetachInternetGateway', 'ec2:DeleteInternetGateway'],
    tag: { own: true },
  },
  'AWS::EC2::SecurityGroup': {
    arn: (id, arn) => arn('ec2', `security-group/sg-${placeholder(id)}`),
    actions: [
      'ec2:AuthorizeSecurityGroupIngress',
      'ec2:AuthorizeSecurityGroupEgress',
      'ec2:RevokeSecurityGroupIngress',
      'ec2:RevokeSecurityGroupEgress',
      'ec2:DeleteSecurityGroup',
      'ec2:CreateTags',
    ],
    tag: { own: true },
  },
  'AWS::ElasticLoadBalancingV2::LoadBalancer': {
    arn: (id, arn) => arn('elasticloadbalancing', `loadbalancer/app/${placeholder(id)}/0123`),
    actions: [
      'elasticloadbalancing:CreateListener',
      'elasticloadbalancing:ModifyLoadBalancerAttributes',
      'elasticloadbalancing:SetSecurityGroups',
      'elasticloadbalancing:DeleteLoadBalancer',
      'elasticloadbalancing:RemoveTags',
    ],
    tag: { own: true },
  },
  'AWS::ElasticLoadBalancingV2::Listener': {
    arn: (id, arn) => arn('elasticloadbalancing', `listener/app/grafana/0123/${placeholder(id)}`),
    actions: [
      'elasticloadbalancing:CreateRule',
      'elasticloadbalancing:ModifyListener',
      'elasticloadbalancing:DeleteListener',
    ],
    tag: { own: true },
  },
  'AWS::ElasticLoadBalancingV2::TargetGroup': {
    arn: (id, arn) => arn('elasticloadbalancing', `targetgroup/${placeholder(id)}/0123`),
    actions: [
      'elasticloadbalancing:RegisterTargets',
      'elasticloadbalancing:ModifyTargetGroup',
      'elasticloadbalancing:DeleteTargetGroup',
    ],
    tag: { own: true },
  },
  'AWS::ECS::Cluster': {
    arn: (id, arn) => arn('ecs', `cluster/${placeholder(id)}`),
    actions: ['ecs:UpdateCluster', 'ecs:PutClusterCapacityProviders', 'ecs:DeleteCluster'],
    tag: { own: true },
  },
  'AWS::ECS::Service': {
    arn: (id, arn) => arn('ecs', `service/grafana/${placeholder(id)}`),
    actions: ['ecs:UpdateService', 'ecs:DeleteService'],
    tag: { own: true },
  },
  'AWS::ECS::TaskDefinition': {
    arn: (id, arn) => arn('ecs', `task-definition/${placeholder(id)}:1`),
    actions: ['ecs:RunTask', 'ecs:DeregisterTaskDefinition'],
    tag: { own: true },
  },
  'AWS::CertificateManager::Certificate': {
    arn: (id, arn) => arn('acm', `certificate/${placeholder(id)}`),
    actions: ['acm:DeleteCertificate', 'acm:RemoveTagsFromCertificate'],
    tag: { own: true },
  },
  'AWS::ApiGatewayV2::Api': {
    arn: (id, arn) => arn('apigateway', `/apis/${placeholder(id)}`),
    actions: ['apigateway:PATCH', 'apigateway:DELETE'],
    tag: { own: true },
  },
  'AWS::ApiGatewayV2::Stage': {
    arn: (id, arn) => arn('apigateway', `/apis/api/stages/${placeholder(id)}`),
    actions: ['apigateway:PATCH', 'apigateway:DELETE'],
    tag: { own: true },
  },
  'AWS::ApiGatewayV2::DomainName': {
    arn: (id, arn) => arn('apigateway', `/domainnames/${placeholder(id)}`),
    actions: ['apigateway:PATCH', 'apigateway:DELETE'],
    tag: { own: true },
  },
  'AWS::ApiGatewayV2::ApiMapping': {
    arn: (id, arn) => arn('apigateway', `/domainnames/domain/apimappings/${placeholder(id)}`),
    actions: ['apigateway:PATCH', 'apigateway:DELETE'],
    tag: { inheritedFrom: 'DomainName' },
  },
  'AWS::ApiGatewayV2::Route': {
    arn: (id, arn) => arn('apigateway', `/apis/api/routes/${placeholder(id)}`),
    actions: ['apigateway:PATCH', 'apigateway:DELETE'],
    tag: { exposure: API_CHILD },
  },
  'AWS::ApiGatewayV2::Integration': {
    arn: (id, arn) => arn('apigateway', `/apis/api/integrations/${placeholder(id)}`),
    actions: ['apigateway:PATCH', 'apigateway:DELETE'],
    tag: { exposure: API_CHILD },
  },
  'AWS::ApiGatewayV2::Authorizer': {
    arn: (id, arn) => arn('apigateway', `/apis/api/authorizers/${placeholder(id)}`),
    actions: ['apigateway:PATCH', 'apigateway:DELETE'],
    tag: { exposure: API_CHILD },
  },
  'AWS::Route53::RecordSet': {
    arn: (id) => `arn:aws:route53:::hostedzone/Z${placeholder(id).toUpperCase()}`,
    actions: ['route53:ChangeResourceRecordSets'],
    tag: {
      exposure: 'Route 53 record changes take no tag condition; the hosted zone is not the stack’s',
    },
  },
};

/** What a shared account leaves open to the other stage, by CloudFormation type. */
export const SHARED_ACCOUNT_EXPOSURES = Object.entries(TARGETS)
  .filter(([, target]) => 'exposure' in target.tag)
  .map(([type]) => type);

/** The calls the other stage could aim at this template's resources, with their tag context. */
export const targetRequests = (
  template: TemplateJson,
  env: { account: string; region: string },
): TargetRequest[] => {
  const arn = (service: string, rest: string) =>
    service === 'apigateway'
      ? `arn:aws:apigateway:${env.region}::${rest}`
      : `arn:aws:${service}:${env.region}:${env.account}:${rest}`;
  const requests: TargetRequest[] = [];
  for (const [id, resource] of Object.entries(template.Resources)) {
    const target = TARGETS[resource.Type];
    if (target === undefined) continue;
    let tag: string | undefined;
    let exposure: string | undefined;
    if ('own' in target.tag) tag = stageTagOf(resource.Properties);
    else if ('inheritedFrom' in target.tag) {
      const parent = resource.Properties?.[target.tag.inheritedFrom] as { Ref?: string } | string;
      const parentId = typeof parent === 'object' ? parent.Ref : undefined;
      const parentResource = parentId === undefined ? undefined : template.Resources[parentId];
      tag = stageTagOf(parentResource?.Properties);
    } else exposure = target.tag.exposure;
    if (exposure === undefined && tag === undefined) {
      exposure = `${resource.Type} ${id} carries no ${STAGE_COST_TAG} tag`;
    }
    for (const action of target.actions) {
      requests.push({
        for: id,
        type: resource.Type,
        action,
        resource: target.arn(id, arn),
        // Route 53 and API Gateway ARNs name no account: the resource is the stage's.
        resourceAccount: env.account,
        context: tag === undefined ? {} : { [`aws:ResourceTag/${STAGE_COST_TAG}`]: tag },
        ...(exposure === undefined ? {} : { exposure }),
      });
    }
  }
  return requests;
};
