/**
 * Sensors: what a run's readings look like, live. `grafanaUrl` lands here with the run and its
 * stage selected; opened without a run, the latest run is selected. Temperature, humidity and
 * pressure per sensor, what was stored and how fast, and the run's own log lines. Every panel
 * reads one run's metrics, so an open tab costs the same whatever else the stage holds (see
 * open-tab-cost.ts); the readings of all runs by user and by run are on the Runs dashboard.
 */
import { SENSORS_DASHBOARD } from '#shared/grafana.ts';
import { SENSOR_NAMESPACE, SensorDimension, SensorMetric } from '#shared/metrics-contract.ts';
import { PERIOD_AUTO } from '#shared/dashboard-model/index.ts';
import {
  barGauge,
  buildDashboard,
  dimensionValues,
  lastCompletePeriod,
  logsPanel,
  READINGS_PER_SECOND,
  resultsOf,
  stat,
  timeseries,
} from './panels.ts';
import { dimLabel, ingestedBy, logs, math, metric, ref, sumOf } from './queries.ts';
import { stageVariable } from './variables.ts';

const { variables } = SENSORS_DASHBOARD;

/**
 * The run and sensors the variables select, for one reading type (or all: `*`). A run id names
 * one run, so its readings are not filtered by user: the readings carry the X-User of whoever
 * posted them, which need not be the run's owner. The `*` makes every query a search (an array
 * of series), whatever the sensor selection.
 */
const selected = (type: string) => ({
  [SensorDimension.runId]: ref(variables.runId),
  [SensorDimension.user]: '*',
  [SensorDimension.sensorId]: ref(variables.sensorId),
  [SensorDimension.type]: type,
});

const readingsOf = (type: string, title: string, unit: string) =>
  timeseries(
    title,
    { w: 8, h: 9 },
    [
      metric('r', {
        namespace: SENSOR_NAMESPACE,
        metricName: SensorMetric.reading,
        dimensions: selected(type),
        statistic: 'Average',
        label: dimLabel(SensorDimension.sensorId),
      }),
    ],
    unit,
  );

const ingested = (id: string) =>
  metric(id, {
    namespace: SENSOR_NAMESPACE,
    metricName: SensorMetric.ingested,
    dimensions: selected('*'),
    statistic: 'Sum',
    hide: true,
  });

const RATE_TITLE = 'Readings per second';

/**
 * The log groups of a run's own requests: the run API (start, finish), the sweeper (timeouts)
 * and ingest (refused requests). Not the consumer: its group holds the per-reading metrics
 * (EMF), the largest log bill, and its errors are on the Pipeline dashboard.
 */
const RUN_LOG_GROUPS = ['runApi', 'runSweeper', 'ingest'] as const;

/** Logs Insights bills the groups' bytes of the whole range at every refresh: a short one. */
const RUN_LOGS_WINDOW = '5m';

export const sensorsDashboard = () =>
  buildDashboard({
    identity: SENSORS_DASHBOARD,
    description: "Readings of a run per sensor, what was stored, and the run's log lines.",
    refresh: '1m',
    variables: [
      stageVariable(),
      // Listed once, when the dashboard opens: the run a link names stays selected even while
      // ListMetrics does not list it yet (a new metric takes minutes to be listed). Run ids are
      // time-ordered (UUIDv7), so in descending order the first option, which Grafana selects
      // when no run is given, is the latest run.
      dimensionValues(variables.runId, 'Run', {
        namespace: SENSOR_NAMESPACE,
        metricName: SensorMetric.ingested,
        dimensionKey: SensorDimension.runId,
        descending: true,
      }),
      dimensionValues(variables.sensorId, 'Sensor', {
        namespace: SENSOR_NAMESPACE,
        metricName: SensorMetric.ingested,
        dimensionKey: SensorDimension.sensorId,
        dimensionFilters: { [SensorDimension.runId]: ref(variables.runId) },
        multi: true,
        allValue: '*',
      }),
    ],
    rows: [
      [
        'Run',
        [
          stat(
            'Readings stored',
            { w: 4, h: 7 },
            [ingested('m'), math('total', sumOf('m'), 'Readings stored')],
            'sum',
          ),
          stat(
            `${RATE_TITLE} (last full period)`,
            { w: 4, h: 7 },
            [resultsOf(RATE_TITLE)],
            'lastNotNull',
            READINGS_PER_SECOND,
          ).transformations(lastCompletePeriod),
          timeseries(
            RATE_TITLE,
            { w: 8, h: 7 },
            [ingested('m'), math('rate', `${sumOf('m')} / ${PERIOD_AUTO}`, 'Readings/s')],
            READINGS_PER_SECOND,
          ),
          barGauge(
            'Latest value per sensor',
            { w: 8, h: 7 },
            [
              metric('l', {
                namespace: SENSOR_NAMESPACE,
                metricName: SensorMetric.reading,
                dimensions: selected('*'),
                statistic: 'Average',
                label: dimLabel(SensorDimension.sensorId, SensorDimension.type),
              }),
            ],
            'lastNotNull',
          ),
        ],
      ],
      [
        'Readings',
        [
          readingsOf('temperature', 'Temperature', 'celsius'),
          readingsOf('humidity', 'Humidity', 'humidity'),
          readingsOf('pressure', 'Pressure', 'pressurehpa'),
        ],
      ],
      [
        'Data ingested and logs',
        [
          barGauge(
            'Data ingested by sensor (this run)',
            { w: 8, h: 8 },
            [
              ingestedBy(SensorDimension.sensorId, {
                [SensorDimension.runId]: ref(variables.runId),
              }),
            ],
            'sum',
          ),
          logsPanel(`Run logs (last ${RUN_LOGS_WINDOW})`, { w: 16, h: 8 }, [
            logs(
              'logs',
              `fields @timestamp, @message, @log | filter runId = "$${variables.runId}" | sort @timestamp desc | limit 100`,
              RUN_LOG_GROUPS,
            ),
          ]).timeFrom(RUN_LOGS_WINDOW),
        ],
      ],
    ],
  });
