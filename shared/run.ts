/**
 * The run as stored in the runs table and as returned by the API. Shared because the ingest
 * function reads runs too (to refuse measurements for unknown or long-finished runs).
 */

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
  /** Milliseconds between the simulator's sends. */
  interval: number;
  sensorIds: string[];
  /** Everything the client sent when starting, kept for the front end. */
  params: Record<string, unknown>;
  /** Epoch ms after which a RUNNING run counts as TIMEOUT: start + duration + grace. */
  deadlineAt: number;
  /** Concurrency slot the run holds while RUNNING. */
  slot: number;
  finishedAt?: string;
  errorMessage?: string;
}

/** A run read at `now`: RUNNING past its deadline is TIMEOUT even before the sweeper writes it. */
export const effectiveStatus = (run: Pick<Run, 'status' | 'deadlineAt'>, now: number): RunStatus =>
  run.status === 'RUNNING' && now > run.deadlineAt ? 'TIMEOUT' : run.status;

/**
 * Whether measurements for this run are still taken: while it runs, and for `graceMs` after it
 * ended, because readings sent just before the finish are still in flight.
 */
export const acceptsMeasurements = (
  run: Pick<Run, 'status' | 'deadlineAt' | 'finishedAt'>,
  now: number,
  graceMs: number,
): boolean => {
  if (effectiveStatus(run, now) === 'RUNNING') return true;
  const endedAt = run.status === 'RUNNING' ? run.deadlineAt : Date.parse(run.finishedAt ?? '');
  return Number.isFinite(endedAt) && now <= endedAt + graceMs;
};
