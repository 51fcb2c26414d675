/** DynamoRunStore against dynalite: the conditional writes the concurrency limit rests on. */
import { aRun } from '#test/support/runs.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDynamoDb, type TestDynamoDb } from '#test/support/dynamodb.ts';
import { DynamoRunStore } from './run-store.ts';

let db: TestDynamoDb;
let store: DynamoRunStore;

beforeAll(async () => {
  db = await startTestDynamoDb();
  store = new DynamoRunStore(db.documents(), await db.createTable('runs'));
});
afterAll(async () => {
  await db?.close();
});

describe('slots', () => {
  it('a held slot cannot be claimed until its lease has run out', async () => {
    expect(await store.claimSlot(0, 'a', 1_000, 100)).toBe(true);
    expect(await store.claimSlot(0, 'b', 5_000, 999)).toBe(false);
    expect((await store.readSlots(2))[0]).toEqual({
      slot: 0,
      runId: 'a',
      leaseUntil: 1_000,
      claimedAt: 100,
    });
    expect(await store.claimSlot(0, 'b', 5_000, 1_001)).toBe(true);
    // Releasing on behalf of the previous holder changes nothing.
    await store.releaseSlot(0, 'a');
    expect((await store.readSlots(1))[0]?.runId).toBe('b');
    await store.releaseSlot(0, 'b');
    expect(await store.readSlots(2)).toEqual([
      { slot: 0, runId: undefined, leaseUntil: undefined, claimedAt: undefined },
      { slot: 1, runId: undefined, leaseUntil: undefined, claimedAt: undefined },
    ]);
  });
});

describe('runs', () => {
  it('ends a run only while it is RUNNING and the deadline condition holds', async () => {
    await store.putRun(aRun('live', { deadlineAt: 2_000 }), 0);
    const ending = {
      status: 'COMPLETED' as const,
      finishedAt: '2026-11-25T10:01:00.000Z',
      reportDueAt: 0,
    };
    expect(await store.endRun('live', ending, { liveAt: 2_001 })).toBeUndefined();
    expect(await store.endRun('live', ending, { expiredAt: 2_000 })).toBeUndefined();
    expect(await store.endRun('live', ending, { liveAt: 2_000 })).toMatchObject({
      status: 'COMPLETED',
    });
    expect(await store.endRun('live', ending, { liveAt: 0 })).toBeUndefined();
    expect(await store.endRun('unknown', ending, { liveAt: 0 })).toBeUndefined();
    expect(await store.listRunning()).toEqual([]);
  });

  it('keeps the texts of an ending that has them, and only those', async () => {
    await store.putRun(aRun('failed', { deadlineAt: 9_000 }), 0);
    await store.putRun(aRun('noted', { deadlineAt: 9_000 }), 0);
    const finishedAt = '2026-11-25T10:01:00.000Z';
    await store.endRun(
      'failed',
      {
        status: 'FAILED',
        finishedAt,
        errorMessage: 'abandoned',
        message: 'by hand',
        reportDueAt: 0,
      },
      { liveAt: 0 },
    );
    await store.endRun(
      'noted',
      { status: 'COMPLETED', finishedAt, message: 'done', reportDueAt: 0 },
      { liveAt: 0 },
    );
    expect(await store.getRun('failed')).toMatchObject({
      errorMessage: 'abandoned',
      message: 'by hand',
    });
    const noted = await store.getRun('noted');
    expect(noted).toMatchObject({ status: 'COMPLETED', message: 'done' });
    expect(noted).not.toHaveProperty('errorMessage');
  });

  it('ends a run for its owner only when asked to, in the same conditional write', async () => {
    await store.putRun(aRun('owned', { deadlineAt: 9_000, owner: 'alice-sub' }), 0);
    await store.putRun(aRun('ownerless', { deadlineAt: 9_000 }), 0);
    const ending = {
      status: 'COMPLETED' as const,
      finishedAt: '2026-11-25T10:01:00.000Z',
      reportDueAt: 0,
    };
    expect(await store.endRun('owned', ending, { liveAt: 0, ownedBy: 'bob-sub' })).toBeUndefined();
    expect(
      await store.endRun('ownerless', ending, { liveAt: 0, ownedBy: 'bob-sub' }),
    ).toBeUndefined();
    expect((await store.getRun('owned'))?.status).toBe('RUNNING');
    expect(await store.endRun('owned', ending, { liveAt: 0, ownedBy: 'alice-sub' })).toMatchObject({
      status: 'COMPLETED',
      owner: 'alice-sub',
    });
    // Without ownedBy (no JWT, or an admin) the owner does not matter.
    expect(await store.endRun('ownerless', ending, { liveAt: 0 })).toMatchObject({
      status: 'COMPLETED',
    });
  });

  it('never returns a slot item as a run, and refuses to overwrite a run', async () => {
    await store.claimSlot(3, 'x', 10, 0);
    expect(await store.getRun('slot#3')).toBeUndefined();
    await store.putRun(aRun('once'), 0);
    await expect(store.putRun(aRun('once'), 0)).rejects.toThrow();
  });
});
