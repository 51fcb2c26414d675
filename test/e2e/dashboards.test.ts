/**
 * The local dashboards' data over real HTTP: what the stack measures about itself (API, Lambda,
 * SQS, DynamoDB, logs) and the run metrics, as the Pipeline and Runs dashboards query them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '#infra/local/index.ts';
import { DASHBOARDS } from '#shared/grafana.ts';
import { dashboards } from '../../dashboards/index.ts';
import { eventually } from '#test/support/eventually.ts';
import { type ApiClient, startTestStack } from '#test/support/local-stack.ts';

let stack: LocalStack;
let api: ApiClient;

beforeAll(async () => {
  ({ stack, api } = await startTestStack({ env: { MAX_CONCURRENT_RUNS: '1' } }));
});
afterAll(async () => {
  await stack?.stop();
});

interface Frame {
  label: string;
  values: (number | null)[];
}
interface PanelResult {
  frames?: Frame[];
  table?: { fields: string[]; rows: string[][] };
  errors: string[];
  notes: string[];
}

/** The panels of a dashboard by title, as the page receives them. */
const panels = async (dashboard: { uid: string }, query = 'from=now-5m&to=now') => {
  const layout = Object.values(dashboards()).find((d) => d.uid === dashboard.uid);
  const data = (await api.get(`/grafana/api/d/${dashboard.uid}?${query}`)).body as {
    panels: Record<string, PanelResult>;
  };
  return Object.fromEntries(
    (layout?.panels ?? []).flatMap((panel) => {
      const result = 'id' in panel && panel.id !== undefined ? data.panels[panel.id] : undefined;
      return result ? [[panel.title, result]] : [];
    }),
  ) as Record<string, PanelResult>;
};

const total = (result: PanelResult | undefined, label: string): number =>
  (result?.frames ?? [])
    .filter((frame) => frame.label === label)
    .flatMap((frame) => frame.values)
    .reduce<number>((sum, value) => sum + (value ?? 0), 0);

describe('local dashboard data', () => {
  it('measures the API, functions, queue and tables as the Pipeline dashboard asks', async () => {
    const run = await api.post('/api/runs/start', { duration: 60, interval: 500 });
    const post = (body: unknown) =>
      api.post('/api/sensors/data', body, { 'X-Run-Id': run.body.id });
    expect(
      (
        await post([
          { sensorId: 's1', type: 'temperature', reading: 20 },
          { sensorId: 's2', type: 'temperature', reading: 21 },
        ])
      ).status,
    ).toBe(202);
    expect((await post({ sensorId: 's1', type: 'temperature', reading: 'warm' })).status).toBe(400);
    await eventually(
      async () =>
        (await api.get(`/api/sensors/data?runId=${run.body.id}`)).body.count === 2
          ? true
          : undefined,
      20_000,
      'two stored readings',
    );

    const pipeline = await eventually(async () => {
      const shown = await panels(DASHBOARDS.pipeline);
      return total(shown['Stored and parked'], 'Stored') === 2 ? shown : undefined;
    }, 10_000);
    // Three API requests so far (start, two posts) plus the sensor-data reads above.
    expect(total(pipeline['API requests'], 'Requests')).toBeGreaterThanOrEqual(4);
    expect(total(pipeline['API 4xx and 5xx'], '4xx')).toBe(1);
    expect(total(pipeline['API 4xx and 5xx'], '5xx')).toBe(0);
    expect(total(pipeline['Measurements accepted and rejected'], 'Accepted')).toBe(2);
    expect(total(pipeline['Measurements accepted and rejected'], 'Rejected')).toBe(1);
    expect(total(pipeline['Invocations'], 'ingest')).toBe(2);
    expect(total(pipeline['Invocations'], 'runApi')).toBe(1);
    expect(total(pipeline['Errors and throttles'], 'ingest errors')).toBe(0);
    // Each pack (one per sensor here) is written to the table, after its directory entries.
    expect(total(pipeline['Consumed write units'], stack.tables.sensorData)).toBeGreaterThanOrEqual(
      2,
    );
    expect(
      (pipeline['Messages visible (queue and dead letters)']?.frames ?? [])
        .map((f) => f.label)
        .sort(),
    ).toEqual(['iot-playground-measurements', 'iot-playground-measurements-dlq']);
    expect(pipeline['Throttled requests and write throttle events']?.frames).toEqual([]);
    for (const result of Object.values(pipeline)) {
      expect(result.errors).toEqual([]);
      expect(result.notes).toEqual([]);
    }
  }, 60_000);

  it('counts starts, refusals and ends, and lists started runs from the run API logs', async () => {
    await api.post('/api/runs/interrupt-all');
    const started = await api.post(
      '/api/runs/start',
      { duration: 60, interval: 500 },
      { 'X-User': 'erin' },
    );
    expect((await api.post('/api/runs/start', { duration: 60, interval: 500 })).status).toBe(409);
    await api.post(`/api/runs/${started.body.id}/finish`, { status: 'COMPLETED' });
    await stack.runSchedule('runSweeper');

    const runs = await eventually(async () => {
      const shown = await panels(DASHBOARDS.runs);
      return total(shown['Starts refused at the limit'], 'Refused') === 1 ? shown : undefined;
    }, 10_000);
    expect(total(runs['Runs started'], 'Started')).toBe(2);
    expect(total(runs['Finished by status'], 'COMPLETED')).toBe(1);
    expect(total(runs['Finished by status'], 'INTERRUPTED')).toBe(1);
    expect(total(runs['Running runs against the limit'], 'Limit (MAX_CONCURRENT_RUNS)')).toBe(1);
    const recent = runs['Recent runs (run API logs)']?.table;
    expect(recent?.fields).toEqual(['@timestamp', 'runId', 'user', 'duration', 'sensors']);
    expect(recent?.rows[0]?.slice(1, 3)).toEqual([started.body.id, 'erin']);
    for (const result of Object.values(runs)) expect(result.errors).toEqual([]);
  }, 60_000);
});
