/**
 * The run as stored in the runs table and as returned by the API. Shared because the ingest
 * function reads runs too (to refuse measurements for unknown or long-finished runs).
 */
import { intEnv } from './config.ts';

export const RUN_STATUSES = ['RUNNING', 'COMPLETED', 'FAILED', 'INTERRUPTED', 'TIMEOUT'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface Run {
  id: string;
  username: string;
  status: RunStatus;
  /** ISO-8601 instant. */
  startedAt: string;
  /** Planned length in seconds. */
  duration: number;
  /** Seconds between the simulator's sends (the front end's unit). */
  interval: number;
  sensorIds: string[];
  /**
   * `{runId, sensorIds, duration, interval}` plus any other field the client sent in `params`:
   * the front end reads these (its Abandon button posts to `/api/runs/{params.runId}/finish`).
   */
  params: Record<string, unknown>;
  /** Epoch ms after which a RUNNING run counts as TIMEOUT: start + duration + grace. */
  deadlineAt: number;
  /** Concurrency slot the run holds while RUNNING. */
  slot: number;
  finishedAt?: string;
  errorMessage?: string;
  /** The client's note when finishing (the front end's `message`). */
  message?: string;
  /**
   * Under the JWT authorizer, the starter's token subject (callerSubject): only they, or an
   * admin, may finish the run or post readings into it. Absent without JWT. Never shown.
   */
  owner?: string;
}

/** A run read at `now`: RUNNING past its deadline is TIMEOUT even before the sweeper writes it. */
export const effectiveStatus = (run: Pick<Run, 'status' | 'deadlineAt'>, now: number): RunStatus =>
  run.status === 'RUNNING' && now > run.deadlineAt ? 'TIMEOUT' : run.status;

/**
 * Whether measurements for this run are still taken: while it runs, and for `graceMs` after a
 * finish or interrupt, because readings sent just before it are still in flight. A timed-out
 * run takes none: its deadline already included the grace period.
 */
export const acceptsMeasurements = (
  run: Pick<Run, 'status' | 'deadlineAt' | 'finishedAt'>,
  now: number,
  graceMs: number,
): boolean => {
  const status = effectiveStatus(run, now);
  if (status === 'RUNNING') return true;
  if (status === 'TIMEOUT') return false;
  const finishedAt = Date.parse(run.finishedAt ?? '');
  return Number.isFinite(finishedAt) && now <= finishedAt + graceMs;
};

/** Runs allowed at once, all users together (`MAX_CONCURRENT_RUNS`, default 5). */
export const maxConcurrentRunsFromEnv = (env: NodeJS.ProcessEnv = process.env): number =>
  intEnv('MAX_CONCURRENT_RUNS', 5, { min: 1, max: 100 }, env);

/** How long past its duration a run may go before it is TIMEOUT (`RUN_GRACE_SECONDS`, 120 s). */
export const runGraceMsFromEnv = (env: NodeJS.ProcessEnv = process.env): number =>
  intEnv('RUN_GRACE_SECONDS', 120, { min: 0, max: 86_400 }, env) * 1000;
