/**
 * The front end's infrastructure panel ("Gestion de l'Infrastructure"), replayed: its calls
 * exactly as it makes them — `Content-Type: application/json` and no other header, the bodies
 * `{user, environment, mode}`, `latest-deployment` polled — against the local stack, whose GitHub
 * stand-in runs the deploy workflow it dispatches. Every answer is held to the OpenAPI
 * description (checkedFetch).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_GITHUB, type LocalStack } from '#infra/local/index.ts';
import { checkedFetch } from '#test/support/api-contract.ts';
import { eventually } from '#test/support/eventually.ts';
import { startTestStack } from '#test/support/local-stack.ts';

const ORIGIN = 'http://localhost:4200';
const IDLE_SECONDS = 4;
let stack: LocalStack;

beforeAll(async () => {
  ({ stack } = await startTestStack({
    // Runs of three seconds, looked at every second, an idle Grafana stopped after 4 s.
    githubRunTimings: { queuedMs: 500, inProgressMs: 2_500 },
    functionEnv: {
      infraApi: {
        INFRA_STATUS_REFRESH_SECONDS: '1',
        INFRA_IDLE_STOP_SECONDS: String(IDLE_SECONDS),
      },
    },
  }));
});
afterAll(async () => {
  await stack?.stop();
});

/** The panel's HttpClient: JSON, its Origin, no header but Content-Type. */
const panel = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
  const response = await checkedFetch(`${stack.url}${path}`, {
    method,
    headers: {
      origin: ORIGIN,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  expect(response.headers.get('access-control-allow-origin')).toMatch(
    /^(\*|http:\/\/localhost:4200)$/,
  );
  return { status: response.status, body: (await response.json()) as any };
};

const create = (user = 'alice') =>
  panel('POST', '/infra/create', { user, environment: 'dev', mode: 'apply' });
const destroy = (user = 'alice') =>
  panel('POST', '/infra/destroy', { user, environment: 'dev', mode: 'destroy' });
const latest = async () => (await panel('GET', '/infra/latest-deployment')).body.deployment;

/** Polls as the panel does (faster), recording each status seen, until the deployment ends. */
const pollUntilDone = async (deploymentId: string) => {
  const seen: string[] = [];
  const done = await eventually(
    async () => {
      const deployment = await latest();
      expect(deployment.deployment_id).toBe(deploymentId);
      if (seen.at(-1) !== deployment.status) seen.push(deployment.status);
      return ['SUCCESS', 'FAILED'].includes(deployment.status) ? deployment : undefined;
    },
    20_000,
    `deployment ${deploymentId} to end`,
    150,
  );
  return { done, seen };
};

describe('the infrastructure panel against the local stack', () => {
  it('shows no deployment before the first', async () => {
    const response = await panel('GET', '/infra/latest-deployment');
    expect(response).toEqual({ status: 200, body: { success: true, deployment: null } });
  });

  it('creates: dispatches the deploy workflow with fixed inputs, then IN_PROGRESS, then SUCCESS', async () => {
    const started = await create();

    expect(started.status).toBe(202);
    const id = started.body.deployment_id as string;
    expect(started.body).toMatchObject({ success: true, terraform_action: 'apply', user: 'alice' });
    expect(['TRIGGERING', 'TRIGGERED']).toContain(started.body.status);
    expect(started.body.workflow_run_url ?? started.body.github_actions_url).toMatch(/^http/);
    expect(stack.github.dispatches().at(-1)).toEqual({
      workflow: 'deploy.yml',
      ref: 'main',
      inputs: { stage: 'dev', component: 'full', correlation_id: id },
    });
    const { done, seen } = await pollUntilDone(id);
    expect(seen).toContain('IN_PROGRESS');
    expect(seen.indexOf('IN_PROGRESS')).toBeLessThan(seen.indexOf('SUCCESS'));
    expect(done).toMatchObject({
      status: 'SUCCESS',
      terraform_action: 'apply',
      error_message: null,
    });
    expect(done.workflow_run_url).toMatch(/\/actions\/runs\/\d+$/);
    expect(done.updated_at).toBeGreaterThanOrEqual(done.created_at);
    expect(Math.abs(done.created_at - Date.now() / 1000)).toBeLessThan(60);

    const byId = await panel('GET', `/infra/status/${id}`);
    expect(byId).toEqual({ status: 200, body: { success: true, deployment: done } });
  });

  it('refuses a second create while one is under way with a 409 the panel can show', async () => {
    const first = await create();
    expect(first.status).toBe(202);

    const second = await create('bob');
    const stop = await destroy('bob');

    expect(second.status).toBe(409);
    expect(second.body.message).toMatch(/already being started/);
    expect(second.body.error).toBe(second.body.message);
    expect(stop.status).toBe(409);
    expect((await pollUntilDone(first.body.deployment_id)).done.status).toBe('SUCCESS');
  });

  it('never runs two deployments at once, however many creates arrive together', async () => {
    const before = stack.github.runTimeline().length;

    const answers = await Promise.all(Array.from({ length: 6 }, () => create()));

    const accepted = answers.filter((answer) => answer.status === 202);
    const refused = answers.filter((answer) => answer.status === 409);
    expect(accepted.length + refused.length).toBe(6);
    expect(accepted.length).toBeGreaterThanOrEqual(1);
    for (const answer of refused) expect(answer.body.message).toMatch(/already being started/);
    for (const answer of accepted) await pollUntilDone(answer.body.deployment_id);
    // One run per accepted create, and each began after the one before had completed. (A create
    // whose invocation starts after the first run ended is rightly accepted: on a loaded machine
    // the six do not always overlap; the store's own test races them deterministically.)
    const runs = stack.github.runTimeline().slice(before);
    expect(runs.map((run) => run.inputs.correlation_id).sort()).toEqual(
      accepted.map((answer) => answer.body.deployment_id).sort(),
    );
    for (let i = 1; i < runs.length; i++) {
      expect(runs[i]!.createdAt).toBeGreaterThanOrEqual(runs[i - 1]!.completesAt);
    }
  });

  it('destroys: the workflow with component lambdas, SUCCESS as a destroy', async () => {
    const started = await destroy();

    expect(started.status).toBe(202);
    expect(started.body.terraform_action).toBe('destroy');
    expect(stack.github.dispatches().at(-1)?.inputs).toEqual({
      stage: 'dev',
      component: 'lambdas',
      correlation_id: started.body.deployment_id,
    });
    const { done } = await pollUntilDone(started.body.deployment_id);
    expect(done).toMatchObject({ status: 'SUCCESS', terraform_action: 'destroy' });
  });

  it('shows a failed run as FAILED with its message, and a cancelled one too', async () => {
    for (const [conclusion, message] of [
      ['failure', /failed/],
      ['cancelled', /cancelled/],
    ] as const) {
      const plan = await fetch(`${stack.url}/local/faults`, {
        method: 'POST',
        body: JSON.stringify({ githubRunFailures: { count: 1, conclusion } }),
      });
      expect(plan.status).toBe(200);

      const started = await create();
      const { done } = await pollUntilDone(started.body.deployment_id);

      expect(done.status).toBe('FAILED');
      expect(done.error_message).toMatch(message);
    }
  });

  it('refuses a bad environment or mode with 400, dispatching nothing', async () => {
    const before = stack.github.dispatches().length;

    const prod = await panel('POST', '/infra/create', {
      user: 'alice',
      environment: 'prod',
      mode: 'apply',
    });
    const wrongMode = await panel('POST', '/infra/destroy', {
      user: 'alice',
      environment: 'dev',
      mode: 'apply',
    });
    const notJson = await checkedFetch(`${stack.url}/infra/create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"environment":',
    });

    expect(prod.status).toBe(400);
    expect(prod.body.message).toBe('This API deploys the dev stage only');
    expect(prod.body.details).toEqual([
      { field: 'environment', message: 'must be "dev", this API\'s stage' },
    ]);
    expect(wrongMode.status).toBe(400);
    expect(wrongMode.body.details).toEqual([
      { field: 'mode', message: 'must be "destroy" on this route' },
    ]);
    expect(notJson.status).toBe(400);
    expect(stack.github.dispatches()).toHaveLength(before);
  });

  it('answers 404 for a deployment id that names none', async () => {
    const unknown = await panel('GET', '/infra/status/00000000-0000-4000-8000-000000000000');
    const notAnId = await panel('GET', '/infra/status/latest');
    expect(unknown.status).toBe(404);
    expect(notAnId.status).toBe(404);
  });

  it('answers the browser preflight of the panel’s POST', async () => {
    const response = await checkedFetch(`${stack.url}/infra/create`, {
      method: 'OPTIONS',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    expect(response.headers.get('access-control-allow-headers')).toContain('Content-Type');
  });

  it('stops Grafana it started once no run has started for the idle period, and tells the alarm topic', async () => {
    const started = await create();
    await pollUntilDone(started.body.deployment_id);
    // A run started just now keeps Grafana up.
    const run = await checkedFetch(`${stack.url}/api/runs/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ duration: 1, interval: 1, sensorIds: ['temp-1'] }),
    });
    expect(run.status).toBe(201);
    const runId = ((await run.json()) as { id: string }).id;
    expect(await stack.runSchedule('infraApi')).not.toHaveProperty('idleStop');
    await checkedFetch(`${stack.url}/api/runs/${runId}/finish`, { method: 'POST' });

    const report = (await eventually(
      async () => {
        const checked = (await stack.runSchedule('infraApi')) as { idleStop?: { id: string } };
        return checked.idleStop;
      },
      (IDLE_SECONDS + 10) * 1000,
      'the idle stop',
      500,
    )) as { id: string };

    expect(stack.github.dispatches().at(-1)?.inputs).toMatchObject({ component: 'lambdas' });
    const { done } = await pollUntilDone(report.id);
    expect(done).toMatchObject({
      status: 'SUCCESS',
      terraform_action: 'destroy',
      user: 'idle-stop',
    });
    const messages = stack.notifications();
    expect(messages.map((message) => message.subject)).toEqual([
      'IoT Playground dev: stopping idle Grafana',
      'IoT Playground dev: idle Grafana stopped',
    ]);
    expect(messages[0]!.topicArn).toMatch(new RegExp(`:${LOCAL_GITHUB.alarmTopic}$`));
    expect(messages[0]!.message).toContain(report.id);
    // Stopped: the next check has nothing to stop.
    expect(await stack.runSchedule('infraApi')).not.toHaveProperty('idleStop');
  });
});
