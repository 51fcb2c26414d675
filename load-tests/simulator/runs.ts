/** The run lifecycle as the front end drives it: can-start, start, finish — through the typed client. */
import type { ApiClient } from '#shared/api/client.ts';
import { errorText, startRunBody } from '../payload.ts';
import { retryingFetch, type RetryDeps, type RetryPolicy } from './retry.ts';

export interface RunClient {
  /** The typed client of the API, sending `X-User` with every request. */
  api: ApiClient;
  policy: RetryPolicy;
  deps: RetryDeps;
}

export class RunLimitError extends Error {}

const describe = (what: string, status: number, body: unknown) =>
  `${what}: ${status === 0 ? 'no answer' : `HTTP ${status}`}${
    errorText(body) ? ` — ${errorText(body)}` : ''
  }`;

/** Free run slots now (`available` of can-start). */
export const availableRuns = async (client: RunClient): Promise<number> => {
  const { data, error, response } = await client.api.GET('/api/runs/can-start', {
    fetch: retryingFetch(client.policy, client.deps),
  });
  if (!data) throw new Error(describe('can-start', response.status, error));
  return data.available;
};

/**
 * Starts `count` runs after checking that the limit leaves room for all of them; if a start is
 * refused anyway (another client was quicker), the runs already started are finished as FAILED.
 */
export const startRuns = async (
  client: RunClient,
  count: number,
  sensors: string[],
  durationSeconds: number,
): Promise<string[]> => {
  const available = await availableRuns(client);
  if (available < count) {
    throw new RunLimitError(
      `Only ${available} run(s) may start now (MAX_CONCURRENT_RUNS); asked for ${count}`,
    );
  }
  const started: string[] = [];
  for (let i = 0; i < count; i++) {
    // Not retried: a start is not idempotent, and a lost answer would leak a run slot.
    const { data, error, response } = await client.api.POST('/api/runs/start', {
      body: startRunBody(durationSeconds, sensors),
      fetch: (request) => client.deps.fetch(request),
    });
    if (!data) {
      await finishRuns(client, started, 'FAILED', 'Could not start every run of the simulation');
      const problem = describe('start', response.status, error);
      throw response.status === 409 ? new RunLimitError(problem) : new Error(problem);
    }
    started.push(data.id);
  }
  return started;
};

/** Finishes runs; FAILED carries `errorMessage`. Returns the status each run ended with. */
export const finishRuns = async (
  client: RunClient,
  runIds: string[],
  status: 'COMPLETED' | 'FAILED',
  errorMessage?: string,
): Promise<{ id: string; status: string }[]> =>
  Promise.all(
    runIds.map(async (id) => {
      const ended = await client.api
        .POST('/api/runs/{id}/finish', {
          params: { path: { id } },
          body: { status, ...(errorMessage ? { errorMessage } : {}) },
          fetch: retryingFetch(client.policy, client.deps),
        })
        .then(
          ({ data, error, response }) => data?.status ?? describe('finish', response.status, error),
          (cause: Error) => `finish: ${cause.message}`,
        );
      return { id, status: ended };
    }),
  );
