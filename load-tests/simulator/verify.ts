/**
 * Reading back: pages through `GET /api/sensors/data?runId=` until every accepted reading is
 * stored or the deadline passes, and counts stored, lost and duplicated readings by identity.
 */
import { createApiClient } from '#shared/api/client.ts';
import { errorText } from '../payload.ts';
import { readingIdentity, type ReadingIdentity } from './engine.ts';
import { abortableSleep, defaultRetryDeps, DEFAULT_RETRY, retryingFetch } from './retry.ts';
import type { RetryDeps } from './retry.ts';

export interface VerifyOptions {
  url: string;
  /** Identities of the accepted readings per run id (`SimulationResult.acceptedReadings`). */
  acceptedReadings: Map<string, Set<string>>;
  /** How a stored reading's identity is told (default: run, sensor, type, timestamp). */
  identify?: ReadingIdentity;
  /** Give up waiting for storage to catch up after this long (default 60 s). */
  timeoutMs?: number;
  /** Pause between read-backs (default 500 ms). */
  pollMs?: number;
  signal?: AbortSignal;
  deps?: Partial<RetryDeps>;
}

export interface VerifyReport {
  /** Accepted readings found in storage. */
  stored: number;
  /** Accepted readings not found. */
  lost: number;
  /** Rows beyond the first for one identity. */
  duplicated: number;
  /** Rows of these runs that no accepted reading explains (e.g. a refused request half stored). */
  unexpected: number;
  /** From the start of verification until everything was stored (or the deadline). */
  catchUpMs: number;
  /** Requests the read-back made. */
  pagesRead: number;
}

const PAGE_LIMIT = 1000;

export const verifyStored = async (options: VerifyOptions): Promise<VerifyReport> => {
  const deps: RetryDeps = { ...defaultRetryDeps(), ...options.deps };
  const timeoutMs = options.timeoutMs ?? 60_000;
  const started = deps.now();
  const expected = [...options.acceptedReadings.values()].reduce((n, s) => n + s.size, 0);
  let pagesRead = 0;
  const api = createApiClient(options.url, { fetch: retryingFetch(DEFAULT_RETRY, deps) });

  const readRun = async (runId: string): Promise<Map<string, number>> => {
    const rows = new Map<string, number>();
    let nextKey: string | undefined;
    do {
      const { data, error, response } = await api.GET('/api/sensors/data', {
        params: { query: { runId, limit: PAGE_LIMIT, ...(nextKey ? { nextKey } : {}) } },
      });
      pagesRead++;
      if (!data) {
        throw new Error(
          `Read-back of run ${runId}: HTTP ${response.status} ${errorText(error) ?? ''}`,
        );
      }
      for (const item of data.items) {
        const identity = (options.identify ?? readingIdentity)(item);
        rows.set(identity, (rows.get(identity) ?? 0) + 1);
      }
      nextKey = data.nextKey;
    } while (nextKey);
    return rows;
  };

  for (;;) {
    let stored = 0;
    let duplicated = 0;
    let unexpected = 0;
    for (const [runId, accepted] of options.acceptedReadings) {
      for (const [identity, count] of await readRun(runId)) {
        if (accepted.has(identity)) stored++;
        else unexpected++;
        duplicated += count - 1;
      }
    }
    const elapsed = deps.now() - started;
    const caughtUp = stored >= expected;
    if (caughtUp || elapsed >= timeoutMs || options.signal?.aborted) {
      return {
        stored,
        lost: expected - stored,
        duplicated,
        unexpected,
        catchUpMs: Math.round(elapsed),
        pagesRead,
      };
    }
    await abortableSleep(options.pollMs ?? 500, options.signal);
  }
};
