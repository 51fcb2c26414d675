import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack } from '#test/support/local-stack.ts';
import { checkedFetch } from '#test/support/api-contract.ts';

/** Every answer the simulator gets is checked against the OpenAPI description. */
const checked = { fetch: checkedFetch as typeof fetch };
import type { LocalStack } from '#infra/local/index.ts';
import { runSimulation } from './engine.ts';
import { RunLimitError } from './runs.ts';
import { verifyStored } from './verify.ts';

let stack: LocalStack;

beforeAll(async () => {
  ({ stack } = await startTestStack({ env: { MAX_CONCURRENT_RUNS: '2' } }));
  // Cold starts (bundling, module load) happen here, not inside the paced test.
  await runSimulation({ url: stack.url, deps: checked, readings: 20, batch: 10, concurrency: 2 });
}, 120_000);
afterAll(() => stack?.stop());

describe('the simulator engine against the local stack', () => {
  it('sends at a rate for a duration, finishes its runs, and every reading is stored once', async () => {
    const { report, acceptedReadings } = await runSimulation({
      deps: checked,
      url: stack.url,
      rate: 200,
      durationSeconds: 3,
      batch: 10,
      runs: 2,
      sensors: 3,
    });

    expect(report.interrupted).toBe(false);
    expect(report.runs.map((run) => run.status)).toEqual(['COMPLETED', 'COMPLETED']);
    expect(report.refused).toBe(0);
    expect(report.accepted).toBe(report.sent);
    // Paced: about rate × duration, never far above.
    expect(report.accepted).toBeGreaterThan(300);
    expect(report.accepted).toBeLessThanOrEqual(610);
    expect(report.latencyMs.p50).toBeGreaterThan(0);

    const verified = await verifyStored({
      url: stack.url,
      deps: checked,
      acceptedReadings,
      timeoutMs: 30_000,
    });
    expect(verified).toMatchObject({
      stored: report.accepted,
      lost: 0,
      duplicated: 0,
      unexpected: 0,
    });
  }, 120_000);

  it('sends the single-reading shape at batch 1 and stops at a total count', async () => {
    const { report, acceptedReadings } = await runSimulation({
      deps: checked,
      url: stack.url,
      readings: 25,
      batch: 1,
      concurrency: 4,
    });

    expect(report).toMatchObject({ sent: 25, accepted: 25, requests: 25, refused: 0 });
    const verified = await verifyStored({
      url: stack.url,
      deps: checked,
      acceptedReadings,
      timeoutMs: 30_000,
    });
    expect(verified).toMatchObject({ stored: 25, lost: 0, duplicated: 0 });
  });

  it('sends an Idempotency-Key with every request unless told not to', async () => {
    const idempotencyWrites = async (idempotencyKeys: boolean) => {
      stack.resetRequestCounts();
      const { report } = await runSimulation({
        deps: checked,
        url: stack.url,
        readings: 10,
        batch: 1,
        concurrency: 2,
        idempotencyKeys,
      });
      expect(report.accepted).toBe(10);
      return stack.usage().dynamodb.writeUnitsBy[stack.tables.idempotency] ?? 0;
    };
    // The edge's record: one write per request (services/ingest/key-records.ts)
    expect(await idempotencyWrites(true)).toBe(10);
    // Without keys: no record at the edge, and the consumer keeps none
    expect(await idempotencyWrites(false)).toBe(0);
  });

  it('on abort stops sending, finishes its runs as FAILED and still reports', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 700);

    const { report, acceptedReadings } = await runSimulation({
      deps: checked,
      url: stack.url,
      rate: 100,
      durationSeconds: 60,
      signal: controller.signal,
    });

    expect(report.interrupted).toBe(true);
    expect(report.sendingMs).toBeLessThan(10_000);
    expect(report.runs.map((run) => run.status)).toEqual(['FAILED']);
    const run: any = await (
      await checkedFetch(`${stack.url}/api/runs/${report.runs[0]!.id}`)
    ).json();
    expect(run.errorMessage).toMatch(/interrupted/i);
    const verified = await verifyStored({
      url: stack.url,
      deps: checked,
      acceptedReadings,
      timeoutMs: 30_000,
    });
    expect(verified).toMatchObject({ stored: report.accepted, lost: 0 });
  });

  it('refuses to start more runs than can-start allows, and leaves no run behind', async () => {
    await expect(
      runSimulation({ url: stack.url, deps: checked, runs: 3, readings: 10 }),
    ).rejects.toBeInstanceOf(RunLimitError);
    const running = await (await checkedFetch(`${stack.url}/api/runs/running`)).json();
    expect(running).toEqual([]);
  });
});
