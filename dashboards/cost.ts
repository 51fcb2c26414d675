/**
 * Cost: estimated spend per hour by service, from the usage CloudWatch records and the one
 * price table (shared/prices.ts), with metric math; and the running cost per million stored
 * measurements. Fixed monthly items (alarms, Grafana's load balancer and task) are left out:
 * they do not move with traffic (see docs/costs.md).
 *
 * Metric math is typed: SUM of an array of series (a search: all the stage's functions, queues,
 * tables, log groups) is a series, SUM of one metric a number. So arrays are summed and single
 * metrics (the one HTTP API, the consumer's stored count) are used as they are; the resource
 * variables here are hidden and always All, so no selection turns an array into one metric.
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
import { buildDashboard, resultsOf, stat, timeseries } from './panels.ts';
import { math, metric, resourceMetric, type MetricSpec, type Query } from './queries.ts';
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

/** Usage, hidden: metric math below turns each into dollars. */
const usage: Query[] = [
  hidden('api', ofApi(api.metrics.count)),
  hidden('inv', ofFunction(lambda.metrics.invocations)),
  hidden('dur', ofFunction(lambda.metrics.duration)),
  ...(['sent', 'received', 'deleted', 'emptyReceives'] as const).map((key) =>
    hidden(`sqs_${key}`, ofQueue(sqs.metrics[key])),
  ),
  hidden('wcu', ofTable(dynamodb.metrics.writeUnits)),
  hidden(
    'gsi',
    resourceMetric(dynamodb.namespace, 'TableName', V.table, { GlobalSecondaryIndexName: '*' })(
      dynamodb.metrics.writeUnits,
    ),
  ),
  hidden('rcu', ofTable(dynamodb.metrics.readUnits)),
  // Both sensor metrics exist for every (run, sensor, type, user): DataIngested counts them.
  hidden('sm', {
    namespace: SENSOR_NAMESPACE,
    metricName: SensorMetric.ingested,
    dimensions: Object.fromEntries(Object.values(SensorDimension).map((key) => [key, '*'])),
  }),
  hidden('logb', ofLogGroup(logs.metrics.incomingBytes)),
];

/** Dollars per period as dollars per hour (PERIOD takes one metric, so the period macro). */
const hourly = (dollars: string) => `(${dollars}) * 3600 / ${PERIOD_AUTO}`;

const spend: [id: string, expression: string, label: string][] = [
  ['c_api', hourly(`api * ${price(PRICES.apiPerMillionRequests / 1e6)}`), 'API requests'],
  [
    'c_lreq',
    hourly(`SUM(inv) * ${price(PRICES.lambdaPerMillionRequests / 1e6)}`),
    'Lambda requests',
  ],
  [
    'c_lgbs',
    hourly(
      `SUM(dur) / 1000 * ${price(LAMBDA_MEMORY_MB / 1024)} * ${price(PRICES.lambdaArmPerGbSecond)}`,
    ),
    `Lambda GB-s (at ${LAMBDA_MEMORY_MB} MB)`,
  ],
  [
    'c_sqs',
    hourly(
      `(SUM(sqs_sent) + SUM(sqs_received) + SUM(sqs_deleted) + SUM(sqs_emptyReceives)) * ${price(PRICES.sqsPerMillionRequests / 1e6)}`,
    ),
    'SQS requests',
  ],
  [
    'c_ddbw',
    hourly(`(SUM(wcu) + SUM(gsi)) * ${price(PRICES.dynamoDbPerMillionWriteUnits / 1e6)}`),
    'DynamoDB write units (table + index)',
  ],
  [
    'c_ddbr',
    hourly(`SUM(rcu) * ${price(PRICES.dynamoDbPerMillionReadUnits / 1e6)}`),
    'DynamoDB read units',
  ],
  [
    'c_metrics',
    // A series with data in a period is a custom metric billed for that hour.
    `SUM(sm * 0 + 1) * ${Object.values(SensorMetric).length} * ${price(PRICES.customMetricPerMonth / PRICES.hoursPerMonth)}`,
    'Custom metrics (per-run sensor metrics)',
  ],
  [
    'c_logs',
    hourly(`SUM(logb) / ${1024 ** 3} * ${price(PRICES.logsPerGbIngested)}`),
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

/**
 * The resources of the stage, always all of them: hidden, so the arrays the spend math sums
 * stay arrays.
 */
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
            'Estimated spend per hour (last)',
            { w: 12, h: 8 },
            [resultsOf(BY_SERVICE)],
            'lastNotNull',
            'currencyUSD',
          ),
          stat(
            `${PER_MILLION} (last)`,
            { w: 4, h: 8 },
            [resultsOf(PER_MILLION)],
            'lastNotNull',
            'currencyUSD',
          ),
          timeseries(
            PER_MILLION,
            { w: 8, h: 8 },
            [
              ...usage,
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
            [...usage, ...spendQueries(), total()],
            'currencyUSD',
          ),
        ],
      ],
    ],
  });
