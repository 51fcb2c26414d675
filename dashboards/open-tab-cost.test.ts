import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { dashboards } from './index.ts';
import {
  deploymentKey,
  deploymentMarker,
  type DashboardJson,
  type Target,
} from '#shared/dashboard-model/index.ts';
import { PRICES } from '#shared/prices.ts';
import {
  bytesScanned,
  logBytesPerHour,
  metricsRequested,
  OPEN_TAB_BUDGET_PER_HOUR,
  OPEN_TAB_TABLE_END,
  OPEN_TAB_TABLE_START,
  OPEN_TAB_WORKLOAD,
  openTabCost,
  openTabTable,
} from './open-tab-cost.ts';

const generated = Object.values(JSON.parse(JSON.stringify(dashboards()))) as DashboardJson[];
const costs = generated.map(openTabCost);

describe('what an open dashboard tab costs on AWS', () => {
  it.each(costs.map((c) => [c.title, c] as const))(
    `%s stays within $${OPEN_TAB_BUDGET_PER_HOUR} an hour at its default refresh, Logs Insights included`,
    (_, cost) => {
      expect(cost.metricsPerRefresh).toBeGreaterThan(0);
      expect(cost.dollarsPerHour).toBe(cost.metricsDollarsPerHour + cost.logsDollarsPerHour);
      expect(cost.dollarsPerHour).toBeLessThanOrEqual(OPEN_TAB_BUDGET_PER_HOUR);
    },
  );

  it('counts what GetMetricData bills: every metric a search returns or an Insights query analyses', () => {
    const search: Target = {
      refId: 'A',
      namespace: 'IoTPlayground/Sensors',
      metricName: 'DataIngested',
      dimensions: { RunId: '$runId', SensorId: '*', User: '*', Type: '*' },
      statistic: 'Sum',
    };
    const variables = [{ type: 'query', name: 'runId', current: { value: 'r' } }];
    const { sensorsPerRun, readingTypes, runsPerHour } = OPEN_TAB_WORKLOAD;
    expect(metricsRequested(search, variables, 1)).toBe(sensorsPerRun * readingTypes);
    // Over every run, a search finds two weeks of metrics, and returns 500 of them.
    expect(runsPerHour * 24 * 14 * sensorsPerRun * readingTypes).toBeGreaterThan(500);
    expect(
      metricsRequested({ ...search, dimensions: { ...search.dimensions, RunId: '*' } }, [], 1),
    ).toBe(500);
    const insights: Target = {
      refId: 'B',
      metricQueryType: 1,
      metricEditorMode: 1,
      sqlExpression: `SELECT SUM(DataIngested) FROM SCHEMA("IoTPlayground/Sensors", SensorId, "User", RunId, "Type") WHERE RunId = 'r' GROUP BY SensorId`,
    };
    expect(metricsRequested(insights, [], 1)).toBe(sensorsPerRun * readingTypes);
    expect(metricsRequested({ refId: 'C', metricEditorMode: 1, expression: 'SUM(m)' }, [], 1)).toBe(
      0,
    );
    // A custom variable with All: each of its options.
    const fn = {
      type: 'custom',
      name: 'function',
      multi: true,
      query: 'a : x,b : y,c : z',
      current: { value: ['$__all'] },
    };
    const lambda: Target = {
      refId: 'D',
      namespace: 'AWS/Lambda',
      metricName: 'Invocations',
      dimensions: { FunctionName: '$function' },
      statistic: 'Sum',
    };
    expect(metricsRequested(lambda, [fn], 1)).toBe(3);
  });

  it('counts what Logs Insights bills: every byte of the named groups over the range', () => {
    const logs: Target = {
      refId: 'L',
      queryMode: 'Logs',
      logGroups: (['runApi', 'ingest'] as const).map((fn) => ({
        arn: deploymentMarker(deploymentKey.functionLogGroupArn(fn)),
        name: fn,
      })),
    };
    const { readingsPerSecond, logBytesPerReading, runsPerHour, logBytesPerRun } =
      OPEN_TAB_WORKLOAD;
    const ingestPerHour = readingsPerSecond * 3600 * (logBytesPerReading.ingest ?? 0);
    const runApiPerHour = runsPerHour * (logBytesPerRun.runApi ?? 0);
    expect(logBytesPerHour('ingest')).toBe(ingestPerHour);
    expect(bytesScanned(logs, 0.5)).toBeCloseTo((ingestPerHour + runApiPerHour) / 2, 6);
    expect(() =>
      bytesScanned({ ...logs, logGroups: [{ arn: '$logGroups', name: '' }] }, 1),
    ).toThrow(/not a function log group/);
  });

  it("the reference log bytes a reading are the bench baseline's front-end figure", async () => {
    const baseline = JSON.parse(
      await readFile(new URL('../load-tests/bench/baseline.json', import.meta.url), 'utf8'),
    ) as {
      scenarios: {
        shape?: string;
        per1000Readings: { emfBytes: number; otherLogBytes: number };
      }[];
    };
    const frontEnd = baseline.scenarios.find((s) => s.shape === 'front end');
    expect(frontEnd).toBeDefined();
    const benchBytes =
      (frontEnd!.per1000Readings.emfBytes + frontEnd!.per1000Readings.otherLogBytes) / 1000;
    const reference = Object.values(OPEN_TAB_WORKLOAD.logBytesPerReading).reduce(
      (sum, bytes) => sum + bytes,
      0,
    );
    // Measured apart (per log group); re-measure when the bench moves by more than 1%.
    expect(Math.abs(reference - benchBytes) / benchBytes).toBeLessThan(0.01);
  });

  it('prices Logs Insights from the price table', () => {
    const sensors = costs.find((c) => c.uid === 'iot-playground-sensors')!;
    expect(sensors.logsDollarsPerHour).toBeCloseTo(
      (sensors.refreshesPerHour *
        sensors.bytesScannedPerRefresh *
        PRICES.logsInsightsPerGbScanned) /
        1024 ** 3,
      12,
    );
    expect(sensors.bytesScannedPerRefresh).toBeGreaterThan(0);
  });

  it("docs/dashboards.md's table is the one computed here", async () => {
    const readme = await readFile(new URL('../docs/dashboards.md', import.meta.url), 'utf8');
    const start = readme.indexOf(OPEN_TAB_TABLE_START);
    const end = readme.indexOf(OPEN_TAB_TABLE_END);
    expect(start).toBeGreaterThan(-1);
    expect(readme.slice(start, end + OPEN_TAB_TABLE_END.length)).toBe(openTabTable(costs));
  });
});
