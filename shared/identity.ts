/** Bounds and sanitising of identifiers that arrive from clients. */
import { BadRequestError } from './errors.ts';

/** Sensor ids, run ids and similar: letters, digits, `_`, `-`, `.`, `:`; 1 to 64 characters. */
export const SAFE_ID = /^[A-Za-z0-9_.:-]{1,64}$/;
export const MAX_USER_LENGTH = 64;
export const ANONYMOUS_USER = 'anonymous';

export const isSafeId = (value: unknown): value is string =>
  typeof value === 'string' && SAFE_ID.test(value);

/**
 * The `X-User` header as a user name: control characters and anything outside a conservative
 * set are dropped, length is capped; empty means anonymous. Sanitised, not refused, because
 * the front end sends free text.
 */
export const sanitizeUser = (raw: string | undefined): string => {
  if (raw === undefined) return ANONYMOUS_USER;
  const cleaned = raw
    .normalize('NFC')
    .replace(/[^\p{L}\p{N} _.@:-]/gu, '')
    .trim()
    .slice(0, MAX_USER_LENGTH);
  return cleaned === '' ? ANONYMOUS_USER : cleaned;
};

/** A run id as it appears in paths and headers; runs are created with UUIDs. */
export const RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const requireRunId = (value: unknown, field = 'runId'): string => {
  if (typeof value !== 'string' || !RUN_ID.test(value)) {
    throw new BadRequestError(`${field} must be a run id (a lowercase UUID)`, [
      { field, message: 'expected a lowercase UUID' },
    ]);
  }
  return value;
};

/** JWT claims API Gateway's JWT authorizer passes on, when one is configured. */
export type JwtClaims = Record<string, string | number | boolean | string[] | undefined>;

export const jwtClaims = (event: { requestContext?: object }): JwtClaims | undefined =>
  (event.requestContext as { authorizer?: { jwt?: { claims?: JwtClaims } } } | undefined)
    ?.authorizer?.jwt?.claims;

/**
 * The principal of a SigV4-signed request, as API Gateway passes it when the route's IAM
 * authorizer (`AWS_IAM`) accepted the signature: `requestContext.authorizer.iam`, with
 * `accessKey`, `accountId`, `callerId`, `userArn`, `userId` (payload format 2.0; e.g. aws/aws-lambda-go
 * events/testdata/apigw-v2-request-iam.json). Only API Gateway writes the request context, so a
 * client cannot forge it.
 */
export interface IamCaller {
  accessKey?: string;
  accountId?: string;
  userArn?: string;
}

export const iamCaller = (event: { requestContext?: object }): IamCaller | undefined =>
  (event.requestContext as { authorizer?: { iam?: IamCaller } } | undefined)?.authorizer?.iam;

/**
 * Whether the caller may use the admin routes: a token with the admin group or scope, or a
 * request the route's IAM authorizer let through (the principal held `execute-api:Invoke` on
 * it). Neither — no authorizer at all — is never an admin.
 */
export const isAdminCaller = (event: { requestContext?: object }, adminGroup = 'admin'): boolean =>
  iamCaller(event) !== undefined || isAdmin(jwtClaims(event), adminGroup);

/**
 * Who is calling: under a JWT authorizer the token decides (never a header a caller can
 * forge); without one, the front end's `X-User` header, sanitised.
 */
export const callerName = (claims: JwtClaims | undefined, xUser: string | undefined): string => {
  if (claims === undefined) return sanitizeUser(xUser);
  const name = claims['username'] ?? claims['cognito:username'] ?? claims['email'] ?? claims['sub'];
  return sanitizeUser(typeof name === 'string' ? name : undefined);
};

/**
 * The token's subject, the identity a run is owned by: `sub` (the issuer's stable id for the
 * user), else `client_id` (a machine client's token may have no `sub`). Not the user name: names
 * can change, and two differ only in what sanitising drops.
 */
export const callerSubject = (claims: JwtClaims): string | undefined => {
  const subject = claims['sub'] ?? claims['client_id'];
  return typeof subject === 'string' && subject !== '' ? subject : undefined;
};

/**
 * Who may act on a run under the JWT authorizer: `subject` owns the runs it starts; an admin
 * may act on any. Undefined without JWT: there is no identity to check, so no ownership.
 */
export interface RunActor {
  subject: string | undefined;
  admin: boolean;
}

export const runActor = (
  event: { requestContext?: object },
  adminGroup = 'admin',
): RunActor | undefined => {
  const claims = jwtClaims(event);
  if (claims === undefined) return undefined;
  return { subject: callerSubject(claims), admin: isAdmin(claims, adminGroup) };
};

/** Whether `actor` may finish a run, or post readings into it. */
export const mayActOnRun = (actor: RunActor | undefined, run: { owner?: string }): boolean =>
  actor === undefined ||
  actor.admin ||
  (actor.subject !== undefined && run.owner === actor.subject);

/** Whether the token grants admin rights: a group (`cognito:groups`/`groups`) or scope named `admin`. */
export const isAdmin = (claims: JwtClaims | undefined, adminGroup = 'admin'): boolean => {
  if (claims === undefined) return false;
  const listed = (value: JwtClaims[string]): string[] =>
    Array.isArray(value)
      ? value
      : typeof value === 'string'
        ? value.replace(/^\[|\]$/g, '').split(/[\s,]+/)
        : [];
  return [claims['cognito:groups'], claims['groups'], claims['scope']]
    .flatMap(listed)
    .includes(adminGroup);
};
