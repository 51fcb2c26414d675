import { describe, expect, it } from 'vitest';
import { topology } from '../topology.ts';
import { fromResult, makeRouter } from './gateway.ts';

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
