/** The run lifecycle as the front end drives it: can-start, start, finish. */
import { errorText, startRunBody } from '../payload.ts';
import { sendWithRetry, type RetryDeps, type RetryPolicy } from './retry.ts';

export interface RunClient {
  url: string;
  user: string;
  policy: RetryPolicy;
  deps: RetryDeps;
}

export class RunLimitError extends Error {}

const describe = (what: string, status: number, body: unknown, error?: string) =>
  `${what}: ${status === 0 ? (error ?? 'no answer') : `HTTP ${status}`}${
    errorText(body) ? ` — ${errorText(body)}` : ''
  }`;

const json = (client: RunClient, body?: unknown): RequestInit => ({
  method: body === undefined ? 'GET' : 'POST',
  headers: { 'Content-Type': 'application/json', 'X-User': client.user },
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});

/** Free run slots now (`available` of can-start). */
export const availableRuns = async (client: RunClient): Promise<number> => {
  const answer = await sendWithRetry(
    `${client.url}/api/runs/can-start`,
    json(client),
    client.policy,
    client.deps,
  );
  if (answer.status !== 200) throw new Error(describe('can-start', answer.status, answer.body));
  const { available, canStart } = answer.body as { available?: number; canStart?: boolean };
  return typeof available === 'number' ? available : canStart ? 1 : 0;
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
    const response = await client.deps.fetch(
      `${client.url}/api/runs/start`,
      json(client, startRunBody(durationSeconds, sensors)),
    );
    const body = (await response.json().catch(() => undefined)) as { id?: string } | undefined;
    if (response.status !== 201 || typeof body?.id !== 'string') {
      await finishRuns(client, started, 'FAILED', 'Could not start every run of the simulation');
      const problem = describe('start', response.status, body);
      throw response.status === 409 ? new RunLimitError(problem) : new Error(problem);
    }
    started.push(body.id);
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
      const answer = await sendWithRetry(
        `${client.url}/api/runs/${id}/finish`,
        json(client, { status, ...(errorMessage ? { errorMessage } : {}) }),
        client.policy,
        client.deps,
      );
      const ended = (answer.body as { status?: string } | undefined)?.status;
      return {
        id,
        status:
          answer.status === 200 && ended
            ? ended
            : describe('finish', answer.status, answer.body, answer.error),
      };
    }),
  );
