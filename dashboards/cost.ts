/**
 * Cost: estimated spend per hour by service, from the usage CloudWatch records and the one
 * price table (shared/prices.ts), with metric math; and the running cost per million stored
 * measurements. Fixed monthly items (alarms, Grafana's load balancer and task) are left out:
 * they do not move with traffic (see docs/costs.md).
 *
 * Metric math is typed: SUM of an array of series is a series, SUM of one metric a number, and a
 * query over a multi-value variable is an array (a search) only while the variable holds more
 * than one value. So every sum takes the array form, `SUM([x])`, a series either way.
 */
import { VariableHide } from '@grafana/grafana-foundation-sdk/dashboard';
import { DASHBOARDS, DEPLOYMENT_VARIABLES } from '#shared/grafana.ts';
import {
  PIPELINE_NAMESPACE,
  PipelineDimension,
  PipelineMetric,
  SENSOR_NAMESPACE,
  SensorDimension,
  SensorMetric,
} from '#shared/metrics-contract.ts';
import { PRICES } from '#shared/prices.ts';
import { functionNames, topology } from '#infra/topology.ts';
import { AWS_METRICS, PERIOD_AUTO } from '#shared/dashboard-model/index.ts';
import { PIPELINE_EMITTERS } from './pipeline.ts';
import { buildDashboard, lastCompletePeriod, resultsOf, stat, timeseries } from './panels.ts';
import {
  insights,
  math,
  metric,
  resourceMetric,
  sumOf,
  type MetricSpec,
  type Query,
} from './queries.ts';
import {
  apiVariable,
  functionVariable,
  logGroupNamesVariable,
  ofApi,
  ofFunction,
  ofLogGroup,
  ofQueue,
  ofTable,
  queueVariable,
  stageVariable,
  tableVariable,
} from './variables.ts';

const { api, lambda, sqs, dynamodb, logs } = AWS_METRICS;
const V = DEPLOYMENT_VARIABLES;

/** A price as metric math reads it: plain decimals, never exponent notation. */
const price = (value: number): string => value.toFixed(14).replace(/\.?0+$/, '');

const hidden = (
  id: string,
  spec: Omit<MetricSpec, 'hide' | 'statistic'>,
  statistic: MetricSpec['statistic'] = 'Sum',
) => metric(id, { ...spec, statistic, hide: true });

/**
 * Lambda metrics carry no memory size, so compute is priced at the largest function's memory:
 * an upper bound (the two high-volume functions have that size).
 */
const LAMBDA_MEMORY_MB = Math.max(
  ...functionNames.map((name) => topology.functions[name].memoryMb),
);

/** A pipeline metric's statistic, hidden (the service dimension is the emitting function's). */
const pipelineUsage = (
  id: string,
  name: keyof typeof PipelineMetric,
  statistic: 'SampleCount' | 'Sum',
) =>
  metric(id, {
    namespace: PIPELINE_NAMESPACE,
    metricName: PipelineMetric[name],
    dimensions: {
      [PipelineDimension.service]:
        topology.functions[PIPELINE_EMITTERS[PipelineMetric[name]]].service,
    },
    statistic,
    hide: true,
  });

/** Of each table, the units of its global secondary indexes (billed like the table's own). */
const ofIndexes = (metricName: string) =>
  resourceMetric(dynamodb.namespace, 'TableName', V.table, { GlobalSecondaryIndexName: '*' })(
    metricName,
  );

/**
 * The sensor metrics of the range, one series each (both sensor metrics exist for every run,
 * sensor, type and user; DataIngested counts them). Metrics Insights, not a search: a search
 * finds every metric of the last two weeks and returns 500 at most, so past a few hours of runs
 * it counted a truncated set; Insights looks at the range and returns up to 500 series of it.
 */
const sensorMetrics = () =>
  insights('cm', {
    statistic: 'COUNT',
    metricName: SensorMetric.ingested,
    namespace: SENSOR_NAMESPACE,
    schema: Object.values(SensorDimension),
    groupBy: Object.values(SensorDimension),
  }).hide(true);

/** Usage, hidden: metric math below turns each into dollars. */
const usage = (): Query[] => [
  hidden('api', ofApi(api.metrics.count)),
  hidden('inv', ofFunction(lambda.metrics.invocations)),
  hidden('dur', ofFunction(lambda.metrics.duration)),
  // SQS bills requests (of 1 to 10 messages), not messages: see SQS_REQUESTS.
  pipelineUsage('enq', 'accepted', 'SampleCount'),
  pipelineUsage('batches', 'batchSize', 'SampleCount'),
  pipelineUsage('msgs', 'batchSize', 'Sum'),
  hidden('sqs_empty', ofQueue(sqs.metrics.emptyReceives)),
  hidden('wcu', ofTable(dynamodb.metrics.writeUnits)),
  hidden('gsiw', ofIndexes(dynamodb.metrics.writeUnits)),
  hidden('rcu', ofTable(dynamodb.metrics.readUnits)),
  hidden('gsir', ofIndexes(dynamodb.metrics.readUnits)),
  sensorMetrics(),
  hidden('logb', ofLogGroup(logs.metrics.incomingBytes)),
];

/**
 * SQS requests, as the functions count them: a SendMessageBatch per ingest request that enqueued
 * (MeasurementsAccepted, one sample a request); per consumer batch of m messages (ConsumerBatchSize:
 * one sample a batch, its sum the messages) ⌈m/10⌉ ReceiveMessage and as many DeleteMessageBatch
 * calls (ten messages a call at most), taken as m/10 + ½ each; and every receive that found
 * nothing (NumberOfEmptyReceives). Approximate: a request's messages over 10 (more calls) or a
 * payload over 64 KiB (one request per 64 KiB chunk) bill more.
 */
const SQS_REQUESTS = `SUM([enq]) + SUM([msgs]) / 5 + SUM([batches]) + SUM([sqs_empty])`;

/** Dollars per period as dollars per hour (PERIOD takes one metric, so the period macro). */
const hourly = (dollars: string) => `(${dollars}) * 3600 / ${PERIOD_AUTO}`;

const spend: [id: string, expression: string, label: string][] = [
  [
    'c_api',
    hourly(`${sumOf('api')} * ${price(PRICES.apiPerMillionRequests / 1e6)}`),
    'API requests',
  ],
  [
    'c_lreq',
    hourly(`${sumOf('inv')} * ${price(PRICES.lambdaPerMillionRequests / 1e6)}`),
    'Lambda requests',
  ],
  [
    'c_lgbs',
    hourly(
      `${sumOf('dur')} / 1000 * ${price(LAMBDA_MEMORY_MB / 1024)} * ${price(PRICES.lambdaArmPerGbSecond)}`,
    ),
    `Lambda GB-s (at ${LAMBDA_MEMORY_MB} MB)`,
  ],
  [
    'c_sqs',
    hourly(`(${SQS_REQUESTS}) * ${price(PRICES.sqsPerMillionRequests / 1e6)}`),
    "SQS requests (from the functions' counts)",
  ],
  [
    'c_ddbw',
    hourly(
      `(${sumOf('wcu')} + ${sumOf('gsiw')}) * ${price(PRICES.dynamoDbPerMillionWriteUnits / 1e6)}`,
    ),
    'DynamoDB write units (tables + indexes)',
  ],
  [
    'c_ddbr',
    hourly(
      `(${sumOf('rcu')} + ${sumOf('gsir')}) * ${price(PRICES.dynamoDbPerMillionReadUnits / 1e6)}`,
    ),
    'DynamoDB read units (tables + indexes)',
  ],
  [
    'c_metrics',
    // A series with data in a period is a custom metric billed for that hour.
    `SUM([cm * 0 + 1]) * ${Object.values(SensorMetric).length} * ${price(PRICES.customMetricPerMonth / PRICES.hoursPerMonth)}`,
    'Custom metrics (per-run sensor metrics)',
  ],
  [
    'c_logs',
    hourly(`${sumOf('logb')} / ${1024 ** 3} * ${price(PRICES.logsPerGbIngested)}`),
    'Logs ingested',
  ],
];

const spendQueries = (): Query[] =>
  spend.map(([id, expression, label]) => math(id, expression, label));

const total = () => math('c_total', spend.map(([id]) => id).join(' + '), 'Total');

const stored = () =>
  metric('stored', {
    namespace: PIPELINE_NAMESPACE,
    metricName: PipelineMetric.stored,
    dimensions: { [PipelineDimension.service]: topology.functions.ingestConsumer.service },
    statistic: 'Sum',
    hide: true,
  });

/** Dollars spent in each period per stored measurement, times a million. */
const perMillion = () =>
  math(
    'c_permillion',
    `c_total * ${PERIOD_AUTO} / 3600 / stored * 1000000`,
    '$ per million stored',
  );

/** The resources of the stage, always all of them: hidden. */
const costVariables = () => [
  stageVariable(),
  apiVariable(),
  ...[functionVariable(), queueVariable(), tableVariable(), logGroupNamesVariable()].map((v) =>
    v.hide(VariableHide.HideVariable),
  ),
];

const BY_SERVICE = 'Estimated spend per hour by service';
const PER_MILLION = 'Cost per million stored measurements';

export const costDashboard = () =>
  buildDashboard({
    identity: DASHBOARDS.cost,
    description:
      'Estimated spend from usage metrics and list prices (us-east-1, shared/prices.ts); fixed monthly items excluded.',
    refresh: '15m',
    variables: costVariables(),
    rows: [
      [
        'Spend',
        [
          stat(
            'Estimated spend per hour (last full period)',
            { w: 12, h: 8 },
            [resultsOf(BY_SERVICE)],
            'lastNotNull',
            'currencyUSD',
          ).transformations(lastCompletePeriod),
          stat(
            `${PER_MILLION} (last full period)`,
            { w: 4, h: 8 },
            [resultsOf(PER_MILLION)],
            'lastNotNull',
            'currencyUSD',
          ).transformations(lastCompletePeriod),
          timeseries(
            PER_MILLION,
            { w: 8, h: 8 },
            [
              ...usage(),
              ...spendQueries().map((q) => q.hide(true)),
              total().hide(true),
              stored(),
              perMillion(),
            ],
            'currencyUSD',
          ),
          timeseries(
            BY_SERVICE,
            { w: 24, h: 10 },
            [...usage(), ...spendQueries(), total()],
            'currencyUSD',
          ).description(
            `List prices of shared/prices.ts times the usage CloudWatch records. Approximations: Lambda GB-s at the largest function's memory (${LAMBDA_MEMORY_MB} MB; the metrics carry none); SQS requests from the functions' counts (a SendMessageBatch per ingest request that enqueued, a ReceiveMessage and a DeleteMessageBatch per consumer batch, and the empty receives), more when a request sends over 10 messages or 64 KiB; custom metrics counted by Metrics Insights, which returns at most 500 series, so over a range with more than 500 sensor series the count stops there.`,
          ),
        ],
      ],
    ],
  });
