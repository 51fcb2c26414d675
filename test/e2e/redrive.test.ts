/** `npm run redrive -- --url`: the dead-letter queue shown and moved back, on the local stack. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '#infra/local/index.ts';
import { eventually } from '#test/support/eventually.ts';
import { type ApiClient, startTestStack } from '#test/support/local-stack.ts';

let stack: LocalStack;
let api: ApiClient;

beforeAll(async () => {
  ({ stack, api } = await startTestStack({
    // A failing message reaches the dead-letter queue in seconds.
    queues: { measurements: { visibilityTimeoutSeconds: 1, maxReceiveCount: 2 } },
  }));
});
afterAll(async () => {
  await stack?.stop();
});

const redrive = async (...args: string[]) => {
  const { stdout } = await promisify(execFile)(
    'npx',
    ['tsx', 'infra/redrive/main.ts', '--url', stack.url, ...args],
    { env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } },
  );
  return stdout;
};

describe('npm run redrive', () => {
  it('shows the dead letters and why they failed, then moves them back', async () => {
    // Prepare: every write of the consumer is throttled, so the message ends in the DLQ
    const run = (await api.post('/api/runs/start', { duration: 600, interval: 1000 })).body;
    stack.faults.throttleDynamoDb('BatchWriteItem', 1_000_000);
    const measurements = Array.from({ length: 3 }, (_, index) => ({
      sensorId: 'dlq-1',
      type: 'temperature',
      reading: index,
      timestamp: new Date(Date.now() - 10_000 + index).toISOString(),
    }));
    const accepted = await api.post('/api/sensors/data', { measurements }, { 'X-Run-Id': run.id });
    expect(accepted.status).toBe(202);
    const { deadLetters } = stack.queues.measurements;
    await eventually(
      () => (deadLetters.counts().visible === 1 ? true : undefined),
      20_000,
      'the message in the dead-letter queue',
    );
    await eventually(
      async () => {
        const { lines } = (await api.get('/local/logs?function=ingestConsumer')).body;
        return lines.some((line: string) => line.includes('Record failed')) ? true : undefined;
      },
      20_000,
      'the consumer to log the failure',
    );

    // Act: a dry run shows and moves nothing
    const shown = await redrive('--dry-run');
    // Assess
    expect(shown).toContain('Dead-letter queue: 1 message(s)');
    expect(shown).toContain(`run ${run.id}  readings 3`);
    expect(shown).toMatch(/\d+ × Record failed; SQS will deliver it again — \w+/);
    expect(shown).toContain('nothing moved');
    expect(deadLetters.counts().visible).toBe(1);

    // Act: the cause is gone; the redrive moves the message back and it is stored
    stack.faults.clear();
    const moved = await redrive();
    expect(moved).toContain('COMPLETED: 1 of 1 moved');
    const stored = await eventually(
      async () => {
        const page = await api.get(`/api/sensors/data?runId=${run.id}`);
        return page.body.count === 3 ? page.body.items : undefined;
      },
      10_000,
      'the redriven readings to be stored',
    );
    expect(stored.map((m: { reading: number }) => m.reading)).toEqual([0, 1, 2]);
    expect(deadLetters.counts()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  }, 90_000);
});
