/**
 * API Gateway's JWT authorizer, for the local gateway, from
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html:
 * the token comes from the Authorization header, bare or prefixed with `Bearer`; its `kid` and
 * RSA signature must match a key of the issuer's key set (API Gateway supports RSA algorithms
 * only); `iss` must be the issuer; `aud` must match an audience (`client_id` is checked only
 * when `aud` is absent); `exp` must be after, `nbf` and `iat` before now. A refusal is
 * `401 {"message":"Unauthorized"}` with a `www-authenticate` header saying why
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-jwt.html).
 * Keys come from configuration instead of the issuer's `/.well-known` endpoint: no network.
 */
import { createPublicKey, type JsonWebKey, verify } from 'node:crypto';

export interface JwtAuthorizerConfig {
  issuer: string;
  audience: string[];
  /** The issuer's signing keys (its JWKS `keys`), public RSA keys with a `kid`. */
  keys: (JsonWebKey & { kid?: string })[];
  now?: () => number;
}

export type JwtClaims = Record<string, unknown>;

export type Authorization =
  { ok: true; claims: JwtClaims; scopes: string[] } | { ok: false; description: string };

const HASHES: Record<string, string> = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512' };

const decodePart = (part: string | undefined): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
};

export const makeJwtAuthorizer = (config: JwtAuthorizerConfig) => {
  const now = config.now ?? Date.now;
  return (authorizationHeader: string | undefined): Authorization => {
    const refuse = (description: string): Authorization => ({ ok: false, description });
    const token = authorizationHeader?.replace(/^Bearer\s+/i, '').trim();
    if (!token) return refuse('the token is missing');
    const [headerPart, payloadPart, signaturePart] = token.split('.');
    const header = decodePart(headerPart);
    const claims = decodePart(payloadPart);
    if (!header || !claims || signaturePart === undefined) return refuse('the token is malformed');
    const hash = HASHES[String(header.alg)];
    if (hash === undefined)
      return refuse(`the token's algorithm ${String(header.alg)} is not supported`);
    const key = config.keys.find((candidate) => candidate.kid === header.kid);
    if (key === undefined) return refuse('the token has no valid kid');
    const signed = verify(
      hash,
      Buffer.from(`${headerPart}.${payloadPart}`),
      createPublicKey({ key, format: 'jwk' }),
      Buffer.from(signaturePart, 'base64url'),
    );
    if (!signed) return refuse('the token signature is invalid');
    if (claims.iss !== config.issuer) return refuse('the token does not have a valid issuer');
    const audiences = claims.aud === undefined ? [claims.client_id] : [claims.aud].flat();
    if (!audiences.some((aud) => config.audience.includes(String(aud)))) {
      return refuse('the token does not have a valid audience');
    }
    const seconds = now() / 1000;
    if (typeof claims.exp !== 'number' || claims.exp <= seconds)
      return refuse('the token has expired');
    if (typeof claims.nbf === 'number' && claims.nbf > seconds)
      return refuse('the token is not valid yet');
    if (typeof claims.iat === 'number' && claims.iat > seconds)
      return refuse('the token was issued in the future');
    const scope = claims.scope ?? claims.scp;
    const scopes =
      typeof scope === 'string'
        ? scope.split(' ').filter(Boolean)
        : Array.isArray(scope)
          ? scope.map(String)
          : [];
    return { ok: true, claims, scopes };
  };
};

export type JwtAuthorizer = ReturnType<typeof makeJwtAuthorizer>;
