/**
 * Sending one request the way a careful client does: 429, 5xx and network errors are retried
 * with the same body and Idempotency-Key, after a jittered exponential backoff that honours
 * the server's Retry-After.
 */
import { backoffDelay } from '#shared/backoff.ts';
import { errorText } from '../payload.ts';

export interface RetryPolicy {
  /** Retries after the first attempt. */
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** An attempt without an answer by then counts as a network error. */
  timeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxRetries: 6,
  baseDelayMs: 100,
  maxDelayMs: 5_000,
  timeoutMs: 30_000,
};

export interface HttpAnswer {
  /** 0 when no answer came (network error or timeout on the last attempt). */
  status: number;
  body: unknown;
  retries: number;
  /** Duration of each attempt that got an answer, in milliseconds. */
  latenciesMs: number[];
  /** Why the last attempt failed, when it got no answer. */
  error?: string;
  /** The last answer's raw body and headers (what the typed client reads). */
  text?: string;
  headers?: Headers;
}

export interface RetryDeps {
  fetch: typeof fetch;
  random: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  now: () => number;
}

/** A sleep that ends early (without throwing) when the signal aborts. */
export const abortableSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

export const defaultRetryDeps = (): RetryDeps => ({
  fetch: globalThis.fetch,
  random: Math.random,
  sleep: abortableSleep,
  now: () => performance.now(),
});

/**
 * Whether an answer is worth the same request again. A 409 is retried only when the ingest
 * says an earlier attempt with this Idempotency-Key is still in progress; any other 409 (run
 * limit, run ended) would answer the same again.
 */
export const isRetryable = (status: number, body: unknown): boolean =>
  status === 0 ||
  status === 429 ||
  status >= 500 ||
  (status === 409 && /in progress/i.test(errorText(body) ?? ''));

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent or bad. */
export const retryAfterMs = (value: string | null, nowMs = Date.now()): number | undefined => {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
};

const parseBody = (text: string): unknown => {
  try {
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return text;
  }
};

/**
 * Sends `init` to `url` until it gets an answer that is not worth retrying or the retries are
 * spent. An abort stops waiting between attempts (the answer so far is returned) but never cuts
 * an attempt in flight, so what the server accepted is always known.
 */
export const sendWithRetry = async (
  url: string,
  init: RequestInit,
  policy: RetryPolicy,
  deps: RetryDeps,
  signal?: AbortSignal,
): Promise<HttpAnswer> => {
  const latenciesMs: number[] = [];
  for (let attempt = 0; ; attempt++) {
    const started = deps.now();
    let status = 0;
    let body: unknown;
    let text: string | undefined;
    let headers: Headers | undefined;
    let error: string | undefined;
    let retryAfter: number | undefined;
    try {
      const response = await deps.fetch(url, {
        ...init,
        signal: AbortSignal.timeout(policy.timeoutMs),
      });
      text = await response.text();
      body = parseBody(text);
      headers = response.headers;
      status = response.status;
      retryAfter = retryAfterMs(response.headers.get('retry-after'));
      latenciesMs.push(deps.now() - started);
    } catch (cause) {
      error = (cause as Error).message;
    }
    const answer = (): HttpAnswer => ({
      status,
      body,
      retries: attempt,
      latenciesMs,
      ...(error ? { error } : {}),
      ...(headers ? { text, headers } : {}),
    });
    if (!isRetryable(status, body) || attempt >= policy.maxRetries || signal?.aborted) {
      return answer();
    }
    const backoff = backoffDelay(attempt + 1, policy, deps.random);
    await deps.sleep(Math.max(backoff, retryAfter ?? 0), signal);
    if (signal?.aborted) return answer();
  }
};

/** What the attempts of one call through `retryingFetch` came to. */
export interface Attempts {
  retries: number;
  latenciesMs: number[];
  error?: string;
}

/** Statuses whose answer has no body (a Response refuses one). */
const NULL_BODY_STATUSES = new Set([204, 205, 304]);

/**
 * The typed client's fetch for one call (openapi-fetch's per-request `fetch`): the request is
 * sent and retried as sendWithRetry does, and the last answer handed back as a Response; no
 * answer at all is a TypeError, as with fetch itself. `attempts` receives the retries and the
 * latency of each answered attempt.
 */
export const retryingFetch =
  (policy: RetryPolicy, deps: RetryDeps, signal?: AbortSignal, attempts?: Attempts) =>
  async (request: Request): Promise<Response> => {
    const body = request.body === null ? undefined : await request.text();
    const answer = await sendWithRetry(
      request.url,
      { method: request.method, headers: request.headers, ...(body === undefined ? {} : { body }) },
      policy,
      deps,
      signal,
    );
    if (attempts) {
      attempts.retries = answer.retries;
      attempts.latenciesMs = answer.latenciesMs;
      if (answer.error) attempts.error = answer.error;
    }
    if (answer.status === 0) throw new TypeError(answer.error ?? 'no answer');
    return new Response(NULL_BODY_STATUSES.has(answer.status) ? null : (answer.text ?? ''), {
      status: answer.status,
      ...(answer.headers ? { headers: answer.headers } : {}),
    });
  };
