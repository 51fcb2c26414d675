/**
 * The existing IoT Playground front end, replayed: its calls exactly as its simulation form and
 * its serverless simulation service send them (headers, bodies, one request per sensor per
 * tick, can-start before start, running-list polling, Abandon, completion, reports), against the
 * local stack over real HTTP, asserting on every field the front end reads.
 */
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '#infra/local/index.ts';
import { eventually } from '#test/support/eventually.ts';
import { startTestStack } from '#test/support/local-stack.ts';
import { checkedFetch } from '#test/support/api-contract.ts';

const ORIGIN = 'http://localhost:4200';
let stack: LocalStack;

beforeAll(async () => {
  // The default grace period: a report is there as the run ends, provisional until it closes.
  ({ stack } = await startTestStack());
});
afterAll(async () => {
  await stack?.stop();
});

/** The front end's HttpClient: JSON in and out, its Origin, its headers. */
const frontEnd = async (
  method: 'GET' | 'POST',
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
) => {
  const response = await checkedFetch(`${stack.url}${path}`, {
    method,
    headers: {
      accept: 'application/json, text/plain, */*',
      origin: ORIGIN,
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  expect(response.headers.get('access-control-allow-origin')).toMatch(
    /^(\*|http:\/\/localhost:4200)$/,
  );
  const isJson = response.headers.get('content-type')?.includes('application/json');
  return {
    status: response.status,
    headers: response.headers,
    body: isJson ? ((await response.json()) as any) : new Uint8Array(await response.arrayBuffer()),
  };
};

/** The simulation form: `interval` is `ceil(intervalMs / 1000)`. */
const startSimulation = (user: string, sensorIds: string[], intervalMs: number) =>
  frontEnd('POST', '/api/runs/start', {
    headers: { 'X-User': user },
    body: { duration: 60, interval: Math.ceil(intervalMs / 1000), sensorIds },
  });

/** One tick of the simulation service: one request per sensor, the run in X-Run-Id. */
const tick = async (runId: string, sensorIds: string[], tickIndex: number) => {
  const at = Date.now() - 10_000 + tickIndex * 100;
  const answers = await Promise.all(
    sensorIds.map((sensorId, i) =>
      frontEnd('POST', '/api/sensors/data', {
        headers: { 'X-Run-Id': runId },
        // The front end's model: `type` is optional and defaults to temperature.
        body:
          i % 2 === 0
            ? { sensorId, reading: 20 + tickIndex, timestamp: new Date(at).toISOString() }
            : {
                sensorId,
                type: 'humidity',
                reading: 40 + tickIndex,
                timestamp: new Date(at).toISOString(),
              },
      }),
    ),
  );
  for (const answer of answers)
    expect(answer).toMatchObject({ status: 202, body: { accepted: 1, runId } });
};

describe('the front end, replayed', () => {
  it('starts, watches, abandons and completes simulations, and downloads their reports', async () => {
    // The form asks first whether a simulation may start.
    const canStart = await frontEnd('GET', '/api/runs/can-start');
    expect(canStart.status).toBe(200);
    expect(canStart.body).toMatchObject({ canStart: true, maxAllowed: 5, available: 5 });

    const sensors = ['temp-1', 'hum-1'];
    const kept = await startSimulation('alice', sensors, 1500);
    const abandoned = await startSimulation('bob', ['temp-9'], 500);
    for (const started of [kept, abandoned]) {
      expect(started.status).toBe(201);
      expect(started.body.params.runId).toBe(started.body.id);
    }
    expect(kept.body).toMatchObject({
      status: 'RUNNING',
      username: 'alice',
      interval: 2,
      duration: 60,
      sensorIds: sensors,
      params: { runId: kept.body.id, interval: 2, duration: 60, sensorIds: sensors },
    });

    // The running list, polled: each card shows these fields.
    const running = await frontEnd('GET', '/api/runs/running');
    expect(running.status).toBe(200);
    const cards = new Map((running.body as any[]).map((sim) => [sim.params.runId, sim]));
    expect(cards.get(kept.body.id)).toMatchObject({
      id: kept.body.id,
      status: 'RUNNING',
      username: 'alice',
      startedAt: kept.body.startedAt,
      params: { interval: 2, duration: 60, sensorIds: sensors },
    });
    expect(cards.get(abandoned.body.id)?.params.interval).toBe(1);

    for (let t = 0; t < 5; t++) {
      await tick(kept.body.id, sensors, t);
      await tick(abandoned.body.id, ['temp-9'], t);
    }

    // Abandon: the card posts to /api/runs/{params.runId}/finish.
    const abandon = await frontEnd(
      'POST',
      `/api/runs/${cards.get(abandoned.body.id).params.runId}/finish`,
      {
        body: {
          status: 'FAILED',
          message: "Simulation abandonée par l'utilisateur (interruption)",
        },
      },
    );
    expect(abandon.status).toBe(200);
    expect(abandon.body).toMatchObject({
      status: 'FAILED',
      errorMessage: "Simulation abandonée par l'utilisateur (interruption)",
    });

    // Completion, with the front end's message kept.
    const finishedAt = Date.now();
    const done = await frontEnd('POST', `/api/runs/${kept.body.params.runId}/finish`, {
      body: { status: 'SUCCESS', message: 'Simulation terminée' },
    });
    expect(done.body).toMatchObject({ status: 'COMPLETED', message: 'Simulation terminée' });
    const after = await frontEnd('GET', '/api/runs/running');
    expect((after.body as any[]).map((sim) => sim.id)).not.toContain(kept.body.id);

    // A refusal shows `error.error?.message`.
    const again = await frontEnd('POST', `/api/runs/${kept.body.id}/finish`, {
      body: { status: 'SUCCESS' },
    });
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/not running/);

    // "Télécharger les rapports", clicked as the run ends: within 10 s the download holds both
    // runs' reports with every accepted reading counted (no sweep: built as the runs end and
    // again as their last readings land), provisional while the grace period is open.
    const counted = (csv: string | undefined, readings: number) =>
      csv !== undefined && csv.split('\r\n')[1]!.split(',')[10] === String(readings);
    const { reports, files } = await eventually(
      async () => {
        const answer = await frontEnd('GET', '/api/reports/download');
        if (answer.status !== 200) return undefined;
        const unzipped = unzipSync(answer.body as Uint8Array);
        const csv = (id: string) => {
          const file = unzipped[`report_${id}.csv`];
          return file && strFromU8(file);
        };
        return counted(csv(kept.body.id), 10) && counted(csv(abandoned.body.id), 5)
          ? { reports: answer, files: unzipped }
          : undefined;
      },
      10_000,
      'both reports with every reading',
    );
    expect(Date.now() - finishedAt).toBeLessThan(10_000);
    expect(reports.headers.get('content-type')).toBe('application/zip');
    expect(reports.headers.get('content-disposition')).toMatch(
      /^attachment; filename="reports_\d{8}T\d{6}Z\.zip"$/,
    );
    expect(reports.headers.get('access-control-expose-headers')).toMatch(/content-disposition/i);
    expect(reports.headers.get('access-control-expose-headers')).toMatch(/report-state/i);
    expect(reports.headers.get('report-state')).toBe('provisional');
    const keptCsv = strFromU8(files[`report_${kept.body.id}.csv`]!);
    expect(keptCsv).toContain(`${kept.body.id},alice,COMPLETED,`);
    expect(keptCsv).toContain(',10,provisional,');
    expect(keptCsv).toMatch(/\r\nhum-1,humidity,5,40,44,42,/);
    expect(keptCsv).toMatch(/\r\ntemp-1,temperature,5,20,24,22,/);
    expect(strFromU8(files[`report_${abandoned.body.id}.csv`]!)).toContain('FAILED');

    const one = await frontEnd('GET', `/api/reports/download?runId=${abandoned.body.id}`);
    expect(Object.keys(unzipSync(one.body as Uint8Array))).toEqual([
      `report_${abandoned.body.id}.csv`,
    ]);
    const none = await frontEnd('GET', '/api/reports/download?from=2099-01-01T00:00:00Z');
    expect(none).toMatchObject({ status: 404, body: { message: 'No reports found' } });
  });
});
