/**
 * The stage policies proven by evaluation (iam/policy-evaluation.ts, AWS's evaluation logic):
 * the synthesized execution policy and permissions boundary answer the catalogue's questions
 * (iam/policy-catalogue.ts, the same ones `npm run check:policies` asks AWS) — an attacker
 * template's requests, every request a real deployment of each app variant makes, and what
 * the other stage could aim at — in both account layouts.
 */
import { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { featureFlags } from '../create-app.ts';
import { knowsResourceType, type TemplateJson } from '../iam/deployment-requests.ts';
import type { PolicyCatalogue, PropertyId } from '../iam/policy-catalogue.ts';
import { SHARED_ACCOUNT_EXPOSURES } from '../iam/stage-resources.ts';
import {
  APP_VARIANTS,
  catalogueOf,
  type Layout,
  LAYOUTS,
  questionsOf,
  unmet,
} from '../iam/test-support.ts';
import type { StageName } from '../stage-config.ts';
import { synthesize, type Synthesized } from '../test-support.ts';
import { DEPLOYED_SERVICES, StagePoliciesStack } from './stage-policies.ts';

const variants = Object.entries(APP_VARIANTS);
const synths = new Map<string, Synthesized>();
beforeAll(() => {
  for (const [name, context] of variants) synths.set(name, synthesize(context));
});
afterAll(() => synths.forEach((synth) => synth.dispose()));

const catalogues = (layout: Layout): [string, PolicyCatalogue][] =>
  variants.map(([name, context]) => [
    name,
    catalogueOf(layout, context.stage as StageName, synths.get(name)),
  ]);

/** Each property: every question asked, every answer as the design says. */
const PROPERTIES: [PropertyId, number][] = [
  // [property, questions at least (per stage and variant)]
  ['stage-boundary', 12],
  ['boundary-kept', 9],
  ['pass-role', 9],
  ['data-scope', 25],
  ['never-public', 12],
  ['stages-apart', 20],
  ['deploys', 100],
  ['boundary-contains', 16],
  ['app-roles', 10],
];

describe.each(Object.keys(LAYOUTS) as Layout[])('%s', (layout) => {
  it.each(PROPERTIES)('%s: every question answered as designed', (property, atLeast) => {
    for (const [name, catalogue] of catalogues(layout)) {
      expect(questionsOf(catalogue, property).length, name).toBeGreaterThanOrEqual(atLeast);
      expect(unmet(catalogue, property), `${name} (${catalogue.layout})`).toEqual([]);
    }
  });
});

describe('issue 27, finding 2: a shared account', () => {
  it('tells the stages’ network, load balancer, ECS, certificate and API resources apart by tag', () => {
    const [, prodFull] = catalogues('one account').find(([name]) => name === 'prod full')!;
    const fenced = questionsOf(prodFull, 'stages-apart').filter(
      (q) =>
        q.kind === 'access' &&
        /^(ec2|elasticloadbalancing|ecs|acm|apigateway):/.test(q.request.action),
    );
    // The examples of the finding: a listener rule on prod's Grafana load balancer, opening
    // prod's security groups, changing prod's API: each denied by the tag fence.
    for (const action of [
      'elasticloadbalancing:CreateRule',
      'ec2:AuthorizeSecurityGroupIngress',
      'apigateway:PATCH',
      'ecs:UpdateService',
      'acm:DeleteCertificate',
    ]) {
      expect(
        fenced.filter((q) => q.kind === 'access' && q.request.action === action).length,
        action,
      ).toBeGreaterThan(0);
    }
    expect(unmet(prodFull, 'stages-apart')).toEqual([]);
  });

  it('leaves open only the documented exposures, and only in one account', () => {
    for (const layout of Object.keys(LAYOUTS) as Layout[]) {
      for (const [name, catalogue] of catalogues(layout)) {
        const exposed = questionsOf(catalogue, 'shared-account');
        expect(unmet(catalogue, 'shared-account'), `${name} ${layout}`).toEqual([]);
        for (const question of exposed) {
          if (question.kind !== 'access') continue;
          expect(question.expect, question.id).toBe(
            layout === 'one account' ? 'allow' : 'implicit-deny',
          );
          expect(
            SHARED_ACCOUNT_EXPOSURES.some((type) => question.id.includes(type)),
            question.id,
          ).toBe(true);
        }
      }
    }
    // With a custom domain, prod's DNS records and its HTTP API routes are within dev's reach
    // in one account: the documented exposures (docs/security.md).
    const [, prodFull] = catalogues('one account').find(([name]) => name === 'prod full')!;
    const types = new Set(
      questionsOf(prodFull, 'shared-account').map((q) => /AWS::[\w:]+/.exec(q.id)?.[0]),
    );
    expect([...types].sort()).toEqual(
      [
        'AWS::ApiGatewayV2::Authorizer',
        'AWS::ApiGatewayV2::Integration',
        'AWS::ApiGatewayV2::Route',
        'AWS::Route53::RecordSet',
      ].sort(),
    );
  });
});

describe('issue 27, finding 5: no trust change, no data made public', () => {
  it.each(['dev', 'prod'] as const)(
    '%s: every call that would open the stage is refused',
    (stage) => {
      const catalogue = catalogueOf('one account', stage);
      const refused = questionsOf(catalogue, 'never-public')
        .filter((q) => q.kind === 'access' && q.expect === 'explicit-deny')
        .map((q) => (q.kind === 'access' ? q.request.action : ''));
      expect(new Set(refused)).toEqual(
        new Set([
          'iam:UpdateAssumeRolePolicy',
          'dynamodb:PutResourcePolicy',
          'secretsmanager:PutResourcePolicy',
          'lambda:CreateFunctionUrlConfig',
          'lambda:UpdateFunctionUrlConfig',
          'lambda:AddPermission',
          'sqs:AddPermission',
          'sns:AddPermission',
        ]),
      );
      expect(unmet(catalogue, 'never-public')).toEqual([]);
    },
  );

  it('the templates’ roles trust only the stage’s services, and no queue, topic or function admits an outsider', () => {
    for (const [name, catalogue] of catalogues('one account')) {
      const templateChecks = questionsOf(catalogue, 'never-public').filter(
        (q) => q.kind === 'template',
      );
      expect(templateChecks.length, name).toBe(2);
      expect(unmet(catalogue, 'never-public'), name).toEqual([]);
    }
  });
});

describe('the deployment model', () => {
  it('knows what CloudFormation calls for every resource type the app creates, and its IAM prefix', () => {
    const types = new Set(
      [...synths.values()].flatMap((synth) =>
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
    const [, catalogue] = catalogues('one account')[0]!;
    const execution = catalogue.policies.find((p) => p.name === 'dev execution policy')!;
    const granted = new Set(
      [execution.document.Statement]
        .flat()
        .filter((statement) => statement.Effect === 'Allow')
        .flatMap((statement) => [statement.Action ?? []].flat())
        .map((action) => action.split(':')[0]),
    );
    expect([...granted].sort()).toEqual([...needed, 's3', 'ssm'].sort());
  });
});

describe('policy stacks', () => {
  it('are cdk-nag AwsSolutions clean', () => {
    for (const stage of ['dev', 'prod'] as const) {
      const app = new App({ context: featureFlags() });
      new StagePoliciesStack(app, `IotPlayground-${stage}-cdk-policies`, {
        stage,
        env: LAYOUTS['one account'][stage],
      });
      expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
    }
  });
});
