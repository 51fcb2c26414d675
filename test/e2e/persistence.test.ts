/** `npm start -- --data-dir`: runs and queued readings survive a restart of the local stack. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '#test/support/eventually.ts';
import { startTestStack } from '#test/support/local-stack.ts';

const dataDir = await mkdtemp(join(tmpdir(), 'iot-playground-data-'));
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('a data folder', () => {
  it('keeps runs and slots across a restart', async () => {
    const first = await startTestStack({ dataDir });
    const run = (await first.api.post('/api/runs/start', { duration: 600, interval: 1 })).body;
    await first.stack.stop();

    const second = await startTestStack({ dataDir });
    try {
      const read = await second.api.get(`/api/runs/${run.id}`);
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ id: run.id, status: 'RUNNING' });
      expect((await second.api.get('/api/runs/can-start')).body.currentRunning).toBe(1);
    } finally {
      await second.stack.stop();
    }
  });

  it('delivers every reading accepted before a restart, once', async () => {
    // Prepare: a consumer that crashes, so accepted readings sit in the queue, some in flight
    const queues = { measurements: { visibilityTimeoutSeconds: 2 } };
    const first = await startTestStack({ dataDir, queues });
    const run = (await first.api.post('/api/runs/start', { duration: 600, interval: 1000 })).body;
    first.stack.faults.failConsumerInvocations(1_000);
    const base = Date.now() - 60_000;
    const accepted = [];
    for (let request = 0; request < 5; request++) {
      const measurements = Array.from({ length: 20 }, (_, index) => ({
        sensorId: `s${request}`,
        type: 'temperature',
        reading: index,
        timestamp: new Date(base + index).toISOString(),
      }));
      const response = await first.api.post(
        '/api/sensors/data',
        { measurements },
        {
          'X-Run-Id': run.id,
        },
      );
      expect(response.status).toBe(202);
      accepted.push(...measurements);
    }
    const queued = await eventually(
      () => {
        const { visible, inFlight } = first.stack.queues.measurements.queue.counts();
        return inFlight > 0 ? visible + inFlight : undefined;
      },
      5_000,
      'a failed delivery',
    );
    expect(queued).toBe(5);
    // Act
    await first.stack.stop();
    const second = await startTestStack({ dataDir, queues });
    try {
      // Assess
      const stored = await eventually(
        async () => {
          const page = await second.api.get(`/api/sensors/data?runId=${run.id}&limit=1000`);
          return page.body.count >= accepted.length ? page.body.items : undefined;
        },
        15_000,
        'every accepted reading to be stored',
      );
      const identities = stored.map((m: any) => `${m.sensorId}|${m.timestamp}`);
      expect(new Set(identities).size).toBe(accepted.length);
      expect(identities).toHaveLength(accepted.length);
      expect(second.stack.queues.measurements.deadLetters.counts().visible).toBe(0);
    } finally {
      await second.stack.stop();
    }
  });
});
