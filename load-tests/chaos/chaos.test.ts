/**
 * A small chaos soak in the test suite: a few thousand readings under every kind of fault and a
 * restart of the whole stack, and not one reading lost or stored twice.
 */
import { describe, expect, it } from 'vitest';
import { topology } from '#infra/topology.ts';
import { runChaos } from './chaos.ts';

describe('the chaos soak', () => {
  it('loses nothing and stores nothing twice under faults and a restart', async () => {
    const report = await runChaos({
      readings: 2_000,
      batch: 25,
      seed: 7,
      faultEveryMs: 400,
      catchUpTimeoutMs: 90_000,
    });
    console.log(`chaos soak: ${JSON.stringify(report)}`);
    expect(report.accepted).toBe(2_000);
    expect(report).toMatchObject({ stored: 2_000, lost: 0, duplicated: 0, unexpected: 0 });
    expect(report.faultsInjected.stackRestarts).toBe(1);
    // The plan fired faults of several kinds, not only the restart
    const kinds = Object.values(report.faultsInjected).filter((count) => count > 0);
    expect(kinds.length).toBeGreaterThanOrEqual(5);
    // Every message reached the consumer at least once, through the stacks before and after the
    // restart: at least its 80 messages in batches of the mapping's size.
    const { batchSize } = topology.queues.measurements.consumer;
    expect(report.consumerInvocations.total).toBeGreaterThanOrEqual(
      Math.ceil(2_000 / 25 / batchSize),
    );
    expect(report.consumerInvocations.failed).toBeLessThan(report.consumerInvocations.total);
  }, 240_000);
});
