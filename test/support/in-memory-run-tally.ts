/** A RunTally in memory, for unit tests of the edge and of the report builder. */
import type { RunTally } from '#shared/run-tally.ts';

export class InMemoryRunTally implements RunTally {
  readonly counts = new Map<string, number>();
  /** Makes the next `add` fail, as DynamoDB would when throttled or unreachable. */
  failNext = 0;

  async add(runId: string, readings: number): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
    }
    this.counts.set(runId, (this.counts.get(runId) ?? 0) + readings);
  }

  async accepted(runId: string): Promise<number> {
    return this.counts.get(runId) ?? 0;
  }
}
