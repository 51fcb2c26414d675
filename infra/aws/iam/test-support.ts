/**
 * Fixtures for the policy tests: the set-up's policies in both account layouts, the app
 * variants whose deployments the questions cover, and the questions of a property that the
 * local evaluator does not answer as expected.
 */
import type { StageName } from '../stage-config.ts';
import type { Synthesized } from '../test-support.ts';
import {
  type AccountEnvironment,
  bootstrapPolicies,
  type StagePolicies,
} from './bootstrap-policies.ts';
import type { TemplateJson } from './deployment-requests.ts';
import {
  answerLocally,
  type PolicyCatalogue,
  policyCatalogue,
  type PropertyId,
} from './policy-catalogue.ts';

export const ACCOUNT = '111111111111';
export const PROD_ACCOUNT = '222222222222';
export const REGION = 'eu-west-1';

/** One account with two qualifiers, and a separate account per stage. */
export const LAYOUTS: Record<
  'one account' | 'separate accounts',
  Record<StageName, AccountEnvironment>
> = {
  'one account': {
    dev: { account: ACCOUNT, region: REGION },
    prod: { account: ACCOUNT, region: REGION },
  },
  'separate accounts': {
    dev: { account: ACCOUNT, region: REGION },
    prod: { account: PROD_ACCOUNT, region: REGION },
  },
};
export type Layout = keyof typeof LAYOUTS;

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
  grafanaOidcIssuer: 'https://id.example.com',
  grafanaOidcAuthorizationEndpoint: 'https://id.example.com/authorize',
  grafanaOidcTokenEndpoint: 'https://id.example.com/token',
  grafanaOidcUserInfoEndpoint: 'https://id.example.com/userinfo',
  grafanaOidcClientId: 'grafana',
};

/** Every resource type and option the app has, in both stages. */
export const APP_VARIANTS: Record<string, Record<string, string>> = {
  'dev lambdas': { stage: 'dev', component: 'lambdas' },
  'dev full': {
    stage: 'dev',
    ...FULL,
    grafanaOidcClientSecretName: 'IotPlayground-dev-grafana-oidc',
  },
  'prod lambdas': {
    stage: 'prod',
    component: 'lambdas',
    // Prod refuses `*` (any web page could call the API from a visitor's browser).
    corsOrigins: 'https://play.example.com',
    alarmEmail: 'ops@example.com',
  },
  'prod full': {
    stage: 'prod',
    ...FULL,
    grafanaOidcClientSecretName: 'IotPlayground-prod-grafana-oidc',
  },
};

const bootstraps = new Map<Layout, Record<StageName, StagePolicies>>();
/** The set-up's policies of a layout, synthesized once per test file. */
export const bootstrapOf = (layout: Layout): Record<StageName, StagePolicies> => {
  if (!bootstraps.has(layout)) bootstraps.set(layout, bootstrapPolicies(LAYOUTS[layout]));
  return bootstraps.get(layout)!;
};

/** The catalogue of a synthesized app (or of the set-up alone) in a layout. */
export const catalogueOf = (
  layout: Layout,
  stage: StageName,
  synth?: Synthesized,
): PolicyCatalogue =>
  policyCatalogue({
    stage,
    bootstrap: bootstrapOf(layout),
    ...(synth
      ? {
          app: {
            template: synth.template.toJSON() as TemplateJson,
            stackName: synth.stack.stackName,
          },
        }
      : {}),
  });

/** The questions of `property` whose local answer is not the expected one, one line each. */
export const unmet = (catalogue: PolicyCatalogue, property: PropertyId): string[] =>
  catalogue.questions
    .filter((question) => question.property === property)
    .map((question) => ({ question, answer: answerLocally(catalogue, question) }))
    .filter(({ answer }) => !answer.holds)
    .map(
      ({ question, answer }) =>
        `${question.id}: ${answer.answer}${question.kind === 'access' ? ` (expected ${question.expect})` : ''}`,
    );

export const questionsOf = (catalogue: PolicyCatalogue, property: PropertyId) =>
  catalogue.questions.filter((question) => question.property === property);
