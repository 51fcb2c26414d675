/**
 * Reading data while it still arrives, end to end on the local stack: a run's report is there as
 * the run ends and says whether it is final; a reading accepted just before the grace period
 * ends and delivered late (the consumer failing until the test lets it through) turns a
 * provisional report final; a cursor followed while readings land hands out every reading after
 * it; an impossible cursor is a 400.
 */
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalStack } from '#infra/local/index.ts';
import { EDGE_DECISION_SLACK_MS } from '#shared/run-report.ts';
import { eventually } from '#test/support/eventually.ts';
import { startTestStack, type ApiClient } from '#test/support/local-stack.ts';

const GRACE_SECONDS = 5;
let stack: LocalStack;
let api: ApiClient;

beforeAll(async () => {
  ({ stack, api } = await startTestStack({
    env: { RUN_GRACE_SECONDS: String(GRACE_SECONDS) },
    // A failed delivery is back in 2 s, and is not parked however often it fails here.
    queues: { measurements: { visibilityTimeoutSeconds: 2, maxReceiveCount: 1000 } },
  }));
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(async () => {
  stack.faults.clear();
  await api.post('/api/runs/interrupt-all');
});

const until = async (epochMs: number) => {
  const wait = epochMs - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
};

const startRun = async (duration = 600): Promise<string> => {
  const started = await api.post('/api/runs/start', { duration, interval: 1 });
  expect(started.status).toBe(201);
  return started.body.id as string;
};

const post = async (runId: string, body: unknown) => {
  const answer = await api.post('/api/sensors/data', body, { 'X-Run-Id': runId });
  expect(answer.status).toBe(202);
};

const storedCount = async (runId: string) =>
  (await api.get(`/api/sensors/data?runId=${runId}&limit=1000`)).body.count as number;

/** The run's report as downloaded: the CSV's run line by column, and the response's state. */
const download = async (runId: string) => {
  const response = await fetch(`${stack.url}/api/reports/download?runId=${runId}`);
  if (response.status === 404) return undefined;
  expect(response.status).toBe(200);
  const files = unzipSync(new Uint8Array(await response.arrayBuffer()));
  const [header, values] = strFromU8(files[`report_${runId}.csv`]!).split('\r\n');
  const columns = Object.fromEntries(
    header!.split(',').map((name, i) => [name, values!.split(',')[i]]),
  );
  return { state: response.headers.get('report-state'), columns };
};

describe('run reports while readings arrive', () => {
  it('turns a report final once a reading accepted at the end of the grace period is stored', async () => {
    const runId = await startRun();
    const now = Date.now();
    await post(runId, {
      measurements: [0, 1, 2].map((i) => ({
        sensorId: 's-1',
        reading: 20 + i,
        timestamp: new Date(now - 3_000 + i).toISOString(),
      })),
    });
    await eventually(async () => ((await storedCount(runId)) === 3 ? true : undefined), 10_000);
    const finishedAt = Date.now();
    expect((await api.post(`/api/runs/${runId}/finish`, {})).status).toBe(200);

    // Within 10 s of the end the report is there: provisional, as the grace period is open.
    const first = await eventually(() => download(runId), 10_000, 'the first report');
    expect(Date.now() - finishedAt).toBeLessThan(10_000);
    expect(first.state).toBe('provisional');
    expect(first.columns).toMatchObject({ report: 'provisional', readingsStored: '3' });

    // Half a second before the grace period ends, a reading is accepted; the consumer fails
    // every delivery of it until the test says otherwise.
    await until(finishedAt + GRACE_SECONDS * 1000 - 500);
    stack.faults.failConsumerInvocations(100_000);
    await post(runId, { sensorId: 's-1', reading: 99, timestamp: new Date().toISOString() });

    // Once no edge can take a reading, the build that should make it final does not: one
    // accepted reading is not stored.
    await until(finishedAt + GRACE_SECONDS * 1000 + EDGE_DECISION_SLACK_MS + 200);
    await stack.runSchedule('runSweeper');
    const waiting = await download(runId);
    expect(waiting?.state).toBe('provisional');
    expect(waiting?.columns).toMatchObject({
      report: 'provisional',
      readingsAccepted: '4',
      readingsStoredOrParked: '3',
    });

    // The reading lands late: its run's report is rebuilt, final, with no sweep.
    stack.faults.clear();
    const final = await eventually(
      async () => {
        const report = await download(runId);
        return report?.state === 'final' ? report : undefined;
      },
      // Generous: a deadline, not a wait (on a loaded 2-core machine a redelivery, the store and
      // the rebuild take seconds each).
      30_000,
      'the final report',
    );
    expect(final.columns).toMatchObject({
      report: 'final',
      readingsStored: '4',
      readingsAccepted: '4',
      readingsStoredOrParked: '4',
    });
  }, 60_000);

  it('reports a run that timed out without readings within 10 s of its deadline', async () => {
    const startedAt = Date.now();
    const runId = await startRun(1);
    const deadline = startedAt + (1 + GRACE_SECONDS) * 1000;
    // The scheduled sweep that sees the run waits for its deadline, which passes before the
    // next sweep, and ends it then.
    const sweep = (await stack.runSchedule('runSweeper')) as { timedOut: string[] };
    expect(sweep.timedOut).toContain(runId);
    const report = await download(runId);
    expect(Date.now() - deadline).toBeLessThan(10_000);
    expect(report?.columns).toMatchObject({ status: 'TIMEOUT', readingsStored: '0' });
    // Final once the window closed: nothing was accepted, nothing is on its way.
    await until(Date.now() + EDGE_DECISION_SLACK_MS);
    await stack.runSchedule('runSweeper');
    expect((await download(runId))?.state).toBe('final');
  }, 60_000);
});

describe('cursors while readings arrive', () => {
  it('continue with every reading after the last one handed out, whatever was stored since', async () => {
    const runId = await startRun();
    const t = Date.now() - 60_000;
    const reading = (sensorId: string, ms: number) => ({
      sensorId,
      reading: ms,
      timestamp: new Date(t + ms).toISOString(),
    });
    await post(runId, reading('a', 0));
    await post(runId, reading('a', 2000));
    await eventually(async () => ((await storedCount(runId)) === 2 ? true : undefined));
    const first = await api.get(`/api/sensors/data?runId=${runId}&limit=1`);
    expect(first.body.items.map((m: { reading: number }) => m.reading)).toEqual([0]);
    // B lands between the two A readings after the page was read.
    await post(runId, reading('b', 1000));
    await eventually(async () => ((await storedCount(runId)) === 3 ? true : undefined));
    const rest = await api.get(
      `/api/sensors/data?runId=${runId}&limit=10&nextKey=${first.body.nextKey}`,
    );
    expect(rest.body.items.map((m: { reading: number }) => m.reading)).toEqual([1000, 2000]);
  });

  it('answer 400 to every cursor that is well formed but impossible', async () => {
    const runId = await startRun();
    const t = Date.now() - 60_000;
    for (const ms of [0, 1]) {
      await post(runId, { sensorId: 's', reading: ms, timestamp: new Date(t + ms).toISOString() });
    }
    await eventually(async () => ((await storedCount(runId)) === 2 ? true : undefined));
    const page = await api.get(`/api/sensors/data?runId=${runId}&limit=1`);
    const key = JSON.parse(Buffer.from(page.body.nextKey, 'base64url').toString()) as {
      runId: string;
      readingKey: string;
    };
    const rest = key.readingKey.slice(24);
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const impossible = [
      { ...key, readingKey: `2030-13-01T00:00:00.000Z${rest}` },
      { ...key, readingKey: `2030-02-30T00:00:00.000Z${rest}` },
      { ...key, readingKey: `2031-02-29T00:00:00.000Z${rest}` },
      { ...key, readingKey: `2030-01-01T24:00:00.000Z${rest}` },
      { ...key, readingKey: `2030-01-01T00:60:00.000Z${rest}` },
      { ...key, readingKey: `2030-01-01T00:00:60.000Z${rest}` },
      { ...key, readingKey: `2030-00-01T00:00:00.000Z${rest}` },
      { ...key, readingKey: `${key.readingKey}#@x` },
      { ...key, readingKey: key.readingKey.replace('#temperature', '#Temperature') },
      { ...key, runId: '99999999-2222-4333-8444-555555555555' },
      { ...key, packKey: `${key.readingKey}!AbCdEfGhIjKl.0` },
    ];
    for (const cursor of impossible) {
      const answer = await api.get(`/api/sensors/data?runId=${runId}&nextKey=${encode(cursor)}`);
      expect(answer.status, JSON.stringify(cursor)).toBe(400);
      expect(answer.body.message).toMatch(/nextKey/);
    }
    // The same query by sensor, with a run's key: 400 too.
    const bySensor = await api.get(`/api/sensors/data?sensorId=s&nextKey=${page.body.nextKey}`);
    expect(bySensor.status).toBe(400);
    // And the cursor as handed out still works.
    const next = await api.get(`/api/sensors/data?runId=${runId}&nextKey=${page.body.nextKey}`);
    expect(next.body.items.map((m: { reading: number }) => m.reading)).toEqual([1]);
  });
});
