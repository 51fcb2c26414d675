/**
 * check:dashboards against a started local stack, whose Grafana answers the same HTTP API
 * (infra/local/grafana/http-api.ts): after a run's readings, every variable and every panel of
 * the provisioned dashboards is asked, none fails, and empty results are reported apart.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DashboardJson } from '#shared/dashboard-model/index.ts';
import type { LocalStack } from '#infra/local/index.ts';
import { DASHBOARDS } from '#shared/grafana.ts';
import { eventually } from '#test/support/eventually.ts';
import { startTestStack, type ApiClient } from '#test/support/local-stack.ts';
import { checkDashboards, type Row } from './check.ts';
import { provisionedDashboards, runCli } from './cli.ts';
import { grafanaClient } from './grafana-client.ts';
import { tally } from './report.ts';

let stack: LocalStack;
let api: ApiClient;
let grafana: string;
let dashboards: DashboardJson[];

beforeAll(async () => {
  ({ stack, api } = await startTestStack());
  grafana = `${stack.url}/grafana`;

  // A run with readings of three sensors and every type, one rejected reading, then its end.
  const run = await api.post(
    '/api/runs/start',
    { duration: 60, interval: 500 },
    { 'X-User': 'alice' },
  );
  const post = (body: unknown) => api.post('/api/sensors/data', body, { 'X-Run-Id': run.body.id });
  expect(
    (
      await post([
        { sensorId: 'check-s1', type: 'temperature', reading: 20 },
        { sensorId: 'check-s2', temperature: 21, humidity: 40, pressure: 1000 },
        { sensorId: 'check-s3', type: 'humidity', reading: 55 },
      ])
    ).status,
  ).toBe(202);
  expect((await post({ sensorId: 'check-s1', reading: 'warm' })).status).toBe(400);
  await eventually(
    async () =>
      (await api.get(`/api/sensors/data?runId=${run.body.id}`)).body.count === 5 ? true : undefined,
    20_000,
    'five stored readings',
  );
  await api.post(`/api/runs/${run.body.id}/finish`, { status: 'COMPLETED' });
  await stack.runSchedule('runSweeper');
  // The run's sensor metrics are listed (as ListMetrics lists them) and their values in the
  // series the panels read (a second or so later here) before the check looks.
  dashboards = await provisionedDashboards(grafanaClient(grafana, undefined));
  const sensors = dashboards.filter((d) => d.uid === DASHBOARDS.sensors.uid);
  await eventually(
    async () => {
      const rows = await checkDashboards({
        client: grafanaClient(grafana, undefined),
        dashboards: sensors,
      });
      const stored = rows.find((r) => r.name === 'Readings stored');
      const runs = rows.find((r) => r.name === '$runId');
      return stored?.verdict === 'data' && runs?.detail.includes(run.body.id) ? true : undefined;
    },
    10_000,
    "the run's readings on the Sensors dashboard",
  );
});
afterAll(async () => {
  await stack?.stop();
});

const rowsOf = (rows: Row[], dashboard: DashboardJson, title: string) =>
  rows.filter((r) => r.dashboard === dashboard.title && r.name === title);

const byTitle = (title: string) => dashboards.find((d) => d.title.endsWith(title)) as DashboardJson;

describe('check:dashboards on the local stack', () => {
  it("reads the dashboards from Grafana, the stack's names in place of the markers", () => {
    expect(dashboards.map((d) => d.uid).sort()).toEqual(
      Object.values(DASHBOARDS)
        .map((d) => d.uid)
        .sort(),
    );
    expect(JSON.stringify(dashboards)).not.toContain('@@IOTP_');
  });

  it('asks every variable and every panel, and none fails', async () => {
    const rows = await checkDashboards({
      client: grafanaClient(grafana, undefined),
      dashboards,
    });

    expect(rows.filter((r) => r.verdict === 'error')).toEqual([]);
    for (const dashboard of dashboards) {
      for (const variable of dashboard.templating.list) {
        const row = rowsOf(rows, dashboard, `$${variable.name}`)[0];
        expect(row, `${dashboard.title} $${variable.name}`).toBeDefined();
        // A query variable is listed through the datasource's resources.
        if (variable.type === 'query') expect(row?.asked).toBe(true);
      }
      for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
        const shown = rows.filter((r) => r.dashboard === dashboard.title && r.panelId === panel.id);
        expect(shown.length, `${dashboard.title} #${panel.id}`).toBeGreaterThan(0);
        const reused = panel.targets?.some((t) => t.datasource?.uid === '-- Dashboard --');
        expect(
          shown.some((r) => r.asked),
          `${dashboard.title} #${panel.id} asked`,
        ).toBe(!reused);
      }
    }
    const counts = tally(rows);
    expect(counts.queries).toBeGreaterThanOrEqual(40);
    expect(
      rows.filter((r) => r.asked).every((r) => r.verdict === 'data' || r.verdict === 'empty'),
    ).toBe(true);
    // What the run and its readings put on the dashboards.
    const has = (title: string, panel: string) => {
      const shown = rowsOf(rows, byTitle(title), panel);
      return shown.length > 0 && shown.every((r) => r.verdict === 'data');
    };
    expect(has('Sensors', 'Readings stored')).toBe(true);
    expect(has('Sensors', 'Temperature')).toBe(true);
    expect(has('Sensors', 'Run logs (last 5m)')).toBe(true);
    expect(has('Runs', 'Finished by status')).toBe(true);
    expect(has('Pipeline', 'Invocations')).toBe(true);
    expect(rowsOf(rows, byTitle('Sensors'), '$sensorId')[0]?.detail).toMatch(/^3 listed/);
    // No throttling here: an empty result, reported as such.
    expect(
      rowsOf(rows, byTitle('Pipeline'), 'Throttled requests and write throttle events')[0]?.verdict,
    ).toBe('empty');
  });

  it('passes through the command line, with the table as Markdown for the job summary', async () => {
    const summary = join(await mkdtemp(join(tmpdir(), 'check-dashboards-')), 'summary.md');
    let out = '';

    const code = await runCli(['--grafana-url', grafana, '--summary', summary], {
      out: (text) => (out += text),
      env: {},
    });

    expect(code).toBe(0);
    const queries = Number(/: (\d+) queries asked of Grafana/.exec(out)?.[1]);
    expect(queries).toBeGreaterThanOrEqual(40);
    expect(out).toMatch(/, 0 failed: passed\n$/);
    expect(await readFile(summary, 'utf8')).toMatch(/^### check:dashboards — passed\n/);
  });
});
