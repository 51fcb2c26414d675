import { describe, expect, it } from 'vitest';
import { measureCallCosts } from './call-costs.ts';

describe('npm run bench:calls (tiny numbers: checks it runs and what it reports, never its speed)', () => {
  it('measures every call of a batch-1 request on both sides', async () => {
    const costs = await measureCallCosts(40);
    expect(costs.map((c) => c.call)).toEqual([
      'UpdateItem ADD (run tally)',
      'PutItem, conditional (key record)',
      'UpdateItem (key record answer)',
      'GetItem',
      'BatchWriteItem, 10 packs',
    ]);
    for (const cost of costs) {
      expect(cost.callsPerSecond).toBeGreaterThan(0);
      // dynalite did work for every call, and so did the client: neither side reads as free.
      expect(cost.serverCpuMs).toBeGreaterThan(0);
      expect(cost.clientCpuMs).toBeGreaterThan(0);
    }
  }, 60_000);
});
