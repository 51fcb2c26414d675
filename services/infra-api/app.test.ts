/**
 * Who may use the panel, at the handler: under the JWT authorizer admins only (the user from
 * the token, never from the body); without it only where the stage opts in.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { httpEvent } from '#test/support/http-event.ts';
import { lambdaContext } from '#test/support/lambda-context.ts';
import { useTestTables } from '#test/support/dynamodb.ts';
import { type InfraApiDeps, makeHandler } from './app.ts';
import type { DeployWorkflow } from './github.ts';
import { DynamoDeploymentStore } from './store.ts';

const { db } = useTestTables();

const workflow: DeployWorkflow = {
  workflowUrl: 'https://github.com/o/r/actions/workflows/deploy.yml',
  dispatch: async () => ({ runId: 1, htmlUrl: 'https://github.com/o/r/actions/runs/1' }),
  getRun: async (id) => ({ id, status: 'queued', conclusion: null, html_url: '' }),
  findRun: async () => undefined,
};

const handlerFor = async (anonymous: boolean) => {
  const deps: InfraApiDeps = {
    store: new DynamoDeploymentStore(db.documents(), await db.createTable('deployments'), 90),
    workflow,
    notifier: { notify: async () => undefined },
    lastRunActivity: async () => undefined,
    stage: 'dev',
    now: Date.now,
    newId: () => crypto.randomUUID(),
    refreshMs: 10_000,
    idleMs: 7_200_000,
    logger: new Logger({ logLevel: 'SILENT' }),
    anonymous,
    adminGroup: 'admin',
  };
  const handler = makeHandler(deps);
  const call = async (routeKey: string, claims?: Record<string, unknown>, body?: unknown) => {
    const result = (await handler(
      httpEvent(routeKey, {
        ...(claims ? { claims } : {}),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
      lambdaContext(),
    )) as { statusCode: number; body: string };
    return { status: result.statusCode, body: JSON.parse(result.body) as any };
  };
  return Object.assign(call, { handler });
};

const PANEL_BODY = { user: 'mallory', environment: 'dev', mode: 'apply' };

describe('under the JWT authorizer', () => {
  it('refuses a signed-in user who is not an admin, on every route', async () => {
    const call = await handlerFor(true);
    for (const route of [
      'POST /infra/create',
      'POST /infra/destroy',
      'GET /infra/latest-deployment',
    ]) {
      const answer = await call(route, { sub: 'u-1', username: 'bob' }, PANEL_BODY);
      expect(answer.status, route).toBe(403);
      expect(answer.body.message).toBe('The infrastructure panel needs the admin role');
    }
  });

  it('lets an admin start Grafana, recorded under the token’s user, not the body’s', async () => {
    const call = await handlerFor(false);
    const answer = await call(
      'POST /infra/create',
      { username: 'carol', 'cognito:groups': '[admin]' },
      PANEL_BODY,
    );
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ success: true, user: 'carol', status: 'TRIGGERED' });
  });
});

describe('without it', () => {
  it('opens the panel only where the stage opted in', async () => {
    const closed = await handlerFor(false);
    const refused = await closed('POST /infra/create', undefined, PANEL_BODY);
    expect(refused.status).toBe(403);
    expect(refused.body.message).toMatch(/needs an admin sign-in/);
    expect((await closed('GET /infra/latest-deployment')).status).toBe(403);

    const open = await handlerFor(true);
    const started = await open('POST /infra/create', undefined, PANEL_BODY);
    expect(started.status).toBe(202);
    expect(started.body.user).toBe('mallory');
  });

  it('answers the schedule with a report, not an HTTP response', async () => {
    const call = await handlerFor(true);
    const started = await call('POST /infra/create', undefined, PANEL_BODY);
    const report = await call.handler(
      { source: 'aws.events', 'detail-type': 'Scheduled Event' } as never,
      lambdaContext(),
    );
    expect(report).toEqual({
      latest: { id: started.body.deployment_id, action: 'apply', status: 'TRIGGERED' },
    });
  });
});
