import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { dashboards } from './index.ts';
import type { DashboardJson, Target } from '#shared/dashboard-model/index.ts';
import {
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

describe('what an open dashboard tab costs on AWS (defect 8)', () => {
  it.each(costs.map((c) => [c.title, c] as const))(
    `%s stays within $${OPEN_TAB_BUDGET_PER_HOUR} an hour at its default refresh`,
    (_, cost) => {
      expect(cost.metricsPerRefresh).toBeGreaterThan(0);
      expect(cost.dollarsPerHour).toBeLessThanOrEqual(OPEN_TAB_BUDGET_PER_HOUR);
    },
  );

  it('counts what GetMetricData bills: every metric a search matches or an Insights query analyses', () => {
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
    expect(
      metricsRequested({ ...search, dimensions: { ...search.dimensions, RunId: '*' } }, [], 1),
    ).toBe(runsPerHour * sensorsPerRun * readingTypes);
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
  });

  it("docs/dashboards.md's table is the one computed here", async () => {
    const readme = await readFile(new URL('../docs/dashboards.md', import.meta.url), 'utf8');
    const start = readme.indexOf(OPEN_TAB_TABLE_START);
    const end = readme.indexOf(OPEN_TAB_TABLE_END);
    expect(start).toBeGreaterThan(-1);
    expect(readme.slice(start, end + OPEN_TAB_TABLE_END.length)).toBe(openTabTable(costs));
  });
});
