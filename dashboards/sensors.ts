/**
 * Sensors: what a run's readings look like, live. `grafanaUrl` lands here with the run and
 * its user selected. Covers every panel of the earlier `iot-serverless-cloudwatch` dashboard
 * (temperature/humidity/pressure evolution, data ingested by sensor/user/run, Lambda
 * invocations and errors, Lambda logs).
 */
import { DEPLOYMENT_VARIABLES, SENSORS_DASHBOARD } from '#shared/grafana.ts';
import { SENSOR_NAMESPACE, SensorDimension, SensorMetric } from '#shared/metrics-contract.ts';
import { AWS_METRICS } from './aws-metrics.ts';
import {
  barGauge,
  buildDashboard,
  dimensionValues,
  logsPanel,
  stat,
  timeseries,
} from './panels.ts';
import { dimLabel, insights, logs, math, metric, ref } from './queries.ts';
import { functionVariable, logGroupsVariable, stageVariable } from './variables.ts';

const { variables } = SENSORS_DASHBOARD;
const { lambda } = AWS_METRICS;

/**
 * The run and sensors the variables select, for one reading type (or all: `*`). A run id names
 * one run, so its readings are not filtered by user: the readings carry the X-User of whoever
 * posted them, which need not be the run's owner.
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

const readingsPerSecond = () => [ingested('m'), math('rate', 'SUM(m) / PERIOD(m)', 'Readings/s')];

/** Metrics Insights over the sensor metrics' one dimension set, summed per `groupBy`. */
const ingestedBy = (groupBy: string, where = '') =>
  insights(
    'g',
    `SELECT SUM(${SensorMetric.ingested}) FROM SCHEMA("${SENSOR_NAMESPACE}", ${Object.values(
      SensorDimension,
    ).join(', ')})${where} GROUP BY ${groupBy} ORDER BY SUM() DESC LIMIT 20`,
    dimLabel(groupBy),
  );

const perFunction = (id: string, metricName: string) =>
  metric(id, {
    namespace: lambda.namespace,
    metricName,
    dimensions: { FunctionName: ref(DEPLOYMENT_VARIABLES.function) },
    statistic: 'Sum',
    label: dimLabel('FunctionName'),
  });

export const sensorsDashboard = () =>
  buildDashboard({
    identity: SENSORS_DASHBOARD,
    description: 'Readings of a run per sensor, what was ingested, and the functions behind it.',
    variables: [
      stageVariable(),
      dimensionValues(variables.runId, 'Run', {
        namespace: SENSOR_NAMESPACE,
        metricName: SensorMetric.ingested,
        dimensionKey: SensorDimension.runId,
      }),
      dimensionValues(variables.user, 'User', {
        namespace: SENSOR_NAMESPACE,
        metricName: SensorMetric.ingested,
        dimensionKey: SensorDimension.user,
        dimensionFilters: { [SensorDimension.runId]: ref(variables.runId) },
      }),
      dimensionValues(variables.sensorId, 'Sensor', {
        namespace: SENSOR_NAMESPACE,
        metricName: SensorMetric.ingested,
        dimensionKey: SensorDimension.sensorId,
        dimensionFilters: { [SensorDimension.runId]: ref(variables.runId) },
        multi: true,
        allValue: '*',
      }),
      functionVariable(),
      logGroupsVariable(),
    ],
    rows: [
      [
        'Run',
        [
          stat(
            'Readings stored',
            { w: 4, h: 7 },
            [ingested('m'), math('total', 'SUM(m)', 'Readings stored')],
            'sum',
          ),
          stat('Readings per second (last)', { w: 4, h: 7 }, readingsPerSecond(), 'lastNotNull'),
          timeseries('Readings per second', { w: 8, h: 7 }, readingsPerSecond(), 'reqps'),
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
        'Data ingested',
        [
          barGauge(
            'Data ingested by sensor (this run)',
            { w: 8, h: 8 },
            [
              ingestedBy(
                SensorDimension.sensorId,
                ` WHERE ${SensorDimension.runId} = '${ref(variables.runId)}'`,
              ),
            ],
            'sum',
          ),
          barGauge(
            'Data ingested by user',
            { w: 8, h: 8 },
            [ingestedBy(SensorDimension.user)],
            'sum',
          ),
          barGauge(
            'Data ingested by run (readings the user posted)',
            { w: 8, h: 8 },
            [
              ingestedBy(
                SensorDimension.runId,
                ` WHERE ${SensorDimension.user} = '${ref(variables.user)}'`,
              ),
            ],
            'sum',
          ),
        ],
      ],
      [
        'Functions',
        [
          timeseries('Lambda invocations', { w: 8, h: 8 }, [
            perFunction('i', lambda.metrics.invocations),
          ]),
          timeseries('Lambda errors', { w: 8, h: 8 }, [perFunction('e', lambda.metrics.errors)]),
          logsPanel('Lambda logs', { w: 8, h: 8 }, [
            logs('logs', 'fields @timestamp, @message, @log | sort @timestamp desc | limit 100'),
          ]),
        ],
      ],
    ],
  });
