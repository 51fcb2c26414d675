import { aRun } from '#test/support/runs.ts';
import { describe, expect, it } from 'vitest';
import { InMemoryRunStore } from '#test/support/in-memory-run-store.ts';
import { ABANDONED_CLAIM_MS, sweep } from './sweep.ts';

describe('sweep', () => {
  it('marks only runs past their deadline TIMEOUT and frees their slots', async () => {
    const now = 1_000_000;
    const store = new InMemoryRunStore();
    await store.putRun(aRun('expired', { deadlineAt: now - 1, slot: 0 }));
    await store.putRun(aRun('live', { deadlineAt: now + 1, slot: 1 }));
    await store.claimSlot(0, 'expired', now - 1, 0);
    await store.claimSlot(1, 'live', now + 1, 0);

    const report = await sweep({ store, now: () => now, maxConcurrentRuns: 2 });

    expect(report.timedOut).toEqual(['expired']);
    const expired = await store.getRun('expired');
    expect(expired).toMatchObject({ status: 'TIMEOUT', finishedAt: new Date(now).toISOString() });
    expect(expired?.errorMessage).toMatch(/duration of 60s/);
    expect((await store.getRun('live'))?.status).toBe('RUNNING');
    expect(store.slots.has(0)).toBe(false);
    expect(store.slots.get(1)?.runId).toBe('live');
    expect(report.slotsHeld).toBe(1);
  });

  it('releases a slot still held by a run that already ended', async () => {
    const now = 1_000_000;
    const store = new InMemoryRunStore();
    await store.putRun(aRun('done', { status: 'COMPLETED', deadlineAt: now + 60_000 }));
    await store.claimSlot(0, 'done', now + 60_000, 0);
    // Claimed a moment ago, run item not written yet: a start in progress.
    await store.claimSlot(1, 'starting', now + 60_000, now - 1_000);

    const report = await sweep({ store, now: () => now, maxConcurrentRuns: 2 });

    expect(report).toEqual({ timedOut: [], slotsReleased: 1, slotsHeld: 1 });
    expect(store.slots.has(0)).toBe(false);
    expect(store.slots.has(1)).toBe(true);
  });

  it('frees a slot whose start died before writing its run', async () => {
    const now = 10_000_000;
    const store = new InMemoryRunStore();
    await store.claimSlot(0, 'never-written', now + 3_600_000, now - ABANDONED_CLAIM_MS - 1);

    const report = await sweep({ store, now: () => now, maxConcurrentRuns: 1 });

    expect(report.slotsReleased).toBe(1);
    expect(store.slots.has(0)).toBe(false);
  });
});
