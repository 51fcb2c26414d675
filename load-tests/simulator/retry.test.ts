import { describe, expect, it } from 'vitest';
import {
  isRetryable,
  retryAfterMs,
  retryingFetch,
  sendWithRetry,
  type Attempts,
  type RetryDeps,
} from './retry.ts';

const policy = { maxRetries: 3, baseDelayMs: 100, maxDelayMs: 1000, timeoutMs: 1000 };

/** A fetch that answers from a script, recording each request; a thrown entry is a network error. */
const scriptedFetch = (script: (Response | Error)[]) => {
  const requests: { url: string; init: RequestInit }[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    requests.push({ url, init });
    const next = script.shift();
    if (!next) throw new Error('script exhausted');
    if (next instanceof Error) throw next;
    return next;
  }) as unknown as typeof globalThis.fetch;
  return { fetch, requests };
};

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers });

const deps = (fetch: typeof globalThis.fetch) => {
  const sleeps: number[] = [];
  const value: RetryDeps = {
    fetch,
    random: () => 1, // the top of the jitter range, so delays are predictable
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    now: () => 0,
  };
  return { deps: value, sleeps };
};

const init = { method: 'POST', headers: { 'Idempotency-Key': 'k-1' }, body: '{"a":1}' };

describe('sendWithRetry', () => {
  it('retries 5xx, 429 and network errors with the same request, backing off exponentially', async () => {
    const { fetch, requests } = scriptedFetch([
      json(503, { error: 'down' }),
      new TypeError('fetch failed'),
      json(429, { message: 'Too Many Requests' }),
      json(202, { accepted: 1 }),
    ]);
    const { deps: d, sleeps } = deps(fetch);

    const answer = await sendWithRetry('http://x/api', init, policy, d);

    expect(answer).toMatchObject({ status: 202, body: { accepted: 1 }, retries: 3 });
    expect(sleeps).toEqual([100, 200, 400]);
    expect(requests.map((r) => [r.init.body, (r.init.headers as any)['Idempotency-Key']])).toEqual(
      Array(4).fill(['{"a":1}', 'k-1']),
    );
  });

  it('waits at least Retry-After', async () => {
    const { fetch } = scriptedFetch([json(429, {}, { 'Retry-After': '3' }), json(202, {})]);
    const { deps: d, sleeps } = deps(fetch);

    await sendWithRetry('http://x/api', init, policy, d);

    expect(sleeps).toEqual([3000]);
  });

  it('does not retry a client error, and gives up after maxRetries', async () => {
    const refused = scriptedFetch([json(400, { error: 'bad', message: 'bad' })]);
    expect(await sendWithRetry('http://x', init, policy, deps(refused.fetch).deps)).toMatchObject({
      status: 400,
      retries: 0,
    });

    const down = scriptedFetch(Array.from({ length: 4 }, () => new TypeError('fetch failed')));
    const answer = await sendWithRetry('http://x', init, policy, deps(down.fetch).deps);
    expect(answer).toMatchObject({ status: 0, retries: 3, error: 'fetch failed' });
    expect(down.requests).toHaveLength(4);
  });

  it('stops retrying once the signal aborts', async () => {
    const controller = new AbortController();
    const { fetch, requests } = scriptedFetch([json(503, {}), json(202, {})]);
    const { deps: d } = deps(fetch);
    d.sleep = async () => controller.abort();

    const answer = await sendWithRetry('http://x', init, policy, d, controller.signal);

    expect(answer.status).toBe(503);
    expect(requests).toHaveLength(1);
  });
});

describe('retryingFetch, the fetch of the typed client', () => {
  const request = () =>
    new Request('http://x/api/sensors/data', {
      method: 'POST',
      headers: { 'Idempotency-Key': 'k-1' },
      body: '{"a":1}',
    });

  it('sends the request again as sendWithRetry does and hands back the last answer', async () => {
    const { fetch, requests } = scriptedFetch([
      json(503, { error: 'down' }),
      json(202, { accepted: 1 }, { 'Idempotent-Replayed': 'true' }),
    ]);
    const attempts: Attempts = { retries: 0, latenciesMs: [] };

    const response = await retryingFetch(policy, deps(fetch).deps, undefined, attempts)(request());

    expect(response.status).toBe(202);
    expect(response.headers.get('idempotent-replayed')).toBe('true');
    expect(await response.json()).toEqual({ accepted: 1 });
    expect(attempts).toMatchObject({ retries: 1, latenciesMs: [0, 0] });
    expect(requests.map((r) => [r.init.method, r.init.body])).toEqual(
      Array(2).fill(['POST', '{"a":1}']),
    );
  });

  it('fails as fetch does when no attempt got an answer', async () => {
    const down = scriptedFetch(Array.from({ length: 4 }, () => new TypeError('fetch failed')));
    const attempts: Attempts = { retries: 0, latenciesMs: [] };

    await expect(
      retryingFetch(policy, deps(down.fetch).deps, undefined, attempts)(request()),
    ).rejects.toThrow(new TypeError('fetch failed'));
    expect(attempts).toMatchObject({ retries: 3, latenciesMs: [], error: 'fetch failed' });
  });
});

describe('retry rules', () => {
  it('retries only what may succeed on a second try', () => {
    expect(isRetryable(0, undefined)).toBe(true);
    expect(isRetryable(500, {})).toBe(true);
    expect(isRetryable(429, {})).toBe(true);
    // Either error shape: `message` (newer) or `error` (earlier).
    expect(isRetryable(409, { message: 'A request with this key is still in progress' })).toBe(
      true,
    );
    expect(isRetryable(409, { error: 'still in progress; retry shortly' })).toBe(true);
    expect(isRetryable(409, { error: 'Run limit reached' })).toBe(false);
    expect(isRetryable(404, {})).toBe(false);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});
