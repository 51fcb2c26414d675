/**
 * Reading runs from the ingest path: the port (DynamoRunStore of #shared/run-store.ts implements
 * it) and a short per-container cache so a steady stream of measurements does not read the
 * table per request.
 */
import type { Run } from '#shared/run.ts';
import { EDGE_RUN_CACHE_MS } from '#shared/run-report.ts';

/**
 * The part of a run the ingest function needs to decide whether it takes measurements, and
 * from whom (`owner`, under the JWT authorizer): cached together, so ownership costs no read.
 */
export type RunState = Pick<Run, 'id' | 'status' | 'deadlineAt' | 'finishedAt' | 'owner'>;

export interface RunReader {
  /** The run, or `undefined` when there is none with that id. */
  getRun(runId: string): Promise<RunState | undefined>;
}

export interface RunCacheOptions {
  /**
   * How long a found run is reused. Kept well below the run grace period (RUN_GRACE_SECONDS),
   * so a stale RUNNING entry cannot accept a reading the table would refuse: a run finished less
   * than the TTL ago still accepts readings for its grace period anyway.
   */
  ttlMs: number;
  maxEntries: number;
  now: () => number;
}

/** The run reports wait out the TTL before they call a run's accepted tally final. */
export const DEFAULT_RUN_CACHE = { ttlMs: EDGE_RUN_CACHE_MS, maxEntries: 1_000 } as const;

/**
 * Caches found runs for `ttlMs` (the accept decision is re-evaluated with the current time on
 * every request); unknown runs are not cached, so a run is usable the moment it exists. Bounded:
 * the oldest entry is dropped when full. Per container, so at most one read per run per TTL per
 * container.
 */
export class CachedRunReader implements RunReader {
  private readonly entries = new Map<string, { run: RunState; expiresAt: number }>();

  constructor(
    private readonly inner: RunReader,
    private readonly options: RunCacheOptions,
  ) {}

  async getRun(runId: string): Promise<RunState | undefined> {
    const now = this.options.now();
    const hit = this.entries.get(runId);
    if (hit && hit.expiresAt > now) return hit.run;
    if (hit) this.entries.delete(runId);
    const run = await this.inner.getRun(runId);
    if (run !== undefined) {
      if (this.entries.size >= this.options.maxEntries) {
        const oldest = this.entries.keys().next();
        if (!oldest.done) this.entries.delete(oldest.value);
      }
      this.entries.set(runId, { run, expiresAt: now + this.options.ttlMs });
    }
    return run;
  }
}
