/**
 * The infrastructure panel's function: the `/infra/*` routes of the front end's panel, and its
 * schedule (deployments followed and an idle Grafana stopped). Routes by API Gateway route key;
 * a scheduled event has none.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { topology } from '#infra/topology.ts';
import { createDocumentClient } from '#shared/aws-clients.ts';
import { intEnv, optionalEnv, requireEnv } from '#shared/config.ts';
import { ForbiddenError, NotFoundError } from '#shared/errors.ts';
import {
  httpHandler,
  jsonResponse,
  parseJsonBody,
  unmatchedRoute,
  type HttpEvent,
  type HttpResult,
} from '#shared/http.ts';
import { callerName, isAdmin, jwtClaims, RUN_ID } from '#shared/identity.ts';
import { beginInvocation, createLogger } from '#shared/powertools.ts';
import { DynamoRunStore } from '#shared/run-store.ts';
import { tokenSource } from './credential.ts';
import {
  type DeploymentAction,
  MAX_INFRA_BODY_BYTES,
  parseDeployRequest,
  toView,
} from './deployment.ts';
import {
  deploymentById,
  type InfraDeps,
  latestDeployment,
  scheduledCheck,
  startDeployment,
} from './deployments.ts';
import { GitHubDeployWorkflow, webUrlOf } from './github.ts';
import { logNotifier, snsNotifier } from './notifier.ts';
import { DynamoDeploymentStore } from './store.ts';

export interface InfraApiDeps extends InfraDeps {
  /** Without a JWT authorizer, whether anyone may use the panel (a stage's opt-in). */
  anonymous: boolean;
  /** With a JWT authorizer, the group or scope the panel needs. */
  adminGroup: string;
}

/**
 * Who may use the panel: under the JWT authorizer an admin only; without it anyone, where the
 * stage opted in. Returns the token's user, undefined for an anonymous caller.
 */
const authorize = (event: HttpEvent, deps: InfraApiDeps): string | undefined => {
  const claims = jwtClaims(event);
  if (claims !== undefined) {
    if (!isAdmin(claims, deps.adminGroup)) {
      throw new ForbiddenError('The infrastructure panel needs the admin role');
    }
    return callerName(claims, undefined);
  }
  if (!deps.anonymous) {
    throw new ForbiddenError(
      `The infrastructure panel of ${deps.stage} needs an admin sign-in; it is not open to anonymous callers`,
    );
  }
  return undefined;
};

const workflowUrl = (deps: InfraDeps) => deps.workflow?.workflowUrl ?? '';

const deploy =
  (action: DeploymentAction) =>
  async (event: HttpEvent, deps: InfraApiDeps): Promise<HttpResult> => {
    const tokenUser = authorize(event, deps);
    const request = parseDeployRequest(
      parseJsonBody(event, MAX_INFRA_BODY_BYTES),
      action,
      deps.stage,
    );
    // The token names the user where there is one; the panel's `user` is only a label.
    const user = tokenUser ?? request.user;
    deps.logger.appendKeys({ user });
    const deployment = await startDeployment(deps, action, user);
    const view = toView(deployment, workflowUrl(deps));
    return jsonResponse(202, {
      success: true,
      ...view,
      message: `${action === 'apply' ? 'Starting' : 'Stopping'} Grafana on ${deps.stage}: deploy workflow dispatched`,
    });
  };

const routes: Record<string, (event: HttpEvent, deps: InfraApiDeps) => Promise<HttpResult>> = {
  'POST /infra/create': deploy('apply'),
  'POST /infra/destroy': deploy('destroy'),
  'GET /infra/latest-deployment': async (event, deps) => {
    authorize(event, deps);
    const latest = await latestDeployment(deps);
    return jsonResponse(200, {
      success: true,
      deployment: latest ? toView(latest, workflowUrl(deps)) : null,
    });
  },
  'GET /infra/status/{id}': async (event, deps) => {
    authorize(event, deps);
    const id = event.pathParameters?.id ?? '';
    // Deployment ids are UUIDs: anything else names none, without a read.
    if (!RUN_ID.test(id)) throw new NotFoundError(`Deployment ${id.slice(0, 64)} not found`);
    const deployment = await deploymentById(deps, id);
    return jsonResponse(200, { success: true, deployment: toView(deployment, workflowUrl(deps)) });
  },
};

const isHttpEvent = (event: HttpEvent | ScheduledEvent): event is HttpEvent =>
  typeof (event as HttpEvent).routeKey === 'string';

export const makeHandler = (deps: InfraApiDeps) => {
  const http = httpHandler(deps.logger, async (event) => {
    const route = routes[event.routeKey];
    return route ? route(event, deps) : unmatchedRoute(event, topology.routes);
  });
  return async (event: HttpEvent | ScheduledEvent, context: Context) => {
    if (isHttpEvent(event)) return http(event, context);
    beginInvocation(deps.logger, context, { trigger: 'schedule' });
    const report = await scheduledCheck(deps);
    deps.logger.info('Scheduled check', { ...report });
    return report;
  };
};

/** The GitHub side, where the stage configured a repository and a credential. */
const deployWorkflow = (env: NodeJS.ProcessEnv, now: () => number) => {
  const repository = optionalEnv('GITHUB_REPOSITORY', env);
  const secretId = optionalEnv('GITHUB_CREDENTIAL_SECRET_ARN', env);
  if (repository === undefined || secretId === undefined) return undefined;
  const apiUrl = requireEnv('GITHUB_API_URL', env);
  return new GitHubDeployWorkflow({
    apiUrl,
    repository,
    workflow: requireEnv('GITHUB_WORKFLOW', env),
    webUrl: optionalEnv('GITHUB_WEB_URL', env) ?? webUrlOf(apiUrl),
    token: tokenSource({
      secretId,
      secrets: new SecretsManagerClient({}),
      apiUrl,
      repository,
      now,
    }),
  });
};

export const defaultDeps = (env: NodeJS.ProcessEnv = process.env): InfraApiDeps => {
  const documents = createDocumentClient();
  const logger: Logger = createLogger();
  const runs = new DynamoRunStore(documents, requireEnv(topology.tables.runs.env, env));
  const topic = optionalEnv('ALARM_TOPIC_ARN', env);
  const now = Date.now;
  return {
    store: new DynamoDeploymentStore(
      documents,
      requireEnv(topology.tables.deployments.env, env),
      intEnv('INFRA_RETENTION_DAYS', 90, { min: 1, max: 3650 }, env),
    ),
    workflow: deployWorkflow(env, now),
    notifier: topic
      ? snsNotifier(new SNSClient({}), topic)
      : logNotifier((message, extra) => logger.warn(message, { ...extra })),
    lastRunActivity: async () => {
      // A run running now keeps Grafana busy whenever it started; else the newest start counts.
      if ((await runs.listRunning()).length > 0) return now();
      const [newest] = (await runs.listPage(1)).runs;
      return newest ? Date.parse(newest.startedAt) : undefined;
    },
    stage: requireEnv('INFRA_STAGE', env),
    anonymous: optionalEnv('INFRA_ANONYMOUS', env) === 'true',
    adminGroup: optionalEnv('ADMIN_GROUP', env) ?? 'admin',
    now,
    newId: randomUUID,
    refreshMs: intEnv('INFRA_STATUS_REFRESH_SECONDS', 10, { min: 1, max: 3600 }, env) * 1000,
    idleMs: intEnv('INFRA_IDLE_STOP_SECONDS', 7200, { min: 1, max: 7 * 86_400 }, env) * 1000,
    logger,
  };
};
