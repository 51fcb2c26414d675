/** `npm start -- --data-dir`: runs survive a restart of the local stack. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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
});
