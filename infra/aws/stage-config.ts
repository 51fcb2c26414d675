/**
 * Deployment configuration: the per-stage settings and the CDK context the app is built from.
 * Everything account- or environment-specific arrives through context (`-c key=value`) or the
 * CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION environment, never through code.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { STAGE_THROUGHPUT, type ThroughputSettings } from '../throughput.ts';

export const STAGES = ['dev', 'prod'] as const;
export type StageName = (typeof STAGES)[number];

/**
 * Each stage has its own CDK bootstrap (qualifier): its own deploy, publishing and lookup roles,
 * asset bucket and CloudFormation execution policy, so the credentials of one stage can never
 * reach the bootstrap of the other. (`cdk bootstrap --qualifier`, at most 10 lowercase letters
 * and digits.)
 */
export const CDK_QUALIFIERS: Record<StageName, string> = { dev: 'iotpgdev', prod: 'iotpgprod' };

/** The CDK toolkit stack of a stage's bootstrap: two bootstraps in one region need two names. */
export const toolkitStackName = (stage: StageName): string => `CDKToolkit-${CDK_QUALIFIERS[stage]}`;

/** The managed policy every role of the stage's stack carries as its permissions boundary. */
export const permissionsBoundaryName = (stage: StageName): string =>
  `IotPlayground-${stage}-permissions-boundary`;

/** The CloudFormation execution policy of the stage's bootstrap. */
export const executionPolicyName = (stage: StageName): string =>
  `IotPlayground-${stage}-cdk-execution`;

/** `lambdas`: the serverless backend only. `full`: plus Grafana on ECS Fargate. */
export const COMPONENTS = ['lambdas', 'full'] as const;
export type Component = (typeof COMPONENTS)[number];

export interface AlarmThresholds {
  /** Age of the oldest message in the measurement queue that means the consumer is behind. */
  oldestMessageAge: Duration;
  /** Function errors (sum per evaluation period) at or above which an alarm fires. */
  functionErrors: number;
  /** Function throttles (sum per evaluation period) at or above which an alarm fires. */
  functionThrottles: number;
  /** API 5xx responses (sum per evaluation period) at or above which an alarm fires. */
  api5xx: number;
  evaluationPeriod: Duration;
}

export interface StageSettings {
  /** What happens to stateful resources (tables, log groups, secret) when the stack is deleted. */
  removalPolicy: RemovalPolicy;
  /** DynamoDB deletion protection: a deleted prod stack must not take the data with it. */
  deletionProtection: boolean;
  logRetention: RetentionDays;
  alarms: AlarmThresholds;
  throughput: ThroughputSettings;
}

export const STAGE_SETTINGS: Record<StageName, StageSettings> = {
  dev: {
    removalPolicy: RemovalPolicy.DESTROY,
    deletionProtection: false,
    logRetention: RetentionDays.ONE_WEEK,
    throughput: STAGE_THROUGHPUT.dev,
    // Low thresholds: in dev every error is worth a look.
    alarms: {
      oldestMessageAge: Duration.minutes(5),
      functionErrors: 1,
      functionThrottles: 1,
      api5xx: 1,
      evaluationPeriod: Duration.minutes(5),
    },
  },
  prod: {
    removalPolicy: RemovalPolicy.RETAIN,
    deletionProtection: true,
    logRetention: RetentionDays.THREE_MONTHS,
    throughput: STAGE_THROUGHPUT.prod,
    alarms: {
      oldestMessageAge: Duration.minutes(10),
      functionErrors: 5,
      functionThrottles: 10,
      api5xx: 10,
      evaluationPeriod: Duration.minutes(5),
    },
  },
};

export interface JwtSettings {
  issuer: string;
  audience: string[];
}

export interface DomainSettings {
  /** Zone in which the alias records are created. */
  hostedZoneName: string;
  /** With the id the zone is referenced without a lookup (no AWS call at synth). */
  hostedZoneId?: string;
  /** Custom domain of the HTTP API, e.g. `iot-api.example.com`. */
  apiDomainName?: string;
  /** Custom domain of Grafana (component `full`); makes the load balancer listen on HTTPS. */
  grafanaDomainName?: string;
  /** An existing ACM certificate covering the names; otherwise a DNS-validated one is created. */
  certificateArn?: string;
}

/** ALB `authenticate-oidc` settings: the load balancer signs people in before Grafana sees them. */
export interface GrafanaOidcSettings {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  userInfoEndpoint: string;
  clientId: string;
  /** A Secrets Manager secret named under the stage's prefix, holding the client secret. */
  clientSecretName: string;
}

/** Who may reach Grafana's load balancer besides Grafana's own login. */
export interface GrafanaAccess {
  /** Only these IPv4 CIDRs reach the load balancer; everyone when absent. */
  allowedCidrs?: string[];
  oidc?: GrafanaOidcSettings;
}

/** Monthly AWS Budgets limit per stage in USD, unless -c monthlyBudgetUsd says otherwise. */
export const DEFAULT_MONTHLY_BUDGET_USD: Record<StageName, number> = { dev: 100, prod: 300 };

/** The front end's infrastructure panel (docs/infra-panel.md). */
export interface InfraPanelSettings {
  /** `owner/name` of the repository whose deploy workflow the panel dispatches; off without. */
  repository?: string;
  /** Without the JWT authorizer, anyone may use it: dev by default, never prod. */
  anonymous: boolean;
  /** Grafana the panel started stops after this many minutes without a run. */
  idleMinutes: number;
}

export interface DeploymentConfig {
  stage: StageName;
  /** The stage's own account when stages live in separate accounts (-c devAccount/prodAccount). */
  account?: string;
  monthlyBudgetUsd: number;
  grafanaAccess: GrafanaAccess;
  component: Component;
  settings: StageSettings;
  /** Origins the browser may call the API from; `*` allows any. */
  corsOrigins: string[];
  jwt?: JwtSettings;
  domain?: DomainSettings;
  /** Address subscribed to the alarm topic; without it alarms have no action. */
  alarmEmail?: string;
  /** Grafana base URL given to the run API when this stack does not run Grafana itself. */
  grafanaUrl?: string;
  /** Lets visitors open the dashboards as Viewer without logging in (component `full`). */
  grafanaAnonymousViewer: boolean;
  infraPanel: InfraPanelSettings;
}

/** The context keys the app reads, documented in docs/deploying.md. */
export const CONTEXT_KEYS = [
  'stage',
  'component',
  'corsOrigins',
  'jwtIssuer',
  'jwtAudience',
  'domainName',
  'grafanaDomainName',
  'hostedZoneName',
  'hostedZoneId',
  'certificateArn',
  'alarmEmail',
  'grafanaUrl',
  'grafanaAnonymousViewer',
  'grafanaAllowedCidrs',
  'grafanaOidcIssuer',
  'grafanaOidcAuthorizationEndpoint',
  'grafanaOidcTokenEndpoint',
  'grafanaOidcUserInfoEndpoint',
  'grafanaOidcClientId',
  'grafanaOidcClientSecretName',
  'devAccount',
  'prodAccount',
  'monthlyBudgetUsd',
  'githubRepository',
  'infraPanelAnonymous',
  'infraPanelIdleMinutes',
  'destroying',
] as const;
export type ContextKey = (typeof CONTEXT_KEYS)[number];

export type ContextReader = (key: ContextKey) => unknown;

export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

/** A context value as a trimmed string; empty means unset (CI passes `-c key=` for unset vars). */
const text = (read: ContextReader, key: ContextKey): string | undefined => {
  const value = read(key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' && typeof value !== 'boolean' && typeof value !== 'number') {
    throw new ConfigurationError(`Context ${key} must be a string`);
  }
  const trimmed = String(value).trim();
  return trimmed === '' ? undefined : trimmed;
};

const list = (read: ContextReader, key: ContextKey): string[] | undefined => {
  const value = text(read, key);
  if (value === undefined) return undefined;
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  return items.length === 0 ? undefined : items;
};

const oneOf = <T extends string>(
  read: ContextReader,
  key: ContextKey,
  allowed: readonly T[],
  fallback: T,
): T => {
  const value = text(read, key) ?? fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigurationError(`Context ${key}=${value} must be one of ${allowed.join(', ')}`);
  }
  return value as T;
};

const flag = (read: ContextReader, key: ContextKey): boolean => {
  const value = text(read, key);
  if (value === undefined) return false;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new ConfigurationError(`Context ${key}=${value} must be true or false`);
};

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\]|0\.0\.0\.0)$/i;
const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/;

const domainName = (read: ContextReader, key: ContextKey): string | undefined => {
  const value = text(read, key)?.toLowerCase().replace(/\.$/, '');
  if (value !== undefined && !DOMAIN.test(value)) {
    throw new ConfigurationError(`Context ${key}=${value} is not a domain name`);
  }
  return value;
};

const readCorsOrigins = (read: ContextReader, stage: StageName, destroying: boolean): string[] => {
  const origins = list(read, 'corsOrigins');
  if (origins === undefined) {
    // A production API names its front ends; dev stays open for local simulators.
    if (stage === 'prod' && !destroying) {
      throw new ConfigurationError(
        "Context corsOrigins is required for stage prod (the front ends' origins, comma-separated)",
      );
    }
    return ['*'];
  }
  if (stage === 'prod' && origins.includes('*') && !destroying) {
    // Any origin lets every web page a visitor opens call the API from their browser.
    throw new ConfigurationError(
      'Stage prod allows no CORS origin *: name the front ends (scheme://host[:port], comma-separated)',
    );
  }
  for (const origin of origins) {
    if (origin !== '*' && !ORIGIN.test(origin)) {
      throw new ConfigurationError(
        `CORS origin ${origin} must be * or scheme://host[:port] without a path`,
      );
    }
  }
  return origins;
};

const readJwt = (read: ContextReader): JwtSettings | undefined => {
  const issuer = text(read, 'jwtIssuer');
  const audience = list(read, 'jwtAudience');
  if (issuer === undefined && audience === undefined) return undefined;
  if (issuer === undefined || audience === undefined) {
    throw new ConfigurationError('Context jwtIssuer and jwtAudience must be given together');
  }
  if (!issuer.startsWith('https://')) {
    throw new ConfigurationError(`Context jwtIssuer=${issuer} must be an https URL`);
  }
  return { issuer, audience };
};

const readDomain = (read: ContextReader): DomainSettings | undefined => {
  const apiDomainName = domainName(read, 'domainName');
  const grafanaDomainName = domainName(read, 'grafanaDomainName');
  const hostedZoneName = domainName(read, 'hostedZoneName');
  const hostedZoneId = text(read, 'hostedZoneId');
  const certificateArn = text(read, 'certificateArn');
  if (apiDomainName === undefined && grafanaDomainName === undefined) {
    if (hostedZoneName !== undefined || hostedZoneId !== undefined || certificateArn) {
      throw new ConfigurationError(
        'Context hostedZoneName, hostedZoneId and certificateArn need domainName or grafanaDomainName',
      );
    }
    return undefined;
  }
  if (hostedZoneName === undefined) {
    throw new ConfigurationError('A custom domain needs context hostedZoneName');
  }
  for (const name of [apiDomainName, grafanaDomainName]) {
    if (name !== undefined && name !== hostedZoneName && !name.endsWith(`.${hostedZoneName}`)) {
      throw new ConfigurationError(`Domain ${name} is not inside hosted zone ${hostedZoneName}`);
    }
  }
  if (certificateArn !== undefined && !certificateArn.startsWith('arn:')) {
    throw new ConfigurationError(`Context certificateArn=${certificateArn} is not an ARN`);
  }
  return { hostedZoneName, hostedZoneId, apiDomainName, grafanaDomainName, certificateArn };
};

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

const readAccount = (read: ContextReader, stage: StageName): string | undefined => {
  const account = text(read, `${stage}Account`);
  if (account !== undefined && !/^\d{12}$/.test(account)) {
    throw new ConfigurationError(`Context ${stage}Account=${account} is not a 12-digit account id`);
  }
  return account;
};

const readBudget = (read: ContextReader, stage: StageName): number => {
  const value = text(read, 'monthlyBudgetUsd');
  if (value === undefined) return DEFAULT_MONTHLY_BUDGET_USD[stage];
  const amount = Number(value);
  if (!Number.isFinite(amount) || amount <= 0) {
    throw new ConfigurationError(`Context monthlyBudgetUsd=${value} must be a positive number`);
  }
  return amount;
};

const readGrafanaOidc = (
  read: ContextReader,
  stage: StageName,
): GrafanaOidcSettings | undefined => {
  const keys = {
    issuer: 'grafanaOidcIssuer',
    authorizationEndpoint: 'grafanaOidcAuthorizationEndpoint',
    tokenEndpoint: 'grafanaOidcTokenEndpoint',
    userInfoEndpoint: 'grafanaOidcUserInfoEndpoint',
    clientId: 'grafanaOidcClientId',
    clientSecretName: 'grafanaOidcClientSecretName',
  } as const satisfies Record<keyof GrafanaOidcSettings, ContextKey>;
  const values = Object.fromEntries(
    Object.entries(keys).map(([field, key]) => [field, text(read, key)]),
  ) as Record<keyof GrafanaOidcSettings, string | undefined>;
  const given = Object.values(values).filter((value) => value !== undefined);
  if (given.length === 0) return undefined;
  if (given.length !== Object.keys(keys).length) {
    throw new ConfigurationError(`Grafana OIDC needs all of ${Object.values(keys).join(', ')}`);
  }
  for (const field of [
    'issuer',
    'authorizationEndpoint',
    'tokenEndpoint',
    'userInfoEndpoint',
  ] as const) {
    if (!values[field]!.startsWith('https://')) {
      throw new ConfigurationError(`Context ${keys[field]}=${values[field]} must be an https URL`);
    }
  }
  // CloudFormation reads the secret with the stage's execution policy, which reads only these.
  if (!values.clientSecretName!.startsWith(`${stackNameFor(stage)}-`)) {
    throw new ConfigurationError(
      `Context grafanaOidcClientSecretName must start with ${stackNameFor(stage)}-`,
    );
  }
  return values as GrafanaOidcSettings;
};

const readGrafanaAccess = (read: ContextReader, stage: StageName): GrafanaAccess => {
  const allowedCidrs = list(read, 'grafanaAllowedCidrs');
  for (const cidr of allowedCidrs ?? []) {
    const parts = CIDR.exec(cidr);
    if (!parts || parts.slice(1, 5).some((octet) => Number(octet) > 255) || Number(parts[5]) > 32) {
      throw new ConfigurationError(`Context grafanaAllowedCidrs: ${cidr} is not an IPv4 CIDR`);
    }
  }
  return { allowedCidrs, oidc: readGrafanaOidc(read, stage) };
};

/** The idle stop's default: two hours without a run. */
export const DEFAULT_INFRA_IDLE_MINUTES = 120;

const readInfraPanel = (
  read: ContextReader,
  stage: StageName,
  destroying: boolean,
): InfraPanelSettings => {
  const repository = text(read, 'githubRepository');
  if (repository !== undefined && !/^[\w.-]+\/[\w.-]+$/.test(repository)) {
    throw new ConfigurationError(`Context githubRepository=${repository} must be owner/name`);
  }
  // dev opts in unless told otherwise; prod never opens the panel to anonymous callers.
  const anonymous =
    text(read, 'infraPanelAnonymous') === undefined
      ? stage === 'dev'
      : flag(read, 'infraPanelAnonymous');
  if (stage === 'prod' && anonymous && !destroying) {
    throw new ConfigurationError(
      'Stage prod never opens the infrastructure panel to anonymous callers: drop infraPanelAnonymous (admins sign in with the JWT authorizer)',
    );
  }
  const minutes = text(read, 'infraPanelIdleMinutes');
  const idleMinutes = minutes === undefined ? DEFAULT_INFRA_IDLE_MINUTES : Number(minutes);
  if (!Number.isInteger(idleMinutes) || idleMinutes < 5 || idleMinutes > 7 * 24 * 60) {
    throw new ConfigurationError(
      `Context infraPanelIdleMinutes=${minutes} must be a whole number of minutes from 5 to 10080`,
    );
  }
  return { ...(repository === undefined ? {} : { repository }), anonymous, idleMinutes };
};

export const readDeploymentConfig = (read: ContextReader): DeploymentConfig => {
  const stage = oneOf(read, 'stage', STAGES, 'dev');
  const component = oneOf(read, 'component', COMPONENTS, 'lambdas');
  // `npm run destroy` sets this: deleting a stack needs only its name, none of the settings a
  // deployment must get right.
  const destroying = flag(read, 'destroying');
  const alarmEmail = text(read, 'alarmEmail');
  if (alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail)) {
    throw new ConfigurationError(`Context alarmEmail=${alarmEmail} is not an e-mail address`);
  }
  if (stage === 'prod' && alarmEmail === undefined && !destroying) {
    // Alarms and the budget that reach no one protect nothing.
    throw new ConfigurationError('Context alarmEmail is required for stage prod');
  }
  const grafanaUrl = text(read, 'grafanaUrl');
  if (grafanaUrl !== undefined && !/^https?:\/\/\S+$/.test(grafanaUrl)) {
    throw new ConfigurationError(`Context grafanaUrl=${grafanaUrl} is not an http(s) URL`);
  }
  if (grafanaUrl !== undefined && LOOPBACK.test(new URL(grafanaUrl).hostname)) {
    // A link from AWS to the viewer's own machine leads nowhere.
    throw new ConfigurationError(`Context grafanaUrl=${grafanaUrl} points at this machine`);
  }
  const domain = readDomain(read);
  const grafanaAccess = readGrafanaAccess(read, stage);
  const grafanaAnonymousViewer = flag(read, 'grafanaAnonymousViewer');
  if (grafanaAccess.oidc && domain?.grafanaDomainName === undefined) {
    throw new ConfigurationError('Grafana OIDC sign-in needs HTTPS: give grafanaDomainName');
  }
  if (
    stage === 'prod' &&
    grafanaAnonymousViewer &&
    grafanaAccess.allowedCidrs === undefined &&
    grafanaAccess.oidc === undefined &&
    !destroying
  ) {
    // An anonymous viewer can query account metrics and function logs through the datasource.
    throw new ConfigurationError(
      'Stage prod allows grafanaAnonymousViewer only behind grafanaAllowedCidrs or Grafana OIDC',
    );
  }
  if (
    component === 'full' &&
    grafanaAnonymousViewer &&
    domain?.grafanaDomainName === undefined &&
    grafanaAccess.allowedCidrs === undefined &&
    !destroying
  ) {
    // Over plain HTTP and open to the internet, an anonymous viewer can query account metrics
    // and function logs through the datasource, with nothing in between: restrict it (dev too).
    throw new ConfigurationError(
      'Grafana allows the anonymous viewer over plain HTTP only behind grafanaAllowedCidrs ' +
        '(or give grafanaDomainName for HTTPS)',
    );
  }
  if (
    stage === 'prod' &&
    component === 'full' &&
    domain?.grafanaDomainName === undefined &&
    !destroying
  ) {
    // Over plain HTTP the Grafana admin password and session cookies cross the internet in clear.
    throw new ConfigurationError(
      'Stage prod serves Grafana over HTTPS only: give grafanaDomainName and hostedZoneName ' +
        '(or deploy component lambdas)',
    );
  }
  return {
    stage,
    account: readAccount(read, stage),
    monthlyBudgetUsd: readBudget(read, stage),
    grafanaAccess,
    component,
    settings: STAGE_SETTINGS[stage],
    corsOrigins: readCorsOrigins(read, stage, destroying),
    jwt: readJwt(read),
    domain,
    alarmEmail,
    grafanaUrl,
    grafanaAnonymousViewer,
    infraPanel: readInfraPanel(read, stage, destroying),
  };
};

/** One stack per stage; the component decides whether Grafana is part of it. */
export const stackNameFor = (stage: StageName): string => `IotPlayground-${stage}`;
