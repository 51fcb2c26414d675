/**
 * The local API Gateway (HTTP API): the topology's route table, CORS with preflight, the body
 * size limit, the optional JWT authorizer (else IAM authorization on admin routes), and
 * payload-v2 events in and out, so handlers see what they see on AWS.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { routeAuthorization, routeKey, topology, type RouteSpec } from '#infra/topology.ts';
import { InvocationRejectedError } from '../lambda/index.ts';
import type { IamAuthorizer } from './iam-authorizer.ts';
import type { JwtAuthorizer } from './jwt-authorizer.ts';

export interface GatewayConfig {
  routes: readonly RouteSpec[];
  defaultRouteFunction: string;
  maxBodyBytes: number;
  cors: {
    allowOrigins: string[];
    allowHeaders: string[];
    allowMethods: string[];
    exposeHeaders: string[];
    maxAgeSeconds: number;
  };
  invoke: (functionName: string, event: APIGatewayProxyEventV2) => Promise<unknown>;
  log: (line: string) => void;
  /**
   * The JWT authorizer on every route and `$default`, as the CDK stack sets it up with
   * jwtIssuer/jwtAudience: everything but OPTIONS, which the stack routes without it
   * (`topology.api.preflightRoute`).
   */
  jwt?: JwtAuthorizer;
  /**
   * IAM authorization of the admin routes when there is no JWT authorizer, as the stack sets
   * it (`routeAuthorization`). Without it, those routes refuse every request.
   */
  iam?: IamAuthorizer;
}

/** The unauthenticated route the stack adds for OPTIONS under a JWT authorizer. */
export const JWT_PREFLIGHT_ROUTE_KEY = routeKey(topology.api.preflightRoute);

interface CompiledRoute {
  route: RouteSpec;
  pattern: RegExp;
  parameterNames: string[];
  /** Static segments win over parameters, as in API Gateway. */
  staticSegments: number;
}

const compile = (route: RouteSpec): CompiledRoute => {
  const parameterNames: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      const parameter = /^\{([^}]+)\}$/.exec(segment);
      if (!parameter) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      parameterNames.push(parameter[1] as string);
      return '([^/]+)';
    })
    .join('/');
  return {
    route,
    pattern: new RegExp(`^${source}$`),
    parameterNames,
    staticSegments: route.path.split('/').length - parameterNames.length,
  };
};

/** A path with broken percent-encoding; API Gateway refuses it before any route. */
export class MalformedPathError extends Error {}

const decodePathSegment = (segment: string | undefined): string => {
  try {
    return decodeURIComponent(segment ?? '');
  } catch {
    throw new MalformedPathError(`Malformed percent-encoding in ${segment}`);
  }
};

export interface RouteMatch {
  route?: RouteSpec;
  pathParameters?: Record<string, string>;
}

export const makeRouter = (routes: readonly RouteSpec[]) => {
  const compiled = routes.map(compile).sort((a, b) => b.staticSegments - a.staticSegments);
  return (method: string, path: string): RouteMatch => {
    for (const candidate of compiled) {
      if (candidate.route.method !== method) continue;
      const match = candidate.pattern.exec(path);
      if (!match) continue;
      if (candidate.parameterNames.length === 0) return { route: candidate.route };
      const pathParameters = Object.fromEntries(
        candidate.parameterNames.map((name, index) => [name, decodePathSegment(match[index + 1])]),
      );
      return { route: candidate.route, pathParameters };
    }
    return {};
  };
};

/** API Gateway's request-time format: `25/Nov/2026:19:03:58 +0000`. */
const requestTime = (date: Date): string => {
  const months = [
    'Jan',
    'Feb',
    'Mar',
    'Apr',
    'May',
    'Jun',
    'Jul',
    'Aug',
    'Sep',
    'Oct',
    'Nov',
    'Dec',
  ];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(
    date.getUTCHours(),
  )}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
};

const TEXT_TYPES =
  /^(text\/|application\/(json|[\w.+-]+\+json|x-www-form-urlencoded|xml|javascript))/i;

export const toEvent = (
  request: IncomingMessage,
  body: Buffer,
  match: RouteMatch,
): APIGatewayProxyEventV2 => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = name in query ? `${query[name]},${value}` : value;
  }
  const method = request.method ?? 'GET';
  const now = new Date();
  const key = match.route ? routeKey(match.route) : '$default';
  const contentType = headers['content-type'] ?? '';
  const isText = body.length === 0 || contentType === '' || TEXT_TYPES.test(contentType);
  // Payload v2 moves cookies out of the headers into their own list.
  const cookies = headers.cookie?.split(/;\s*/).filter(Boolean);
  delete headers.cookie;
  return {
    version: '2.0',
    routeKey: key,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    ...(cookies ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(match.pathParameters ? { pathParameters: match.pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: (headers.host ?? 'localhost').split('.')[0] as string,
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: key,
      stage: '$default',
      time: requestTime(now),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0
      ? { body: isText ? body.toString('utf8') : body.toString('base64'), isBase64Encoded: !isText }
      : { isBase64Encoded: false }),
  };
};

/** Payload v2 response rules: a structured result is used as is; anything else is a 200 JSON. */
export const fromResult = (
  result: unknown,
): { status: number; headers: Record<string, string | string[]>; body: Buffer } => {
  const structured =
    typeof result === 'object' && result !== null && 'statusCode' in result
      ? (result as APIGatewayProxyStructuredResultV2)
      : undefined;
  if (!structured) {
    const text = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(text),
    };
  }
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(structured.headers ?? {})) {
    headers[name.toLowerCase()] = String(value);
  }
  if (structured.cookies?.length) headers['set-cookie'] = structured.cookies;
  const raw = structured.body ?? '';
  return {
    status: structured.statusCode ?? 200,
    headers,
    body: structured.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw),
  };
};

/**
 * An answer API Gateway gives itself, in its own shape (`{"message": …}`), which no function
 * can change: the local stack shows the front end what AWS will show it.
 */
const sendGatewayError = (
  response: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
) => {
  response.writeHead(status, {
    'content-type': 'application/json',
    'x-amzn-errortype': message.replace(/\s+/g, ''),
    ...headers,
  });
  response.end(JSON.stringify({ message }));
};

class BodyTooLargeError extends Error {}

const readBody = (request: IncomingMessage, limit: number): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new BodyTooLargeError());
      request.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyTooLargeError());
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });

export const makeGateway = (config: GatewayConfig) => {
  const route = makeRouter(config.routes);
  const { cors } = config;

  const corsHeaders = (origin: string | undefined): Record<string, string> => {
    if (!origin) return {};
    const allowed = cors.allowOrigins.includes('*') || cors.allowOrigins.includes(origin);
    if (!allowed) return {};
    return {
      'access-control-allow-origin': cors.allowOrigins.includes('*') ? '*' : origin,
      ...(cors.exposeHeaders.length > 0
        ? { 'access-control-expose-headers': cors.exposeHeaders.join(', ') }
        : {}),
      vary: 'origin',
    };
  };

  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const started = Date.now();
    const method = request.method ?? 'GET';
    const origin = request.headers.origin;
    const baseHeaders = corsHeaders(origin);

    // Preflight is answered by the gateway itself, as API Gateway does when CORS is set.
    if (method === 'OPTIONS' && origin && request.headers['access-control-request-method']) {
      response.writeHead(204, {
        ...baseHeaders,
        ...(baseHeaders['access-control-allow-origin']
          ? {
              'access-control-allow-methods': cors.allowMethods.join(', '),
              'access-control-allow-headers': cors.allowHeaders.join(', '),
              'access-control-max-age': String(cors.maxAgeSeconds),
            }
          : {}),
      });
      response.end();
      return;
    }

    let body: Buffer;
    try {
      body = await readBody(request, config.maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        sendGatewayError(response, 413, 'Request Entity Too Large', baseHeaders);
        return;
      }
      throw error;
    }

    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    let match: RouteMatch;
    try {
      match = route(method, path);
    } catch (error) {
      if (!(error instanceof MalformedPathError)) throw error;
      sendGatewayError(response, 400, 'Bad Request', baseHeaders);
      return;
    }
    const functionName = match.route?.function ?? config.defaultRouteFunction;
    const event = toEvent(request, body, match);
    const requestIdHeader = { 'apigw-requestid': event.requestContext.requestId };
    if (config.jwt && method === 'OPTIONS') {
      event.routeKey = JWT_PREFLIGHT_ROUTE_KEY;
      event.requestContext.routeKey = JWT_PREFLIGHT_ROUTE_KEY;
    } else if (config.jwt) {
      const authorization = config.jwt(request.headers.authorization);
      if (!authorization.ok) {
        sendGatewayError(response, 401, 'Unauthorized', {
          ...baseHeaders,
          ...requestIdHeader,
          'www-authenticate': `Bearer scope="" error="invalid_token" error_description="${authorization.description}"`,
        });
        config.log(`${method} ${path} -> 401 (JWT: ${authorization.description})`);
        return;
      }
      Object.assign(event.requestContext, {
        authorizer: { jwt: { claims: authorization.claims, scopes: authorization.scopes } },
      });
    } else if (routeAuthorization(match.route, false) === 'iam') {
      const authorization = config.iam
        ? await config.iam({ method, url: request.url ?? '/', headers: request.headers, body })
        : { ok: false as const, description: 'no IAM principals are configured' };
      if (!authorization.ok) {
        sendGatewayError(response, 403, 'Forbidden', { ...baseHeaders, ...requestIdHeader });
        config.log(`${method} ${path} -> 403 (IAM: ${authorization.description})`);
        return;
      }
      Object.assign(event.requestContext, { authorizer: { iam: authorization.iam } });
    }
    try {
      const result = fromResult(await config.invoke(functionName, event));
      response.writeHead(result.status, { ...result.headers, ...baseHeaders, ...requestIdHeader });
      response.end(result.body);
      config.log(`${method} ${path} -> ${result.status} ${functionName} ${Date.now() - started}ms`);
    } catch (error) {
      // As API Gateway: Lambda refused the invocation → 500; the function failed, timed out
      // or answered in a wrong shape → 502. Either way the body is its generic message.
      const status = error instanceof InvocationRejectedError ? 500 : 502;
      sendGatewayError(response, status, 'Internal Server Error', {
        ...baseHeaders,
        ...requestIdHeader,
      });
      config.log(`${method} ${path} -> ${status} ${functionName}: ${(error as Error).message}`);
    }
  };
};
