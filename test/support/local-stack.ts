/**
 * Starts the local stack on a free port for a test file and gives it a small JSON client whose
 * every answer is checked against the OpenAPI description (api-contract.ts).
 */
import { startLocalStack, type LocalStack, type LocalStackOptions } from '#infra/local/index.ts';
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

export const apiClient = (baseUrl: string): ApiClient => {
  const request: ApiClient['request'] = async (method, path, options = {}) => {
    const body =
      options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    // Every answer is held to the OpenAPI description (a violation fails the test).
    const response = await checkedFetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...options.headers,
      },
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
