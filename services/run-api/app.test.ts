import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRunMetrics } from '#shared/metrics.ts';
import { RUN_NAMESPACE, RunMetric } from '#shared/metrics-contract.ts';
import { captureEmf, type EmfCapture } from '#test/support/emf.ts';
import { InMemoryReportStore } from '#test/support/in-memory-report-store.ts';
import { InMemoryRunStore } from '#test/support/in-memory-run-store.ts';
import { httpEvent } from '#test/support/http-event.ts';
import { lambdaContext } from '#test/support/lambda-context.ts';
import { makeHandler, runSettingsFromEnv, type RunApiDeps } from './app.ts';

const setup = (store = new InMemoryRunStore(), env: NodeJS.ProcessEnv = {}) => {
  const deps: RunApiDeps = {
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: createRunMetrics('run-api'),
    store,
    settings: runSettingsFromEnv(env),
    now: Date.now,
    newId: () => crypto.randomUUID(),
    adminGroup: 'admin',
    reports: new InMemoryReportStore(),
  };
  return { handler: makeHandler(deps), store };
};

const call = async (
  handler: ReturnType<typeof makeHandler>,
  event: ReturnType<typeof httpEvent>,
) => {
  const result = await handler(event, lambdaContext());
  return { status: result.statusCode, body: JSON.parse(result.body ?? 'null') };
};

describe('run API under a JWT authorizer', () => {
  it('takes the user from the token, not from X-User', async () => {
    const { handler } = setup();
    const response = await call(
      handler,
      httpEvent('POST /api/runs/start', {
        body: JSON.stringify({ duration: 10, interval: 100 }),
        headers: { 'x-user': 'mallory' },
        claims: { username: 'carol' },
      }),
    );
    expect(response.status).toBe(201);
    expect(response.body.username).toBe('carol');
  });

  it('refuses interrupt-all without the admin claim and allows it with one', async () => {
    const { handler, store } = setup();
    await call(
      handler,
      httpEvent('POST /api/runs/start', { body: '{"duration":10,"interval":100}' }),
    );
    const refused = await call(
      handler,
      httpEvent('POST /api/runs/interrupt-all', { claims: { sub: 'u' } }),
    );
    expect(refused.status).toBe(403);
    expect((await store.listRunning()).length).toBe(1);
    const allowed = await call(
      handler,
      httpEvent('POST /api/runs/interrupt-all', { claims: { 'cognito:groups': '[admin]' } }),
    );
    expect(allowed).toMatchObject({ status: 200, body: { interrupted: 1 } });
  });
});

describe('run ownership under a JWT authorizer', () => {
  const alice = { sub: 'alice-sub', username: 'alice' };
  const bob = { sub: 'bob-sub', username: 'bob' };
  const admin = { sub: 'ops-sub', username: 'ops', 'cognito:groups': ['admin'] };
  const startAs = async (handler: ReturnType<typeof makeHandler>, claims: object) =>
    (
      await call(
        handler,
        httpEvent('POST /api/runs/start', {
          body: '{"duration":10,"interval":100}',
          claims: { ...claims },
        }),
      )
    ).body as { id: string };
  const finishAs = (handler: ReturnType<typeof makeHandler>, id: string, claims: object) =>
    call(
      handler,
      httpEvent('POST /api/runs/{id}/finish', { pathParameters: { id }, claims: { ...claims } }),
    );

  it('refuses another user’s finish with 403 and leaves the run running', async () => {
    const { handler, store } = setup();
    const run = await startAs(handler, alice);
    const refused = await finishAs(handler, run.id, bob);
    expect(refused.status).toBe(403);
    expect(refused.body.message).toContain('belongs to another user');
    expect((await store.getRun(run.id))?.status).toBe('RUNNING');
  });

  it('lets the starter and an admin finish', async () => {
    const { handler } = setup();
    const own = await startAs(handler, alice);
    expect(await finishAs(handler, own.id, alice)).toMatchObject({
      status: 200,
      body: { status: 'COMPLETED' },
    });
    const other = await startAs(handler, alice);
    expect((await finishAs(handler, other.id, admin)).status).toBe(200);
  });

  it('still answers 404 for an unknown run and 409 for the starter’s ended run', async () => {
    const { handler } = setup();
    const run = await startAs(handler, alice);
    await finishAs(handler, run.id, alice);
    expect((await finishAs(handler, run.id, alice)).status).toBe(409);
    expect((await finishAs(handler, crypto.randomUUID(), bob)).status).toBe(404);
  });

  it('does not show the owner in the run', async () => {
    const { handler } = setup();
    const run = await startAs(handler, alice);
    expect(run).not.toHaveProperty('owner');
  });

  it('without a JWT authorizer, anyone may finish any run, as the front end does', async () => {
    const { handler } = setup();
    const started = await call(
      handler,
      httpEvent('POST /api/runs/start', { body: '{"duration":10,"interval":100}' }),
    );
    const finished = await call(
      handler,
      httpEvent('POST /api/runs/{id}/finish', {
        pathParameters: { id: started.body.id },
        headers: { 'x-user': 'someone-else' },
      }),
    );
    expect(finished.status).toBe(200);
  });
});

describe('admin routes without a JWT authorizer', () => {
  const startOne = async (handler: ReturnType<typeof makeHandler>) =>
    call(handler, httpEvent('POST /api/runs/start', { body: '{"duration":10,"interval":100}' }));

  it('refuses interrupt-all to a caller API Gateway has neither a token nor a signature for', async () => {
    // Without JWT the stack puts the route behind IAM authorization; should a request reach the
    // function without it (a misconfigured route), nobody is an admin.
    const { handler, store } = setup();
    await startOne(handler);
    const refused = await call(handler, httpEvent('POST /api/runs/interrupt-all'));
    expect(refused.status).toBe(403);
    expect((await store.listRunning()).length).toBe(1);
  });

  it('allows interrupt-all to a caller the route’s IAM authorizer let through', async () => {
    const { handler, store } = setup();
    await startOne(handler);
    const allowed = await call(handler, httpEvent('POST /api/runs/interrupt-all', { iam: true }));
    expect(allowed).toMatchObject({ status: 200, body: { interrupted: 1 } });
    expect(await store.listRunning()).toEqual([]);
  });
});

describe('grafanaUrl', () => {
  it.each([{}, { GRAFANA_URL: '' }])('is null in every run when GRAFANA_URL is %j', async (env) => {
    const { handler } = setup(new InMemoryRunStore(), env);
    const started = await call(
      handler,
      httpEvent('POST /api/runs/start', { body: '{"duration":10,"interval":100}' }),
    );
    expect(started.status).toBe(201);
    expect(started.body.grafanaUrl).toBeNull();
    const read = await call(handler, httpEvent('GET /api/runs/all'));
    expect(read.body[0].grafanaUrl).toBeNull();
  });
});

describe('run metrics', () => {
  let emf: EmfCapture;
  beforeEach(() => {
    emf = captureEmf();
  });
  afterEach(() => emf.restore());

  it('counts starts, refused starts and finished runs by status', async () => {
    const { handler } = setup(new InMemoryRunStore(), { MAX_CONCURRENT_RUNS: '1' });
    const start = () =>
      call(handler, httpEvent('POST /api/runs/start', { body: '{"duration":10,"interval":100}' }));
    const started = await start();
    expect((await start()).status).toBe(409);
    await call(
      handler,
      httpEvent('POST /api/runs/{id}/finish', {
        pathParameters: { id: started.body.id },
        body: '{"errorMessage":"sensor lost"}',
      }),
    );

    expect(emf.values(RUN_NAMESPACE, RunMetric.started)).toEqual([1]);
    expect(emf.values(RUN_NAMESPACE, RunMetric.refused)).toEqual([1]);
    const finished = emf.blobs(RUN_NAMESPACE).filter((blob) => RunMetric.finished in blob);
    expect(finished.map((blob) => [blob.Status, blob[RunMetric.finished]])).toEqual([
      ['FAILED', 1],
    ]);
  });
});

describe('CORS preflight under the JWT authorizer', () => {
  it('answers OPTIONS reaching it through the unauthenticated OPTIONS /{proxy+} route with 204', async () => {
    const { handler } = setup();
    const event = httpEvent('OPTIONS /{proxy+}', { rawPath: '/api/runs/start' });
    event.requestContext.http.path = '/api/runs/start';
    const result = await handler(event, lambdaContext());
    expect(result.statusCode).toBe(204);
    expect(result.body).toBeUndefined();
  });
});

describe('errors', () => {
  it('hides an unexpected failure behind a generic 500', async () => {
    const store = new InMemoryRunStore();
    store.readSlots = () => Promise.reject(new Error('secret connection string'));
    const { handler } = setup(store);
    const response = await call(handler, httpEvent('GET /api/runs/can-start'));
    expect(response).toEqual({
      status: 500,
      body: { error: 'Internal server error', message: 'Internal server error', details: [] },
    });
  });
});
