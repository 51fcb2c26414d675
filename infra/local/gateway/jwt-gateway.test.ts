/**
 * The local gateway under a JWT authorizer, as API Gateway behaves with the stack's set-up:
 * the authorizer on every route and `$default` refuses a request without a valid token with
 * `401 {"message":"Unauthorized"}` and a www-authenticate header
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html,
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-jwt.html),
 * while a browser's CORS preflight is answered without one, because the stack adds an
 * `OPTIONS /{proxy+}` route without authorization, which outranks `$default`
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html).
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { makeJwtAuthorizer } from './jwt-authorizer.ts';
import { useRunApiBehindGateway } from './test-support.ts';

const ISSUER = 'https://auth.example.com/realms/iot';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const KID = 'key-1';

const token = (claims: Record<string, unknown>, header: Record<string, unknown> = {}): string => {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'RS256', typ: 'JWT', kid: KID, ...header })}.${encode(claims)}`;
  return `${unsigned}.${sign('sha256', Buffer.from(unsigned), privateKey).toString('base64url')}`;
};
const now = Math.floor(Date.now() / 1000);
const valid = {
  iss: ISSUER,
  aud: 'iot-playground',
  sub: 'u1',
  username: 'carol',
  iat: now - 10,
  exp: now + 600,
};

const served = useRunApiBehindGateway({
  allowOrigins: ['https://play.example.com'],
  jwt: makeJwtAuthorizer({
    issuer: ISSUER,
    audience: ['iot-playground'],
    keys: [{ ...publicKey.export({ format: 'jwk' }), kid: KID }],
  }),
});
const invoked = served.invoked;

const origin = { Origin: 'https://play.example.com' };

describe('local gateway under the JWT authorizer', () => {
  it('answers a browser preflight without a token, with the CORS headers', async () => {
    const response = await fetch(`${served.baseUrl}/api/runs/start`, {
      method: 'OPTIONS',
      headers: {
        ...origin,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization,content-type',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://play.example.com');
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
  });

  it('routes any other OPTIONS to the run API without authorization, which answers 204', async () => {
    const response = await fetch(`${served.baseUrl}/api/sensors/data`, {
      method: 'OPTIONS',
      headers: origin,
    });
    expect(response.status).toBe(204);
    expect(invoked.at(-1)?.routeKey).toBe('OPTIONS /{proxy+}');
  });

  it('refuses a request without a token as API Gateway does, before any function runs', async () => {
    const before = invoked.length;
    const response = await fetch(`${served.baseUrl}/api/runs/can-start`, { headers: origin });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ message: 'Unauthorized' });
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(response.headers.get('access-control-allow-origin')).toBe('https://play.example.com');
    expect(invoked.length).toBe(before);
  });

  it.each([
    ['an expired token', token({ ...valid, exp: now - 1 }), /expired/],
    ['another audience', token({ ...valid, aud: 'other' }), /audience/],
    ['another issuer', token({ ...valid, iss: 'https://evil.example.com' }), /issuer/],
    ['an unknown kid', token(valid, { kid: 'other' }), /kid/],
    ['an HMAC token', token(valid, { alg: 'HS256' }), /algorithm/],
    ['a forged signature', `${token(valid).slice(0, -8)}AAAAAAAA`, /signature/],
  ])('refuses %s', async (_, jwt, reason) => {
    const response = await fetch(`${served.baseUrl}/api/runs/can-start`, {
      headers: { Authorization: `Bearer ${jwt}` },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(reason);
  });

  it('passes a valid token’s claims to the function (bare or with Bearer)', async () => {
    for (const authorization of [`Bearer ${token(valid)}`, token(valid)]) {
      const response = await fetch(`${served.baseUrl}/api/runs/start`, {
        method: 'POST',
        headers: {
          Authorization: authorization,
          'Content-Type': 'application/json',
          'X-User': 'mallory',
        },
        body: JSON.stringify({ duration: 10, interval: 100 }),
      });
      expect(response.status).toBe(201);
      expect(((await response.json()) as { username: string }).username).toBe('carol');
    }
    expect(invoked.at(-1)?.requestContext).toMatchObject({
      authorizer: { jwt: { claims: { sub: 'u1' } } },
    });
  });

  it('takes client_id when the token has no aud', async () => {
    const { aud: _aud, ...withoutAud } = valid;
    const response = await fetch(`${served.baseUrl}/api/runs/can-start`, {
      headers: { Authorization: token({ ...withoutAud, client_id: 'iot-playground' }) },
    });
    expect(response.status).toBe(200);
  });
});
