/** API Gateway HTTP API (payload v2) helpers shared by the HTTP-facing functions. */
import type { Logger } from '@aws-lambda-powertools/logger';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import {
  BadRequestError,
  DomainError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
} from './errors.ts';
import { beginInvocation } from './powertools.ts';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

export const jsonResponse = (
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResult => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

/** Header lookup; API Gateway lowercases names in v2 events, callers may not. */
export const header = (event: HttpEvent, name: string): string | undefined => {
  const value = event.headers?.[name.toLowerCase()];
  return value === undefined || value === '' ? undefined : value;
};

export const queryParam = (event: HttpEvent, name: string): string | undefined => {
  const value = event.queryStringParameters?.[name];
  return value === undefined || value === '' ? undefined : value;
};

/** The raw body as text, decoded when API Gateway base64-encoded it, capped at `maxBytes`. */
export const bodyText = (event: HttpEvent, maxBytes: number): string | undefined => {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  const buffer = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : undefined;
  const bytes = buffer ? buffer.length : Buffer.byteLength(event.body, 'utf8');
  if (bytes > maxBytes) {
    throw new PayloadTooLargeError(`Request body is ${bytes} bytes; the limit is ${maxBytes}`);
  }
  return buffer ? buffer.toString('utf8') : event.body;
};

/** The JSON body, or `undefined` when there is none. Malformed JSON is a 400. */
export const parseJsonBody = (event: HttpEvent, maxBytes: number): unknown => {
  const text = bodyText(event, maxBytes);
  if (text === undefined || text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BadRequestError('Request body is not valid JSON');
  }
};

/**
 * Maps any error to the contract's body, `{error, message, details, ...extra}`: `message` repeats
 * the human text because the existing front end shows `error.error?.message`. Internals stay in
 * the log.
 */
export const toErrorResponse = (error: unknown, logger: Logger): HttpResult => {
  if (error instanceof DomainError) {
    if (error.statusCode >= 500) logger.error(error.message, { error });
    else logger.info('Request refused', { status: error.statusCode, reason: error.message });
    const headers: Record<string, string> =
      error instanceof MethodNotAllowedError
        ? { allow: (error.extra.allowed as string[]).join(', ') }
        : {};
    return jsonResponse(
      error.statusCode,
      { error: error.message, message: error.message, details: error.details, ...error.extra },
      headers,
    );
  }
  logger.error('Unhandled error', { error: error as Error });
  const text = 'Internal server error';
  return jsonResponse(500, { error: text, message: text, details: [] });
};

/** A path template of the topology (`/api/runs/{id}`) as a matcher. */
const templateMatcher = (template: string): RegExp =>
  new RegExp(`^${template.replace(/\{[^/}]+\}/g, '[^/]+')}$`);

/**
 * Answer for a request that matched no route: 405 when the path exists under another method,
 * 404 otherwise. API Gateway sends such requests to the `$default` route.
 */
export const unmatchedRoute = (
  event: HttpEvent,
  routes: readonly { method: string; path: string }[],
): never => {
  const path = event.rawPath;
  const allowed = [
    ...new Set(routes.filter((r) => templateMatcher(r.path).test(path)).map((r) => r.method)),
  ];
  if (allowed.length > 0) {
    throw new MethodNotAllowedError(
      `Method ${event.requestContext.http.method} is not allowed on ${path}`,
      allowed,
    );
  }
  throw new NotFoundError(`No route for ${event.requestContext.http.method} ${path}`);
};

export type RouteHandler = (event: HttpEvent, context: Context) => Promise<HttpResult>;

/**
 * Wraps an HTTP handler: per-invocation log context, and every thrown error mapped to a JSON
 * response so a client mistake is never a 502 from API Gateway.
 */
export const httpHandler =
  (logger: Logger, handle: RouteHandler) =>
  async (event: HttpEvent, context: Context): Promise<HttpResult> => {
    beginInvocation(logger, context, {
      requestId: event.requestContext?.requestId,
      route: event.routeKey,
    });
    try {
      return await handle(event, context);
    } catch (error) {
      return toErrorResponse(error, logger);
    }
  };
