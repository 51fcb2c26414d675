/** A RunStore in memory with the same conditional-write rules as DynamoRunStore, for unit tests. */
import type { Run } from '#shared/run.ts';
import type {
  RunEndCondition,
  RunEnding,
  RunPage,
  RunStore,
  SlotLease,
  StartedRange,
} from '#shared/run-store.ts';

export class InMemoryRunStore implements RunStore {
  readonly runs = new Map<string, Run>();
  readonly slots = new Map<number, { runId: string; leaseUntil: number; claimedAt: number }>();
  /** `'throw'`: the put fails; `'lose-answer'`: the put lands but the caller sees an error. */
  failNextPut: false | 'throw' | 'lose-answer' = false;
  /** When each ended run's report falls due (kept off the run, as DynamoRunStore does). */
  readonly reportsDue = new Map<string, number>();

  async readSlots(count: number): Promise<SlotLease[]> {
    return Array.from({ length: count }, (_, slot) => ({ slot, ...this.slots.get(slot) }));
  }

  async claimSlot(slot: number, runId: string, leaseUntil: number, now: number): Promise<boolean> {
    const held = this.slots.get(slot);
    if (held && held.leaseUntil >= now) return false;
    this.slots.set(slot, { runId, leaseUntil, claimedAt: now });
    return true;
  }

  async releaseSlot(slot: number, runId: string): Promise<void> {
    if (this.slots.get(slot)?.runId === runId) this.slots.delete(slot);
  }

  async putRun(run: Run): Promise<void> {
    const failure = this.failNextPut;
    this.failNextPut = false;
    if (failure === 'throw') throw new Error('put failed');
    if (this.runs.has(run.id)) throw new Error('exists');
    this.runs.set(run.id, structuredClone(run));
    if (failure === 'lose-answer') throw new Error('socket hang up');
  }

  async getRun(id: string): Promise<Run | undefined> {
    const run = this.runs.get(id);
    return run && structuredClone(run);
  }

  async endRun(id: string, ending: RunEnding, when: RunEndCondition): Promise<Run | undefined> {
    const run = this.runs.get(id);
    if (!run || run.status !== 'RUNNING') return undefined;
    const holds =
      'liveAt' in when
        ? run.deadlineAt >= when.liveAt &&
          (when.ownedBy === undefined || run.owner === when.ownedBy)
        : run.deadlineAt < when.expiredAt;
    if (!holds) return undefined;
    const { reportDueAt, ...visible } = ending;
    Object.assign(run, visible);
    this.reportsDue.set(id, reportDueAt);
    return structuredClone(run);
  }

  private newestFirst(): Run[] {
    return [...this.runs.values()].sort((a, b) =>
      `${b.startedAt}#${b.id}`.localeCompare(`${a.startedAt}#${a.id}`),
    );
  }

  async listRunning(): Promise<Run[]> {
    return this.newestFirst().filter((run) => run.status === 'RUNNING');
  }

  async listPage(
    limit: number,
    startKey?: Record<string, unknown>,
    range: StartedRange = {},
  ): Promise<RunPage> {
    const all = this.newestFirst().filter(
      (run) =>
        (range.from === undefined || run.startedAt >= range.from) &&
        (range.to === undefined || run.startedAt <= range.to),
    );
    const from = startKey ? all.findIndex((run) => run.id === startKey.id) + 1 : 0;
    const runs = all.slice(from, from + limit);
    const last = runs.at(-1);
    return from + limit < all.length && last ? { runs, lastKey: { id: last.id } } : { runs };
  }
}
