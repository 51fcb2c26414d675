/**
 * The TIMEOUT sweep: runs still RUNNING past duration + grace are marked TIMEOUT. Their slots
 * were already free (leases end at the deadline); this makes the stored status say so.
 */
import type { RunStore } from '#shared/run-store.ts';

export interface SweepDeps {
  store: RunStore;
  now: () => number;
  maxConcurrentRuns: number;
}

export interface SweepReport {
  timedOut: string[];
  /** Slots held by runs that are no longer RUNNING (a finish that failed half-way). */
  slotsReleased: number;
}

export const sweep = async ({ store, now, maxConcurrentRuns }: SweepDeps): Promise<SweepReport> => {
  const at = now();
  const finishedAt = new Date(at).toISOString();
  const expired = (await store.listRunning()).filter((run) => run.deadlineAt < at);
  const timedOut: string[] = [];
  for (const run of expired) {
    const ended = await store.endRun(
      run.id,
      {
        status: 'TIMEOUT',
        finishedAt,
        errorMessage: `Run did not finish within its duration of ${run.duration}s plus the grace period`,
      },
      { expiredAt: at },
    );
    if (ended) {
      await store.releaseSlot(ended.slot, ended.id);
      timedOut.push(ended.id);
    }
  }

  let slotsReleased = 0;
  for (const lease of await store.readSlots(maxConcurrentRuns)) {
    if (lease.runId === undefined || (lease.leaseUntil ?? 0) < at) continue;
    const run = await store.getRun(lease.runId);
    // A claimed slot whose run item does not exist yet may be a start in progress: leave it.
    if (run && run.status !== 'RUNNING') {
      await store.releaseSlot(lease.slot, lease.runId);
      slotsReleased++;
    }
  }
  return { timedOut, slotsReleased };
};
