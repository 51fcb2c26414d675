/** The local API Gateway over HTTP: route parity with the topology, CORS, limits, errors. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '#infra/local/index.ts';
import { topology } from '#infra/topology.ts';
import { type ApiClient, startTestStack } from '#test/support/local-stack.ts';
import { checkedFetch } from '#test/support/api-contract.ts';

let stack: LocalStack;
let api: ApiClient;

beforeAll(async () => {
  ({ stack, api } = await startTestStack({ corsOrigins: ['https://playground.example'] }));
});
afterAll(async () => {
  await stack?.stop();
});

const SOME_ID = '00000000-0000-4000-8000-000000000001';

describe('every route of the topology answers locally', () => {
  it.each(topology.routes.map((r) => [r.method, r.path, r.function]))(
    '%s %s (%s)',
    async (method, path) => {
      const response = await api.request(method, path.replace('{id}', SOME_ID));
      // Reached its function: a JSON answer from the handler, not the gateway's or a crash.
      expect(response.status).toBeLessThan(500);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(response.body?.error ?? '').not.toMatch(/^No route|not allowed/);
    },
  );
});

describe('unmatched requests', () => {
  it('404 JSON for an unknown path', async () => {
    const response = await api.get('/api/nothing-here');
    expect(response.status).toBe(404);
    expect(response.body).toEqual({
      error: 'No route for GET /api/nothing-here',
      message: 'No route for GET /api/nothing-here',
      details: [],
    });
  });

  it('405 JSON with Allow for a known path under another method', async () => {
    const response = await api.request('PUT', '/api/runs/can-start');
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
    // `/api/runs/start` also matches `GET /api/runs/{id}`, as it would on API Gateway.
    const start = await api.request('DELETE', '/api/runs/start');
    expect(start.headers.get('allow')).toBe('POST, GET');
    expect(response.body.error).toMatch(/not allowed/);
  });
});

describe('CORS', () => {
  it('answers a preflight from an allowed origin with the contract headers', async () => {
    const response = await checkedFetch(`${stack.url}/api/runs/start`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://playground.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-user',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://playground.example');
    const allowed = response.headers.get('access-control-allow-headers')?.split(', ');
    expect(allowed).toEqual(
      expect.arrayContaining([
        'Content-Type',
        'Authorization',
        'X-User',
        'X-Run-Id',
        'Idempotency-Key',
      ]),
    );
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
  });

  it('gives no CORS grant to another origin', async () => {
    const response = await checkedFetch(`${stack.url}/api/runs/can-start`, {
      headers: { origin: 'https://elsewhere.example' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('adds the origin grant to ordinary responses', async () => {
    const response = await checkedFetch(`${stack.url}/api/runs/can-start`, {
      headers: { origin: 'https://playground.example' },
    });
    expect(response.headers.get('access-control-allow-origin')).toBe('https://playground.example');
    expect(response.headers.get('access-control-expose-headers')).toBe(
      'Idempotent-Replayed, Content-Disposition, Report-State',
    );
    expect(response.headers.get('apigw-requestid')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('limits', () => {
  it('refuses a body over API Gateway’s payload limit with its own 413', async () => {
    const response = await api.request('POST', '/api/runs/start', {
      rawBody: 'x'.repeat(topology.api.maxBodyBytes + 1),
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(413);
    expect(response.body).toEqual({ message: 'Request Entity Too Large' });
  });

  it('answers 500 when Lambda would refuse an invocation over its 6 MB payload limit', async () => {
    const response = await api.request('POST', '/api/runs/start', {
      rawBody: 'x'.repeat(7 * 1024 * 1024),
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(500);
    expect(response.body).toEqual({ message: 'Internal Server Error' });
  });

  it('answers 400 for a path with broken percent-encoding', async () => {
    const response = await api.get('/api/runs/%E0%A4%A');
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ message: 'Bad Request' });
  });
});

describe('GET /local/stats', () => {
  it('meters each function with its wall time, GB-seconds and CPU time', async () => {
    await api.request('DELETE', '/local/stats');
    expect((await api.get('/api/runs/can-start')).status).toBe(200);
    const { usage } = (await api.get('/local/stats')).body;
    expect(usage.apiRequests).toBe(1);
    const runApi = usage.lambda.runApi;
    expect(runApi.invocations).toBe(1);
    expect(runApi.gbSeconds).toBeGreaterThan(0);
    expect(runApi.cpuMs).toBeGreaterThan(0);
    // One thread's CPU time within its own wall time (a ms of slack for the two clocks).
    expect(runApi.cpuMs).toBeLessThanOrEqual(runApi.durationMs + 1);
  });
});
