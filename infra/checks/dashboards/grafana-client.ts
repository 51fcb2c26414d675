/**
 * The few calls the check makes of Grafana's HTTP API, authenticated as docs/dashboards.md says: a
 * service account token (`GRAFANA_TOKEN`, sent as Bearer), else `GRAFANA_USER` and
 * `GRAFANA_PASSWORD` (basic), else anonymously. Every call has a deadline.
 */

export interface GrafanaAnswer {
  status: number;
  /** The parsed JSON body, or the text when it is not JSON. */
  body: unknown;
}

export interface GrafanaClient {
  readonly baseUrl: string;
  get(path: string, params?: Record<string, string>): Promise<GrafanaAnswer>;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<GrafanaAnswer>;
}

/** The Authorization header the environment asks for, if any. */
export const authorization = (env: Record<string, string | undefined>): string | undefined => {
  if (env.GRAFANA_TOKEN) return `Bearer ${env.GRAFANA_TOKEN}`;
  if (env.GRAFANA_USER && env.GRAFANA_PASSWORD)
    return `Basic ${Buffer.from(`${env.GRAFANA_USER}:${env.GRAFANA_PASSWORD}`).toString('base64')}`;
  return undefined;
};

/** How the check authenticates, for the report (never the secret itself). */
export const authenticationKind = (env: Record<string, string | undefined>): string =>
  env.GRAFANA_TOKEN
    ? 'service account token'
    : env.GRAFANA_USER && env.GRAFANA_PASSWORD
      ? `basic auth as ${env.GRAFANA_USER}`
      : 'anonymous';

const REQUEST_TIMEOUT_MS = 60_000;

export const grafanaClient = (
  baseUrl: string,
  auth: string | undefined,
  fetchImpl: typeof fetch = fetch,
): GrafanaClient => {
  const base = baseUrl.replace(/\/+$/, '');
  const call = async (path: string, init: RequestInit): Promise<GrafanaAnswer> => {
    const response = await fetchImpl(`${base}${path}`, {
      ...init,
      headers: {
        accept: 'application/json',
        ...(auth ? { authorization: auth } : {}),
        ...(init.headers as Record<string, string>),
      },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON (a proxy's error page): kept as text for the report.
    }
    return { status: response.status, body };
  };
  return {
    baseUrl: base,
    get: (path, params = {}) => {
      const query = new URLSearchParams(params).toString();
      return call(query ? `${path}?${query}` : path, { method: 'GET' });
    },
    post: (path, body, headers = {}) =>
      call(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      }),
  };
};

/** A short reason from an error answer: Grafana's `message`, the datasource's `Message`, or the text. */
export const reasonOf = (answer: GrafanaAnswer): string => {
  const body = answer.body as { message?: unknown; Message?: unknown } | string | null;
  const message =
    typeof body === 'string'
      ? body.trim().slice(0, 200)
      : String(body?.message ?? body?.Message ?? '');
  return message ? `HTTP ${answer.status}: ${message}` : `HTTP ${answer.status}`;
};
