import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { topology } from '#infra/topology.ts';
import { fromResult, makeGateway, makeRouter } from './gateway.ts';
import { FunctionError, FunctionTimeoutError } from '../lambda/index.ts';

/** Serves a gateway whose functions are `invoke`, and sends it one request. */
const throughGateway = async (
  invoke: (name: string, event: APIGatewayProxyEventV2) => Promise<unknown>,
  path: string,
  init: RequestInit = {},
) => {
  const gateway = makeGateway({
    routes: topology.routes,
    defaultRouteFunction: 'runApi',
    maxBodyBytes: 1024,
    cors: {
      allowOrigins: ['*'],
      allowHeaders: [],
      allowMethods: [],
      exposeHeaders: [],
      maxAgeSeconds: 0,
    },
    invoke,
    log: () => undefined,
  });
  const server = createServer((request, response) => void gateway(request, response));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}${path}`, init);
    return { status: response.status, body: (await response.json()) as unknown };
  } finally {
    server.close();
  }
};

describe('router', () => {
  const route = makeRouter(topology.routes);

  it('prefers static segments over path parameters, as API Gateway does', () => {
    expect(route('GET', '/api/runs/running').route?.path).toBe('/api/runs/running');
    expect(route('GET', '/api/runs/all').route?.path).toBe('/api/runs/all');
    expect(route('GET', '/api/runs/abc')).toMatchObject({
      route: { path: '/api/runs/{id}' },
      pathParameters: { id: 'abc' },
    });
    expect(route('POST', '/api/runs/abc/finish').pathParameters).toEqual({ id: 'abc' });
  });

  it('matches method and whole path only', () => {
    expect(route('DELETE', '/api/runs/running').route).toBeUndefined();
    expect(route('GET', '/api/runs/abc/finish').route).toBeUndefined();
    expect(route('GET', '/api/runs/running/').route).toBeUndefined();
  });

  it('decodes path parameters', () => {
    expect(route('GET', '/api/runs/a%20b').pathParameters).toEqual({ id: 'a b' });
  });
});

describe('fromResult (payload v2 response rules)', () => {
  it('uses a structured result as it is', () => {
    const result = fromResult({ statusCode: 201, headers: { 'X-A': '1' }, body: '{"ok":true}' });
    expect(result.status).toBe(201);
    expect(result.headers).toEqual({ 'x-a': '1' });
    expect(result.body.toString()).toBe('{"ok":true}');
  });

  it('decodes base64 bodies and passes cookies', () => {
    const result = fromResult({
      statusCode: 200,
      body: Buffer.from('bin').toString('base64'),
      isBase64Encoded: true,
      cookies: ['a=1'],
    });
    expect(result.body.toString()).toBe('bin');
    expect(result.headers['set-cookie']).toEqual(['a=1']);
  });

  it('turns any other value into a 200 JSON body', () => {
    const result = fromResult({ items: [1] });
    expect(result).toMatchObject({ status: 200, headers: { 'content-type': 'application/json' } });
    expect(JSON.parse(result.body.toString())).toEqual({ items: [1] });
  });
});

describe('gateway', () => {
  it('sends a payload-v2 event with path parameters, query and cookies', async () => {
    let seen: APIGatewayProxyEventV2 | undefined;
    await throughGateway(
      async (_name, event) => {
        seen = event;
        return { ok: true };
      },
      '/api/runs/abc/finish?x=1&x=2',
      { method: 'POST', body: '{"a":1}', headers: { cookie: 'a=1; b=2', 'X-User': 'zed' } },
    );
    expect(seen).toMatchObject({
      version: '2.0',
      routeKey: 'POST /api/runs/{id}/finish',
      rawPath: '/api/runs/abc/finish',
      rawQueryString: 'x=1&x=2',
      queryStringParameters: { x: '1,2' },
      pathParameters: { id: 'abc' },
      cookies: ['a=1', 'b=2'],
      body: '{"a":1}',
      isBase64Encoded: false,
      requestContext: { http: { method: 'POST', path: '/api/runs/abc/finish' }, stage: '$default' },
    });
    expect(seen?.headers['x-user']).toBe('zed');
    expect(seen?.headers.cookie).toBeUndefined();
  });

  it('answers a failed or timed-out function as API Gateway does: 502, its own body', async () => {
    for (const failure of [
      new FunctionError('runApi', 'TypeError', 'boom'),
      new FunctionTimeoutError('runApi', 10_000),
    ]) {
      const response = await throughGateway(() => Promise.reject(failure), '/api/runs/can-start');
      expect(response).toEqual({ status: 502, body: { message: 'Internal Server Error' } });
    }
  });
});
