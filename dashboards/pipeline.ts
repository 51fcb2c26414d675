/**
 * Pipeline: is ingestion healthy? The edge (API Gateway, ingest), the queue and its dead
 * letters, the consumer, the functions, the tables, and the errors they log.
 */
import { DASHBOARDS, DEPLOYMENT_VARIABLES } from '#shared/grafana.ts';
import {
  PIPELINE_NAMESPACE,
  PipelineDimension,
  PipelineMetric,
  type PipelineMetricName,
} from '#shared/metrics-contract.ts';
import {
  functionNames,
  tableNames,
  topology,
  type FunctionName,
  type QueueName,
} from '#infra/topology.ts';
import { AWS_METRICS } from '#shared/dashboard-model/index.ts';
import { buildDashboard, logsPanel, timeseries } from './panels.ts';
import {
  dimLabel,
  logs,
  metric,
  resourceMetric,
  type MetricId,
  type MetricSpec,
} from './queries.ts';
import { deploymentVariables, ofApi, ofFunction, ofQueue, ofTable } from './variables.ts';

const { api, sqs, lambda, dynamodb } = AWS_METRICS;

/** The function whose `service` dimension each pipeline metric carries. */
export const PIPELINE_EMITTERS: Record<PipelineMetricName, FunctionName> = {
  [PipelineMetric.accepted]: 'ingest',
  [PipelineMetric.rejected]: 'ingest',
  [PipelineMetric.stored]: 'ingestConsumer',
  [PipelineMetric.endToEndLag]: 'ingestConsumer',
  [PipelineMetric.batchSize]: 'ingestConsumer',
  [PipelineMetric.recordFailures]: 'ingestConsumer',
  [PipelineMetric.writeRetries]: 'ingestConsumer',
  [PipelineMetric.parked]: 'ingestConsumer',
};

const pipeline = (
  id: string,
  name: PipelineMetricName,
  statistic: MetricSpec['statistic'],
  label: string,
) =>
  metric(id, {
    namespace: PIPELINE_NAMESPACE,
    metricName: name,
    dimensions: {
      [PipelineDimension.service]: topology.functions[PIPELINE_EMITTERS[name]].service,
    },
    statistic,
    label,
  });

/** A query of a metric of the resources `of` names, labelled by their dimension by default. */
const per =
  (of: (metricName: string) => MetricId) =>
  (id: string, name: string, statistic: MetricSpec['statistic'], label?: string) => {
    const { dimensions, ...named } = of(name);
    return metric(id, {
      ...named,
      dimensions,
      statistic,
      label: label ?? dimLabel(Object.keys(dimensions)[0]!),
    });
  };

const apiMetric = per(ofApi);
const perQueue = per(ofQueue);
const perFunction = per(ofFunction);
const perTable = per(ofTable);
const perTableOperation = per(
  resourceMetric(dynamodb.namespace, 'TableName', DEPLOYMENT_VARIABLES.table, { Operation: '*' }),
);
const perIndex = per(
  resourceMetric(dynamodb.namespace, 'TableName', DEPLOYMENT_VARIABLES.table, {
    GlobalSecondaryIndexName: '*',
  }),
);

/**
 * The resources of ingestion and of the runs. The infrastructure panel's function and its
 * deployments table start and stop Grafana, take a request every few seconds at most, and have
 * alarms of their own; the reports queue carries a request per ended run, and a build that keeps
 * failing fails the sweep too (its Errors alarm). Watched here, they would cost every open tab
 * sixteen metrics a refresh, over its budget.
 */
export const PIPELINE_FUNCTIONS = functionNames.filter((name) => name !== 'infraApi');
export const PIPELINE_QUEUES: readonly QueueName[] = ['measurements'];
export const PIPELINE_TABLES = tableNames.filter((name) => name !== 'deployments');

/** Errors can come from any of these functions, so each one's group; over a short range. */
const ERROR_LOGS_WINDOW = '5m';

export const pipelineDashboard = () =>
  buildDashboard({
    identity: DASHBOARDS.pipeline,
    description: 'Ingestion health from the HTTP API to the table, with the errors logged.',
    refresh: '1m',
    variables: deploymentVariables({
      functions: PIPELINE_FUNCTIONS,
      queues: PIPELINE_QUEUES,
      tables: PIPELINE_TABLES,
    }),
    rows: [
      [
        'Edge',
        [
          timeseries('API requests', { w: 6, h: 7 }, [
            apiMetric('c', api.metrics.count, 'Sum', 'Requests'),
          ]),
          timeseries('API 4xx and 5xx', { w: 6, h: 7 }, [
            apiMetric('c4', api.metrics.clientErrors, 'Sum', '4xx'),
            apiMetric('c5', api.metrics.serverErrors, 'Sum', '5xx'),
          ]),
          timeseries(
            'API latency',
            { w: 6, h: 7 },
            [
              apiMetric('p50', api.metrics.latency, 'p50', 'p50'),
              apiMetric('p99', api.metrics.latency, 'p99', 'p99'),
            ],
            'ms',
          ),
          timeseries('Measurements accepted and rejected', { w: 6, h: 7 }, [
            pipeline('a', PipelineMetric.accepted, 'Sum', 'Accepted'),
            pipeline('r', PipelineMetric.rejected, 'Sum', 'Rejected'),
            // SQS counts what the edge sends, for free: no EMF a request for it.
            perQueue('q', sqs.metrics.sent, 'Sum', `${dimLabel('QueueName')} messages sent`),
          ]),
        ],
      ],
      [
        'Queue and consumer',
        [
          timeseries('Messages visible (queue and dead letters)', { w: 6, h: 7 }, [
            perQueue('v', sqs.metrics.visible, 'Maximum'),
          ]),
          timeseries(
            'Age of the oldest message',
            { w: 6, h: 7 },
            [perQueue('o', sqs.metrics.oldestAge, 'Maximum')],
            's',
          ),
          timeseries('Consumer batch size', { w: 6, h: 7 }, [
            pipeline('b', PipelineMetric.batchSize, 'Average', 'Average'),
            pipeline('bm', PipelineMetric.batchSize, 'Maximum', 'Maximum'),
          ]),
          timeseries(
            'End-to-end lag',
            { w: 6, h: 7 },
            [
              pipeline('l50', PipelineMetric.endToEndLag, 'p50', 'p50'),
              pipeline('l99', PipelineMetric.endToEndLag, 'p99', 'p99'),
            ],
            'ms',
          ),
          timeseries('Stored and parked', { w: 12, h: 7 }, [
            pipeline('s', PipelineMetric.stored, 'Sum', 'Stored'),
            pipeline('p', PipelineMetric.parked, 'Sum', 'Parked'),
          ]),
          timeseries('Record failures and write retries', { w: 12, h: 7 }, [
            pipeline('f', PipelineMetric.recordFailures, 'Sum', 'Record failures'),
            pipeline('w', PipelineMetric.writeRetries, 'Sum', 'Write retries'),
          ]),
        ],
      ],
      [
        'Functions',
        [
          timeseries('Invocations', { w: 8, h: 7 }, [
            perFunction('i', lambda.metrics.invocations, 'Sum'),
          ]),
          timeseries('Errors and throttles', { w: 8, h: 7 }, [
            perFunction('e', lambda.metrics.errors, 'Sum', `${dimLabel('FunctionName')} errors`),
            perFunction(
              't',
              lambda.metrics.throttles,
              'Sum',
              `${dimLabel('FunctionName')} throttles`,
            ),
          ]),
          timeseries(
            'Duration p99',
            { w: 8, h: 7 },
            [perFunction('d', lambda.metrics.duration, 'p99')],
            'ms',
          ),
          timeseries('Concurrent executions', { w: 24, h: 6 }, [
            perFunction('c', lambda.metrics.concurrency, 'Maximum'),
          ]),
        ],
      ],
      [
        'Tables',
        [
          timeseries('Consumed write units', { w: 12, h: 7 }, [
            perTable('wcu', dynamodb.metrics.writeUnits, 'Sum'),
          ]),
          // ThrottledRequests counts a BatchWriteItem only when every item in it was throttled;
          // the consumer writes in batches, so its partial throttles show only as
          // WriteThrottleEvents, per table and per index (DynamoDB metrics-dimensions page).
          timeseries('Throttled requests and write throttle events', { w: 12, h: 7 }, [
            perTableOperation(
              'thr',
              dynamodb.metrics.throttled,
              'Sum',
              `${dimLabel('TableName', 'Operation')} throttled requests`,
            ),
            perTable(
              'wte',
              dynamodb.metrics.writeThrottleEvents,
              'Sum',
              `${dimLabel('TableName')} write throttle events`,
            ),
            perIndex(
              'wtei',
              dynamodb.metrics.writeThrottleEvents,
              'Sum',
              `${dimLabel('TableName', 'GlobalSecondaryIndexName')} write throttle events`,
            ),
          ]),
        ],
      ],
      [
        'Errors',
        [
          // Powertools logs an error as an object ({name, message, location, stack}) and Logs
          // Insights flattens JSON into dotted fields: `error` alone is no field.
          logsPanel(`Error logs (last ${ERROR_LOGS_WINDOW})`, { w: 24, h: 9 }, [
            logs(
              'errors',
              'fields @timestamp, @log, message, error.name, error.message | filter level = "ERROR" | sort @timestamp desc | limit 50',
              PIPELINE_FUNCTIONS,
            ),
          ]).timeFrom(ERROR_LOGS_WINDOW),
        ],
      ],
    ],
  });
