/**
 * The TIMEOUT sweep: runs still RUNNING past duration + grace are marked TIMEOUT. Their slots
 * were already free (leases end at the deadline); this makes the stored status say so.
 */
import { acceptanceClosesAt } from '#shared/run-report.ts';
import type { RunStore } from '#shared/run-store.ts';

/** Longer than the run API's timeout, so no live start is mistaken for a dead one. */
export const ABANDONED_CLAIM_MS = 60_000;

export interface SweepDeps {
  store: RunStore;
  now: () => number;
  maxConcurrentRuns: number;
}

export interface SweepReport {
  timedOut: string[];
  /** Slots held by runs no longer RUNNING (a finish that failed half-way) or never written. */
  slotsReleased: number;
  /** Slots still held by a run after the sweep: the runs running now. */
  slotsHeld: number;
  /** The earliest deadline of the runs still RUNNING, if any. */
  nextDeadlineAt?: number;
}

export const sweep = async ({ store, now, maxConcurrentRuns }: SweepDeps): Promise<SweepReport> => {
  const at = now();
  const finishedAt = new Date(at).toISOString();
  const running = await store.listRunning();
  const expired = running.filter((run) => run.deadlineAt < at);
  const upcoming = running.filter((run) => run.deadlineAt >= at).map((run) => run.deadlineAt);
  const timedOut: string[] = [];
  for (const run of expired) {
    const ended = await store.endRun(
      run.id,
      {
        status: 'TIMEOUT',
        finishedAt,
        errorMessage: `Run did not finish within its duration of ${run.duration}s plus the grace period`,
        // A timed-out run took no reading after its deadline, which included the grace: its
        // report is final from then on if everything accepted is stored (built now, and then).
        reportDueAt: acceptanceClosesAt({ ...run, status: 'TIMEOUT' }, 0),
      },
      { expiredAt: at },
    );
    if (ended) {
      await store.releaseSlot(ended.slot, ended.id);
      timedOut.push(ended.id);
    }
  }

  let slotsReleased = 0;
  let slotsHeld = 0;
  for (const lease of await store.readSlots(maxConcurrentRuns)) {
    if (lease.runId === undefined || (lease.leaseUntil ?? 0) < at) continue;
    const run = await store.getRun(lease.runId);
    // A claim without its run item is a start in progress, unless it is older than any start
    // can take: then the start died between claiming and writing, and the slot is free again.
    const abandoned = !run && (lease.claimedAt ?? 0) < at - ABANDONED_CLAIM_MS;
    if (abandoned || (run && run.status !== 'RUNNING')) {
      await store.releaseSlot(lease.slot, lease.runId);
      slotsReleased++;
    } else {
      slotsHeld++;
    }
  }
  return {
    timedOut,
    slotsReleased,
    slotsHeld,
    ...(upcoming.length > 0 ? { nextDeadlineAt: Math.min(...upcoming) } : {}),
  };
};
