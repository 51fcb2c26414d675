/**
 * Starts the local stack on a free port for a test file and gives it a small JSON client whose
 * every answer is checked against the OpenAPI description (api-contract.ts).
 */
import { signedHeaders } from '#infra/admin/sigv4.ts';
import {
  LOCAL_OPERATOR,
  LOCAL_REGION,
  startLocalStack,
  type LocalStack,
  type LocalStackOptions,
} from '#infra/local/index.ts';
import { routeKey, topology } from '#infra/topology.ts';
import { checkedFetch } from './api-contract.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface ApiClient {
  request<T = any>(
    method: string,
    path: string,
    options?: { body?: unknown; rawBody?: string; headers?: Record<string, string> },
  ): Promise<ApiResponse<T>>;
  get<T = any>(path: string, headers?: Record<string, string>): Promise<ApiResponse<T>>;
  post<T = any>(
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResponse<T>>;
}

/** The admin routes (no path parameters), which the client signs as an operator would. */
const ADMIN_ROUTES = new Set(topology.routes.filter((route) => route.admin).map(routeKey));

/**
 * Headers of a request to the local stack: an admin route's request without its own
 * Authorization is signed with SigV4 by the local operator (the stack's IAM authorization
 * refuses it otherwise), as `npm run admin` signs it against AWS.
 */
const requestHeaders = async (
  method: string,
  url: URL,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<Record<string, string>> => {
  const admin = ADMIN_ROUTES.has(`${method} ${url.pathname}`);
  const own = Object.keys(headers).some((name) => name.toLowerCase() === 'authorization');
  if (!admin || own) return headers;
  const { host: _host, ...signed } = await signedHeaders(
    { method, url, headers, ...(body === undefined ? {} : { body }) },
    { credentials: LOCAL_OPERATOR, region: LOCAL_REGION },
  );
  return signed;
};

export const apiClient = (baseUrl: string): ApiClient => {
  const request: ApiClient['request'] = async (method, path, options = {}) => {
    const body =
      options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    const url = new URL(`${baseUrl}${path}`);
    // Every answer is held to the OpenAPI description (a violation fails the test).
    const response = await checkedFetch(url.toString(), {
      method,
      headers: await requestHeaders(
        method,
        url,
        {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...options.headers,
        },
        body,
      ),
      ...(body !== undefined ? { body } : {}),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // Left as text: tests assert on JSON, so a non-JSON body fails them visibly.
    }
    return { status: response.status, headers: response.headers, body: parsed as never };
  };
  return {
    request,
    get: (path, headers) => request('GET', path, headers ? { headers } : {}),
    post: (path, body, headers) =>
      request('POST', path, {
        ...(body !== undefined ? { body } : {}),
        ...(headers ? { headers } : {}),
      }),
  };
};

export const startTestStack = async (
  options: LocalStackOptions = {},
): Promise<{ stack: LocalStack; api: ApiClient }> => {
  const stack = await startLocalStack({ port: 0, schedules: false, ...options });
  return { stack, api: apiClient(stack.url) };
};
