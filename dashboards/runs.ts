/**
 * Runs: how many runs start, how they end, how often the concurrency limit turns one away, and
 * the recent runs themselves (from the run API's structured logs).
 */
import { DASHBOARDS } from '#shared/grafana.ts';
import { RUN_NAMESPACE, RunDimension, RunMetric } from '#shared/metrics-contract.ts';
import { RUN_STATUSES } from '#shared/run.ts';
import { topology } from '#infra/topology.ts';
import { barGauge, buildDashboard, stat, table, timeseries } from './panels.ts';
import { dimLabel, insights, logs, metric } from './queries.ts';
import { logGroupsVariable, stageVariable } from './variables.ts';

const runApi = { [RunDimension.service]: topology.functions.runApi.service };
const sweeper = { [RunDimension.service]: topology.functions.runSweeper.service };

const count = (id: string, metricName: string, label: string) =>
  metric(id, {
    namespace: RUN_NAMESPACE,
    metricName,
    dimensions: runApi,
    statistic: 'Sum',
    label,
  });

/** Both the run API and the sweeper end runs, so finished runs are summed over services. */
const finishedByStatus = (label: string) =>
  insights(
    'f',
    `SELECT SUM(${RunMetric.finished}) FROM SCHEMA("${RUN_NAMESPACE}", ${RunDimension.service}, ${RunDimension.status}) GROUP BY ${RunDimension.status}`,
    label,
  );

const sampled = (id: string, metricName: string, label: string) =>
  metric(id, {
    namespace: RUN_NAMESPACE,
    metricName,
    dimensions: sweeper,
    statistic: 'Maximum',
    label,
  });

export const runsDashboard = () =>
  buildDashboard({
    identity: DASHBOARDS.runs,
    description: `Run lifecycle: starts, ends by status (${RUN_STATUSES.filter((s) => s !== 'RUNNING').join(', ')}), the concurrency limit.`,
    variables: [stageVariable(), logGroupsVariable()],
    time: { from: 'now-6h', to: 'now' },
    rows: [
      [
        'Runs',
        [
          stat('Runs started', { w: 6, h: 5 }, [count('s', RunMetric.started, 'Started')], 'sum'),
          stat(
            'Starts refused at the limit',
            { w: 6, h: 5 },
            [count('x', RunMetric.refused, 'Refused')],
            'sum',
          ),
          stat(
            'Running now',
            { w: 6, h: 5 },
            [sampled('n', RunMetric.running, 'Running')],
            'lastNotNull',
          ),
          barGauge(
            'Finished by status',
            { w: 6, h: 5 },
            [finishedByStatus(dimLabel(RunDimension.status))],
            'sum',
          ),
          timeseries('Running runs against the limit', { w: 12, h: 8 }, [
            sampled('n', RunMetric.running, 'Running'),
            sampled('l', RunMetric.limit, 'Limit (MAX_CONCURRENT_RUNS)'),
          ]),
          timeseries('Starts, refusals and ends', { w: 12, h: 8 }, [
            count('s', RunMetric.started, 'Started'),
            count('x', RunMetric.refused, 'Refused'),
            finishedByStatus(`Finished ${dimLabel(RunDimension.status)}`),
          ]),
        ],
      ],
      [
        'Recent runs',
        [
          table('Recent runs (run API logs)', { w: 24, h: 9 }, [
            logs(
              'recent',
              'fields @timestamp, runId, user, duration, sensors | filter message = "Run started" | sort @timestamp desc | limit 20',
            ),
          ]),
        ],
      ],
    ],
  });
