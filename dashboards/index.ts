/** Every dashboard, by its file name in dashboards/generated/. */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { costDashboard } from './cost.ts';
import { pipelineDashboard } from './pipeline.ts';
import { runsDashboard } from './runs.ts';
import { sensorsDashboard } from './sensors.ts';

export const GENERATED_DIR = new URL('./generated/', import.meta.url);

export const dashboards = (): Record<string, Dashboard> => ({
  sensors: sensorsDashboard(),
  runs: runsDashboard(),
  pipeline: pipelineDashboard(),
  cost: costDashboard(),
});

/** The file Grafana provisions: stable key order from the builders, two-space indent. */
export const dashboardJson = (dashboard: Dashboard): string =>
  `${JSON.stringify(dashboard, null, 2)}\n`;
