/**
 * The stage policies proven by evaluation (iam/policy-evaluation.ts, AWS's evaluation logic):
 * the synthesized execution policy and permissions boundary are evaluated against the requests
 * an attacker's template would make, and against every request a real deployment of the
 * synthesized app makes.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { featureFlags } from '../create-app.ts';
import {
  deploymentEnvironment,
  knowsResourceType,
  requestsOf,
  type TemplateJson,
} from '../iam/deployment-requests.ts';
import { resolveIntrinsics } from '../iam/intrinsics.ts';
import { decide, type PolicyDocument, type Principal } from '../iam/policy-evaluation.ts';
import { executionPolicyName, permissionsBoundaryName, type StageName } from '../stage-config.ts';
import { synthesize, type Synthesized } from '../test-support.ts';
import { DEPLOYED_SERVICES, ROLE_SERVICES, StagePoliciesStack } from './stage-policies.ts';

const ACCOUNT = '111111111111';
const REGION = 'eu-west-1';
const env = { account: ACCOUNT, region: REGION };

const build = (stage: StageName) => {
  const app = new App({ context: featureFlags() });
  const stack = new StagePoliciesStack(app, `IotPlayground-${stage}-cdk-policies`, { stage, env });
  return { app, template: Template.fromStack(stack) };
};

const managedPolicy = (template: Template, name: string): PolicyDocument => {
  const [policy] = Object.values(template.findResources('AWS::IAM::ManagedPolicy')).filter(
    (resource) => resource.Properties.ManagedPolicyName === name,
  );
  expect(policy, name).toBeDefined();
  return resolveIntrinsics(policy!.Properties.PolicyDocument, env) as PolicyDocument;
};

const policies = (stage: StageName) => {
  const { template } = build(stage);
  return {
    execution: { identity: [managedPolicy(template, executionPolicyName(stage))] } as Principal,
    boundary: managedPolicy(template, permissionsBoundaryName(stage)),
  };
};

const dev = policies('dev');
const prod = policies('prod');
const BOUNDARY = {
  dev: `arn:aws:iam::${ACCOUNT}:policy/${permissionsBoundaryName('dev')}`,
  prod: `arn:aws:iam::${ACCOUNT}:policy/${permissionsBoundaryName('prod')}`,
};
const arn = (service: string, rest: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${rest}`;
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;

describe('the dev execution policy (what a dev template can make CloudFormation do)', () => {
  const can = (action: string, resource: string, context?: Record<string, string>) =>
    decide(dev.execution, { action, resource, context });

  it('creates or edits a stage role only with the stage boundary', () => {
    const stageRole = role('IotPlayground-dev-ingestRole-X');
    for (const action of [
      'iam:CreateRole',
      'iam:PutRolePolicy',
      'iam:PutRolePermissionsBoundary',
    ]) {
      expect(can(action, stageRole), `${action} without a boundary`).toBe('explicit-deny');
      expect(can(action, stageRole, { 'iam:PermissionsBoundary': BOUNDARY.prod }), action).toBe(
        'explicit-deny',
      );
      expect(can(action, stageRole, { 'iam:PermissionsBoundary': BOUNDARY.dev }), action).toBe(
        'allow',
      );
    }
    // Not even with the boundary outside the stage's names (an admin role of the account).
    expect(can('iam:CreateRole', role('Admin'), { 'iam:PermissionsBoundary': BOUNDARY.dev })).toBe(
      'implicit-deny',
    );
    expect(
      can('iam:CreateRole', role('IotPlayground-prod-x'), {
        'iam:PermissionsBoundary': BOUNDARY.dev,
      }),
    ).toBe('implicit-deny');
  });

  it('attaches no managed policy but AWSLambdaBasicExecutionRole (never AdministratorAccess)', () => {
    const stageRole = role('IotPlayground-dev-x');
    const attach = (policy: string) =>
      can('iam:AttachRolePolicy', stageRole, {
        'iam:PermissionsBoundary': BOUNDARY.dev,
        'iam:PolicyARN': policy,
      });
    expect(attach('arn:aws:iam::aws:policy/AdministratorAccess')).toBe('implicit-deny');
    expect(attach('arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole')).toBe(
      'allow',
    );
  });

  it('never removes or changes a boundary', () => {
    expect(can('iam:DeleteRolePermissionsBoundary', role('IotPlayground-dev-x'))).toBe(
      'explicit-deny',
    );
    for (const action of [
      'iam:CreatePolicyVersion',
      'iam:SetDefaultPolicyVersion',
      'iam:DeletePolicy',
    ]) {
      expect(can(action, BOUNDARY.dev), action).toBe('explicit-deny');
    }
  });

  it('passes a role only to the services the app uses, and only the stage’s roles', () => {
    const stageRole = role('IotPlayground-dev-ingestRole-X');
    for (const service of ROLE_SERVICES) {
      expect(can('iam:PassRole', stageRole, { 'iam:PassedToService': service }), service).toBe(
        'allow',
      );
    }
    for (const service of [
      'ec2.amazonaws.com',
      'ecs.amazonaws.com',
      'codebuild.amazonaws.com',
      'glue.amazonaws.com',
      'cloudformation.amazonaws.com',
    ]) {
      expect(can('iam:PassRole', stageRole, { 'iam:PassedToService': service }), service).toBe(
        'implicit-deny',
      );
    }
    expect(can('iam:PassRole', stageRole)).toBe('implicit-deny');
    for (const other of [
      'Admin',
      'IotPlayground-prod-ingestRole-X',
      'cdk-iotpgdev-cfn-exec-role-1-r',
    ]) {
      expect(
        can('iam:PassRole', role(other), { 'iam:PassedToService': 'lambda.amazonaws.com' }),
        other,
      ).toBe('implicit-deny');
    }
  });

  it('reads no secret that is not the stage’s (dynamic references resolve with this policy)', () => {
    expect(
      can('secretsmanager:GetSecretValue', arn('secretsmanager', 'secret:prod/db-password-AbCdEf')),
    ).toBe('implicit-deny');
    expect(
      can(
        'secretsmanager:GetSecretValue',
        arn('secretsmanager', 'secret:IotPlayground-prod-grafana-admin-AbCdEf'),
      ),
    ).toBe('implicit-deny');
    expect(
      can(
        'secretsmanager:GetSecretValue',
        arn('secretsmanager', 'secret:IotPlayground-dev-grafana-admin-AbCdEf'),
      ),
    ).toBe('allow');
  });

  it('changes the code of no function that is not the stage’s', () => {
    for (const name of ['billing-export', 'IotPlayground-prod-ingestFunction-X']) {
      expect(can('lambda:UpdateFunctionCode', arn('lambda', `function:${name}`)), name).toBe(
        'implicit-deny',
      );
      expect(can('lambda:AddPermission', arn('lambda', `function:${name}`)), name).toBe(
        'implicit-deny',
      );
    }
    expect(
      can(
        'lambda:UpdateFunctionCode',
        arn('lambda', 'function:IotPlayground-dev-ingestFunction-X'),
      ),
    ).toBe('allow');
    // Nor feed another function from a queue.
    expect(
      decide(dev.execution, {
        action: 'lambda:CreateEventSourceMapping',
        resource: '*',
        context: { 'lambda:FunctionArn': arn('lambda', 'function:billing-export') },
      }),
    ).toBe('implicit-deny');
  });

  it('puts no resource policy on a table or queue that is not the stage’s, nor reads them', () => {
    const table = arn('dynamodb', 'table/Customers');
    const queue = arn('sqs', 'payments');
    expect(can('dynamodb:PutResourcePolicy', table)).toBe('implicit-deny');
    expect(can('dynamodb:Scan', table)).toBe('implicit-deny');
    expect(
      can('dynamodb:DeleteTable', arn('dynamodb', 'table/IotPlayground-prod-TablesRuns-X')),
    ).toBe('implicit-deny');
    expect(can('sqs:SetQueueAttributes', queue)).toBe('implicit-deny');
    expect(can('sqs:AddPermission', queue)).toBe('implicit-deny');
    expect(can('sqs:ReceiveMessage', queue)).toBe('implicit-deny');
    expect(
      can('dynamodb:PutResourcePolicy', arn('dynamodb', 'table/IotPlayground-dev-TablesRuns-X')),
    ).toBe('allow');
    expect(can('sqs:SetQueueAttributes', arn('sqs', 'IotPlayground-dev-measurementsQueue-X'))).toBe(
      'allow',
    );
  });

  it('launches no instance and copies no snapshot (EC2 only for the VPC’s networking)', () => {
    for (const action of [
      'ec2:RunInstances',
      'ec2:ModifySnapshotAttribute',
      'ec2:CreateSnapshot',
      'ec2:GetPasswordData',
    ]) {
      expect(can(action, '*'), action).toBe('implicit-deny');
    }
  });

  it('touches nothing of IAM users, keys or the account, nor S3 outside its asset bucket', () => {
    for (const action of [
      'iam:CreateUser',
      'iam:CreateAccessKey',
      'iam:CreatePolicy',
      'organizations:LeaveOrganization',
      'kms:Decrypt',
    ]) {
      expect(can(action, '*'), action).toBe('implicit-deny');
    }
    expect(can('s3:GetObject', 'arn:aws:s3:::customer-exports/x')).toBe('implicit-deny');
    expect(
      can('s3:GetObject', `arn:aws:s3:::cdk-iotpgprod-assets-${ACCOUNT}-${REGION}/a.zip`),
    ).toBe('implicit-deny');
  });
});

describe('every request a real deployment makes is allowed', () => {
  const FULL = {
    component: 'full',
    corsOrigins: 'https://play.example.com',
    domainName: 'api.example.com',
    grafanaDomainName: 'grafana.example.com',
    hostedZoneName: 'example.com',
    hostedZoneId: 'Z0123456789ABCDEFGHIJ',
    alarmEmail: 'ops@example.com',
    jwtIssuer: 'https://auth.example.com',
    jwtAudience: 'iot',
    // The infrastructure panel: its secret, the secret's policy and the function's grants.
    githubRepository: 'owner/iot-playground-serverless',
  };
  const OIDC = {
    grafanaOidcIssuer: 'https://id.example.com',
    grafanaOidcAuthorizationEndpoint: 'https://id.example.com/authorize',
    grafanaOidcTokenEndpoint: 'https://id.example.com/token',
    grafanaOidcUserInfoEndpoint: 'https://id.example.com/userinfo',
    grafanaOidcClientId: 'grafana',
  };
  const cases = [
    { stage: 'dev', component: 'lambdas' },
    {
      stage: 'dev',
      ...FULL,
      ...OIDC,
      grafanaOidcClientSecretName: 'IotPlayground-dev-grafana-oidc',
    },
    { stage: 'prod', component: 'lambdas', corsOrigins: '*', alarmEmail: 'ops@example.com' },
    {
      stage: 'prod',
      ...FULL,
      ...OIDC,
      grafanaOidcClientSecretName: 'IotPlayground-prod-grafana-oidc',
    },
  ] as const;
  const synths: Synthesized[] = [];
  beforeAll(() => {
    for (const context of cases) synths.push(synthesize(context));
  });
  afterAll(() => synths.forEach((synth) => synth.dispose()));

  const deployment = (synth: Synthesized) => {
    const template = synth.template.toJSON() as TemplateJson;
    const environment = deploymentEnvironment(template, synth.stack.stackName, ACCOUNT, REGION);
    return { template, environment, requests: requestsOf(template, environment) };
  };

  it.each(cases.map((context, index) => [`${context.stage} ${context.component}`, index] as const))(
    '%s: every request allowed by its stage’s execution policy, none by the other’s',
    (_, index) => {
      const synth = synths[index]!;
      const { requests } = deployment(synth);
      expect(requests.length).toBeGreaterThan(100);
      const own = synth.config.stage === 'dev' ? dev : prod;
      const other = synth.config.stage === 'dev' ? prod : dev;
      const denied = requests
        .filter((request) => decide(own.execution, request) !== 'allow')
        .map((request) => `${request.for}: ${request.action} on ${request.resource}`);
      expect(denied).toEqual([]);
      // The other stage's policy refuses the stage's own data resources and roles.
      const crossing = requests.filter(
        (request) =>
          /^(dynamodb|sqs|lambda|secretsmanager|iam:CreateRole|iam:PassRole)/.test(
            request.action,
          ) && request.resource !== '*',
      );
      expect(crossing.length).toBeGreaterThan(20);
      for (const request of crossing) {
        expect(
          decide(other.execution, request),
          `${request.action} on ${request.resource}`,
        ).not.toBe('allow');
      }
    },
  );

  it('knows what CloudFormation calls for every resource type the app creates, and its IAM prefix', () => {
    const types = new Set(
      synths.flatMap((synth) =>
        Object.values(synth.template.toJSON().Resources as TemplateJson['Resources']).map(
          (r) => r.Type,
        ),
      ),
    );
    const iamPrefix: Record<string, string> = {
      ApiGatewayV2: 'apigateway',
      Budgets: 'budgets',
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
      expect(knowsResourceType(type), `deployment requests of ${type}`).toBe(true);
      if (type === 'AWS::CDK::Metadata') continue;
      // A custom resource is a Lambda function that CloudFormation invokes.
      const prefix = type.startsWith('Custom::') ? 'lambda' : iamPrefix[type.split('::')[1]!];
      expect(prefix, `IAM prefix of ${type}`).toBeDefined();
      needed.add(prefix!);
    }
    expect([...needed].sort()).toEqual([...DEPLOYED_SERVICES].sort());
    // The execution policy grants those services, the asset bucket and version, and nothing else.
    const granted = new Set(
      dev.execution.identity
        .flatMap((document) => [document.Statement].flat())
        .filter((statement) => statement.Effect === 'Allow')
        .flatMap((statement) => [statement.Action ?? []].flat())
        .map((action) => action.split(':')[0]),
    );
    expect([...granted].sort()).toEqual([...needed, 's3', 'ssm'].sort());
  });

  it('every permission of the app’s roles on the app’s resources survives the boundary', () => {
    for (const synth of synths) {
      const { template, environment } = deployment(synth);
      const boundary = synth.config.stage === 'dev' ? dev.boundary : prod.boundary;
      const roles = Object.entries(template.Resources).filter(
        ([, r]) => r.Type === 'AWS::IAM::Role',
      );
      for (const [roleId, roleResource] of roles) {
        const inline = Object.values(template.Resources)
          .filter(
            (r) =>
              r.Type === 'AWS::IAM::Policy' &&
              JSON.stringify(r.Properties?.Roles).includes(`"${roleId}"`),
          )
          .map((r) => r.Properties!.PolicyDocument);
        const own = (
          (roleResource.Properties?.Policies ?? []) as { PolicyDocument: unknown }[]
        ).map((p) => p.PolicyDocument);
        const documents = [...inline, ...own].map(
          (document) => resolveIntrinsics(document, environment) as PolicyDocument,
        );
        const identity: Principal = { identity: documents, boundary };
        for (const statement of documents.flatMap((document) => [document.Statement].flat())) {
          for (const action of [statement.Action ?? []].flat()) {
            for (const resource of [statement.Resource ?? []].flat()) {
              expect(
                decide(identity, { action, resource }),
                `${synth.stack.stackName} ${roleId}: ${action} on ${resource}`,
              ).toBe('allow');
            }
          }
        }
      }
    }
  });
});

describe('the permissions boundary (what any role of the stage can ever do)', () => {
  const anything: PolicyDocument = { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
  const underDev: Principal = { identity: [anything], boundary: dev.boundary };

  it('leaves a role granted *:* by a template nothing outside the stage', () => {
    const outside: [string, string][] = [
      ['iam:CreateUser', '*'],
      ['iam:AttachRolePolicy', role('Admin')],
      ['sts:AssumeRole', role('OrganizationAccountAccessRole')],
      ['dynamodb:GetItem', arn('dynamodb', 'table/Customers')],
      ['dynamodb:Scan', arn('dynamodb', 'table/IotPlayground-prod-TablesSensorData-X')],
      ['sqs:ReceiveMessage', arn('sqs', 'IotPlayground-prod-measurementsQueue-X')],
      ['secretsmanager:GetSecretValue', arn('secretsmanager', 'secret:prod/db-AbCdEf')],
      ['s3:GetObject', 'arn:aws:s3:::customer-exports/x'],
      ['lambda:UpdateFunctionCode', arn('lambda', 'function:IotPlayground-dev-ingest-X')],
      ['ec2:RunInstances', '*'],
      ['logs:GetLogEvents', arn('logs', 'log-group:/aws/lambda/billing:*')],
    ];
    for (const [action, resource] of outside) {
      expect(decide(underDev, { action, resource }), `${action} on ${resource}`).toBe(
        'implicit-deny',
      );
    }
  });

  it('still lets the stage’s roles use the stage’s data', () => {
    const inside: [string, string][] = [
      ['dynamodb:Query', arn('dynamodb', 'table/IotPlayground-dev-TablesSensorData-X/index/byRun')],
      ['sqs:SendMessage', arn('sqs', 'IotPlayground-dev-measurementsQueue-X')],
      ['logs:PutLogEvents', arn('logs', 'log-group:IotPlayground-dev-ingestLogGroup-X:*')],
      [
        'logs:PutLogEvents',
        arn('logs', 'log-group:/aws/lambda/IotPlayground-dev-CustomVpcRestrictDefaultSG-X:*'),
      ],
      [
        'secretsmanager:GetSecretValue',
        arn('secretsmanager', 'secret:IotPlayground-dev-grafana-admin-AbCdEf'),
      ],
    ];
    for (const [action, resource] of inside) {
      expect(decide(underDev, { action, resource }), `${action} on ${resource}`).toBe('allow');
    }
  });
});

describe('policy stacks', () => {
  it('are cdk-nag AwsSolutions clean', () => {
    for (const stage of ['dev', 'prod'] as const) {
      const { app } = build(stage);
      expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
    }
  });
});
