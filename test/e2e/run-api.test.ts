/** The run API over real HTTP through the local stack: every endpoint of the contract. */
import { generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runAdminCommand } from '#infra/admin/admin.ts';
import { LOCAL_OPERATOR, type LocalStack } from '#infra/local/index.ts';
import { checkedFetch } from '#test/support/api-contract.ts';
import { type ApiClient, startTestStack } from '#test/support/local-stack.ts';

let stack: LocalStack;
let api: ApiClient;

beforeAll(async () => {
  // No grace: a two-second run is past its deadline two seconds after it starts.
  ({ stack, api } = await startTestStack({ env: { RUN_GRACE_SECONDS: '0' } }));
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(async () => {
  // Every test starts with all slots free.
  expect((await api.post('/api/runs/interrupt-all')).status).toBe(200);
});

const start = (body: unknown = { duration: 60, interval: 1 }, user?: string) =>
  api.post('/api/runs/start', body, user ? { 'X-User': user } : {});

describe('start and read a run', () => {
  it('starts a run (201) and reads it back by id', async () => {
    const started = await start({ duration: 60, interval: 2, sensorIds: ['temp-1'] }, 'alice');
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({
      username: 'alice',
      status: 'RUNNING',
      duration: 60,
      interval: 2,
      sensorIds: ['temp-1'],
      params: { duration: 60, interval: 2, sensorIds: ['temp-1'] },
    });
    expect(started.body.runId).toBe(started.body.id);
    expect(started.body.params.runId).toBe(started.body.id);
    expect(Date.parse(started.body.startedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(started.body.grafanaUrl).toContain(`var-runId=${started.body.id}`);
    // Locally the link leads to the stack's own dashboard page, on the port it listens on.
    expect(started.body.grafanaUrl).toMatch(
      new RegExp(`^http://localhost:${stack.port}/grafana/d/iot-playground-sensors/`),
    );

    const read = await api.get(`/api/runs/${started.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(started.body);
  });

  it('accepts the params form and defaults the user to anonymous', async () => {
    const started = await start({ params: { duration: 5, interval: 1, sensorIds: ['a', 'b'] } });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ username: 'anonymous', sensorIds: ['a', 'b'] });
  });

  it('sanitises X-User', async () => {
    const started = await start(undefined, '<script>bob</script>');
    expect(started.body.username).toBe('scriptbobscript');
  });

  it('404s an unknown run, including ids that are no run id at all', async () => {
    const unknown = await api.get('/api/runs/00000000-0000-4000-8000-000000000000');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatch(/not found/);
    // A slot item shares the table; it must never be reachable as a run.
    const slot = await api.get('/api/runs/slot%230');
    expect(slot.status).toBe(404);
    expect((await api.post('/api/runs/not-a-run/finish')).status).toBe(404);
  });
});

describe('the concurrency limit', () => {
  it('can-start reports capacity', async () => {
    expect((await api.get('/api/runs/can-start')).body).toEqual({
      canStart: true,
      currentRunning: 0,
      maxAllowed: 5,
      available: 5,
    });
    await start();
    await start();
    expect((await api.get('/api/runs/can-start')).body).toMatchObject({
      currentRunning: 2,
      available: 3,
    });
  });

  it('50 simultaneous starts leave exactly 5 RUNNING and 45 clear refusals', async () => {
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => start({ duration: 60, interval: 1 }, `user-${i}`)),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(5);
    expect(statuses.filter((s) => s === 409)).toHaveLength(45);
    for (const refusal of responses.filter((r) => r.status === 409)) {
      expect(refusal.body).toMatchObject({
        error: 'Maximum number of concurrent runs reached',
        currentRunning: 5,
        maxAllowed: 5,
      });
    }
    const running = await api.get('/api/runs/running');
    expect(running.body).toHaveLength(5);
    expect(new Set(running.body.map((r: any) => r.id))).toEqual(
      new Set(responses.filter((r) => r.status === 201).map((r) => r.body.id)),
    );
    expect((await api.get('/api/runs/can-start')).body).toMatchObject({
      canStart: false,
      available: 0,
    });
  });
});

describe('finishing', () => {
  it.each([
    [undefined, 'COMPLETED', undefined],
    [{ status: 'SUCCESS' }, 'COMPLETED', undefined],
    [{ status: 'FAILED', errorMessage: 'sensor offline' }, 'FAILED', 'sensor offline'],
    [{ errorMessage: 'browser closed' }, 'FAILED', 'browser closed'],
  ])('finish with %j ends the run as %s', async (body, status, errorMessage) => {
    const run = (await start()).body;
    const finished = await api.post(`/api/runs/${run.id}/finish`, body);
    expect(finished.status).toBe(200);
    expect(finished.body).toMatchObject({ id: run.id, status });
    expect(finished.body.errorMessage).toBe(errorMessage);
    expect(Date.parse(finished.body.finishedAt)).toBeGreaterThanOrEqual(Date.parse(run.startedAt));
    expect((await api.get('/api/runs/can-start')).body.available).toBe(5);
  });

  it('409s a run that is not running and 404s an unknown one', async () => {
    const run = (await start()).body;
    await api.post(`/api/runs/${run.id}/finish`);
    const again = await api.post(`/api/runs/${run.id}/finish`);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ status: 'COMPLETED' });
    const unknown = await api.post('/api/runs/00000000-0000-4000-8000-000000000000/finish');
    expect(unknown.status).toBe(404);
  });

  it('interrupt-all ends every running run as INTERRUPTED', async () => {
    const a = (await start()).body;
    const b = (await start()).body;
    const done = (await start()).body;
    await api.post(`/api/runs/${done.id}/finish`);

    const interrupted = await api.post('/api/runs/interrupt-all');
    expect(interrupted.status).toBe(200);
    expect(interrupted.body).toMatchObject({ interrupted: 2, message: expect.any(String) });
    expect(Date.parse(interrupted.body.timestamp)).toBeGreaterThan(0);
    for (const run of [a, b]) {
      expect((await api.get(`/api/runs/${run.id}`)).body.status).toBe('INTERRUPTED');
    }
    expect((await api.get(`/api/runs/${done.id}`)).body.status).toBe('COMPLETED');
    expect((await api.get('/api/runs/running')).body).toEqual([]);
  });
});

describe('interrupt-all is an operator’s: IAM authorization without JWT', () => {
  // The stack puts the route behind AWS_IAM; API Gateway answers a request without a valid
  // SigV4 signature itself, 403 {"message":"Forbidden"}, and never invokes the function
  // (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-access-control-iam.html).
  it('is refused 403 unsigned, or signed by a key the API does not know, and ends nothing', async () => {
    const run = (await start()).body;
    const unsigned = await checkedFetch(`${stack.url}/api/runs/interrupt-all`, { method: 'POST' });
    expect(unsigned.status).toBe(403);
    expect(await unsigned.json()).toEqual({ message: 'Forbidden' });
    const stranger = await runAdminCommand(['interrupt-all', '--url', stack.url], {
      env: { AWS_REGION: 'us-east-1' },
      credentials: () => ({ accessKeyId: 'AKIDSTRANGER', secretAccessKey: 'guessed' }),
      print: () => undefined,
    });
    expect(stranger).toBe(1);
    expect((await api.get(`/api/runs/${run.id}`)).body.status).toBe('RUNNING');
  });

  it('is done by `npm run admin -- interrupt-all` signing with the operator’s credentials', async () => {
    const run = (await start()).body;
    const printed: string[] = [];
    const exitCode = await runAdminCommand(['interrupt-all', '--url', stack.url], {
      env: { AWS_REGION: 'us-east-1' },
      credentials: () => LOCAL_OPERATOR,
      print: (line) => printed.push(line),
    });
    expect(exitCode).toBe(0);
    expect(printed.join('\n')).toContain('-> 200');
    expect((await api.get(`/api/runs/${run.id}`)).body.status).toBe('INTERRUPTED');
  });
});

describe('listings', () => {
  it('running, all and the paginated list are newest first', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await start(undefined, `lister-${i}`)).body.id);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await api.post(`/api/runs/${ids[0]}/finish`);

    const running = (await api.get('/api/runs/running')).body.map((r: any) => r.id);
    expect(running).toEqual([ids[2], ids[1]]);

    const all = (await api.get('/api/runs/all')).body;
    expect(all.slice(0, 3).map((r: any) => r.id)).toEqual([ids[2], ids[1], ids[0]]);
    const startedAts = all.map((r: any) => r.startedAt);
    expect([...startedAts].sort().reverse()).toEqual(startedAts);

    const first = await api.get('/api/runs?limit=2');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ count: 2, nextKey: expect.any(String) });
    expect(first.body.items.map((r: any) => r.id)).toEqual([ids[2], ids[1]]);
    const second = await api.get(`/api/runs?limit=2&lastKey=${first.body.nextKey}`);
    expect(second.body.items[0].id).toBe(ids[0]);

    // Walking every page visits every run exactly once.
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await api.get(`/api/runs?limit=7${cursor ? `&lastKey=${cursor}` : ''}`);
      seen.push(...page.body.items.map((r: any) => r.id));
      cursor = page.body.nextKey;
    } while (cursor);
    expect(seen).toEqual(all.map((r: any) => r.id));
  });

  it('rejects a bad limit or a tampered cursor with 400', async () => {
    expect((await api.get('/api/runs?limit=0')).status).toBe(400);
    expect((await api.get('/api/runs?limit=abc')).status).toBe(400);
    const forge = (key: object) => Buffer.from(JSON.stringify(key)).toString('base64url');
    const id = '00000000-0000-4000-8000-000000000001';
    for (const key of [
      { id: 'x', evil: 1 },
      { id, listPk: 'OTHER', startedKey: `2026-11-25T10:00:00.000Z#${id}` },
      { id: 'x', listPk: 'RUN', startedKey: 'z' },
      { id, listPk: 'RUN', startedKey: `not-a-time#${id}` },
    ]) {
      const tampered = await api.get(`/api/runs?lastKey=${forge(key)}`);
      expect(tampered.status).toBe(400);
      expect(tampered.body.details[0].field).toBe('lastKey');
    }
  });
});

describe('timeouts', () => {
  it('a run past duration + grace stops counting at once; the sweeper records TIMEOUT', async () => {
    const run = (await start({ duration: 2, interval: 1 })).body;
    expect((await api.get('/api/runs/can-start')).body.currentRunning).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 2_100));

    expect((await api.get('/api/runs/can-start')).body.currentRunning).toBe(0);
    expect((await api.get(`/api/runs/${run.id}`)).body.status).toBe('TIMEOUT');
    expect((await api.get('/api/runs/running')).body).toEqual([]);
    expect((await api.post(`/api/runs/${run.id}/finish`)).status).toBe(409);

    const report = (await stack.runSchedule('runSweeper')) as { timedOut: string[] };
    expect(report.timedOut).toEqual([run.id]);
    const swept = (await api.get(`/api/runs/${run.id}`)).body;
    expect(swept).toMatchObject({ status: 'TIMEOUT', errorMessage: expect.stringContaining('2s') });
    expect(Date.parse(swept.finishedAt)).toBeGreaterThan(Date.parse(run.startedAt));
  });
});

describe('bad input stores nothing', () => {
  it.each([
    ['{"duration": 60,', 'Request body is not valid JSON'],
    ['[1,2]', 'Request body must be a JSON object'],
    ['{"duration": "60", "interval": 1000}', 'Invalid run parameters'],
    ['{"duration": 60, "interval": 1000, "sensorIds": ["ok", "../etc"]}', 'Invalid run parameters'],
  ])('start with %s → 400 %s', async (rawBody, error) => {
    const before = (await api.get('/api/runs/all')).body.length;
    const response = await api.request('POST', '/api/runs/start', {
      rawBody,
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe(error);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect((await api.get('/api/runs/all')).body.length).toBe(before);
    expect((await api.get('/api/runs/can-start')).body.available).toBe(5);
  });

  it('a body over the run API limit is 413', async () => {
    const response = await api.post('/api/runs/start', {
      duration: 1,
      interval: 1,
      pad: 'x'.repeat(20_000),
    });
    expect(response.status).toBe(413);
  });

  it('finish with an invalid status is 400 and leaves the run RUNNING', async () => {
    const run = (await start()).body;
    const response = await api.post(`/api/runs/${run.id}/finish`, { status: 'DONE' });
    expect(response.status).toBe(400);
    expect((await api.get(`/api/runs/${run.id}`)).body.status).toBe('RUNNING');
  });
});

describe('under the JWT authorizer a run is its starter’s', () => {
  // The stack started with jwtIssuer/jwtAudience: the user is the token's, and finishing a run
  // or posting into it is for its starter (the token's `sub`) or an admin.
  const ISSUER = 'https://auth.example.com/realms/iot';
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const token = (claims: Record<string, unknown>): string => {
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${encode({ alg: 'RS256', typ: 'JWT', kid: 'k1' })}.${encode({
      iss: ISSUER,
      aud: 'iot-playground',
      iat: now - 5,
      exp: now + 600,
      ...claims,
    })}`;
    return `${unsigned}.${sign('sha256', Buffer.from(unsigned), privateKey).toString('base64url')}`;
  };
  const as = (claims: Record<string, unknown>) => ({ authorization: `Bearer ${token(claims)}` });
  const alice = as({ sub: 'alice-sub', username: 'alice' });
  const bob = as({ sub: 'bob-sub', username: 'bob' });
  const admin = as({ sub: 'ops-sub', username: 'ops', scope: 'openid admin' });

  let jwtStack: LocalStack;
  let jwtApi: ApiClient;
  beforeAll(async () => {
    ({ stack: jwtStack, api: jwtApi } = await startTestStack({
      jwt: {
        issuer: ISSUER,
        audience: ['iot-playground'],
        keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1' }],
      },
    }));
  });
  afterAll(async () => {
    await jwtStack?.stop();
  });

  const startAsAlice = async () =>
    (await jwtApi.post('/api/runs/start', { duration: 60, interval: 1 }, alice)).body;
  const readings = { measurements: [{ sensorId: 'temp-1', reading: 21.5 }] };

  it('refuses another user’s finish and readings with 403, and the run stays RUNNING', async () => {
    const run = await startAsAlice();
    const finish = await jwtApi.post(`/api/runs/${run.id}/finish`, undefined, bob);
    expect(finish.status).toBe(403);
    const posted = await jwtApi.post('/api/sensors/data', readings, { ...bob, 'X-Run-Id': run.id });
    expect(posted.status).toBe(403);
    expect((await jwtApi.get(`/api/runs/${run.id}`, alice)).body.status).toBe('RUNNING');
    await jwtApi.post(`/api/runs/${run.id}/finish`, undefined, alice);
  });

  it('lets the starter post and finish, and an admin finish anyone’s run', async () => {
    const own = await startAsAlice();
    const posted = await jwtApi.post('/api/sensors/data', readings, {
      ...alice,
      'X-Run-Id': own.id,
    });
    expect(posted).toMatchObject({ status: 202, body: { accepted: 1 } });
    expect((await jwtApi.post(`/api/runs/${own.id}/finish`, undefined, alice)).status).toBe(200);
    const other = await startAsAlice();
    const byAdmin = await jwtApi.post(`/api/runs/${other.id}/finish`, undefined, admin);
    expect(byAdmin).toMatchObject({ status: 200, body: { status: 'COMPLETED' } });
  });
});
