/**
 * Runs: how many runs start, how they end, how often the concurrency limit turns one away, what
 * each user and run posted in the last hour, and the recent runs themselves (from the run API's
 * structured logs).
 */
import { DASHBOARDS, dashboardPath, SENSORS_DASHBOARD } from '#shared/grafana.ts';
import {
  RUN_NAMESPACE,
  RunDimension,
  RunMetric,
  SensorDimension,
} from '#shared/metrics-contract.ts';
import { RUN_STATUSES } from '#shared/run.ts';
import { topology } from '#infra/topology.ts';
import { badFrom, barGauge, buildDashboard, stat, table, timeseries } from './panels.ts';
import { dimLabel, ingestedBy, insights, logs, metric } from './queries.ts';
import { stageVariable } from './variables.ts';

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
    {
      statistic: 'SUM',
      metricName: RunMetric.finished,
      namespace: RUN_NAMESPACE,
      schema: [RunDimension.service, RunDimension.status],
      groupBy: [RunDimension.status],
    },
    label,
  );

const INGESTED_WINDOW = '1h';

/**
 * Readings stored in the last hour per user or per run, over every run's sensor metrics. The
 * panel's own time range keeps the metrics Metrics Insights analyses (and bills) to one hour.
 */
const ingestedIn = (title: string, groupBy: string) =>
  barGauge(title, { w: 12, h: 8 }, [ingestedBy(groupBy)], 'sum').timeFrom(INGESTED_WINDOW);

const sampled = (id: string, metricName: string, label: string) =>
  metric(id, {
    namespace: RUN_NAMESPACE,
    metricName,
    dimensions: sweeper,
    statistic: 'Maximum',
    label,
  });

const { variables } = SENSORS_DASHBOARD;

/** A run's row links to the Sensors dashboard with that run (and this stage) selected. */
const openInSensors = {
  title: 'Open the run on the Sensors dashboard',
  url: `${dashboardPath(SENSORS_DASHBOARD)}?var-${variables.runId}=\${__value.raw}&var-${variables.stage}=\${${variables.stage}}`,
};

export const runsDashboard = () =>
  buildDashboard({
    identity: DASHBOARDS.runs,
    description: `Run lifecycle: starts, ends by status (${RUN_STATUSES.filter((s) => s !== 'RUNNING').join(', ')}), the concurrency limit.`,
    variables: [stageVariable()],
    time: { from: 'now-6h', to: 'now' },
    refresh: '5m',
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
            'short',
            // One refusal is a user turned away.
            badFrom(1),
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
        'Readings posted (last hour)',
        [
          ingestedIn('Data ingested by user (last hour)', SensorDimension.user),
          ingestedIn('Data ingested by run (last hour)', SensorDimension.runId),
        ],
      ],
      [
        'Recent runs',
        [
          // The run API's log group only: the others hold the readings' metrics (EMF), which
          // Logs Insights would bill for scanning over the six hours at every refresh.
          table('Recent runs (run API logs)', { w: 24, h: 9 }, [
            logs(
              'recent',
              'fields @timestamp, runId, user, duration, sensors | filter message = "Run started" | sort @timestamp desc | limit 20',
              ['runApi'],
            ),
          ]).overrideByName('runId', [{ id: 'links', value: [openInSensors] }]),
        ],
      ],
    ],
  });
