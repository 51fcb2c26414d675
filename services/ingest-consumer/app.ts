/**
 * The SQS batch consumer: each record is a QueueMessage whose readings are written with
 * BatchWriteItem, inside Powertools BatchProcessor with partial batch responses. A record that
 * fails is reported in `batchItemFailures` and redelivered.
 *
 * No idempotency record per message: a row's key is the reading's identity, so a redelivered
 * message rewrites the same rows and the table stays exact. Such a record would cost two writes
 * per message (at one reading per request, as much as the reading itself) to protect only the
 * pipeline's counts, which may count a redelivered message twice. Exactly-once across re-sent
 * requests is the edge's Idempotency-Key (stable batch ids and server ids).
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createDocumentClient, createDynamoDbClient } from '#shared/aws-clients.ts';
import { sleep } from '#shared/backoff.ts';
import { intEnv, requireEnv } from '#shared/config.ts';
import { readingKey, type QueueMessage } from '#shared/measurement.ts';
import { createPipelineMetrics, createSensorMetrics, publishStored } from '#shared/metrics.ts';
import { PipelineMetric } from '#shared/metrics-contract.ts';
import { beginInvocation, createLogger } from '#shared/powertools.ts';
import { topology } from '#infra/topology.ts';
import { itemsOf, toParkedRow } from './items.ts';
import { parseQueueMessage } from './message.ts';
import { SensorMetricsTally } from './sensor-metrics.ts';
import {
  DEFAULT_WRITE_POLICY,
  DynamoMeasurementStore,
  type MeasurementStore,
  type WriteContext,
} from './store.ts';

export interface ConsumerDeps {
  logger: Logger;
  /** `IoTPlayground/Pipeline`, dimension `service` only. */
  pipelineMetrics: Metrics;
  /** `IoTPlayground/Sensors`, without default dimensions (see createSensorMetrics). */
  sensorMetrics: Metrics;
  store: MeasurementStore;
  /** TTL of stored readings (MEASUREMENT_RETENTION_DAYS). */
  retentionDays: number;
  now: () => number;
}

/** What storing a record's message did. */
interface StoredAnswer {
  batchId: string;
  stored: number;
  /** Reading keys the table refused for good and that were parked instead. */
  parked: string[];
}

/** Counters of one invocation; records only add to them, so parallel records don't interfere. */
interface Tally {
  stored: number;
  failures: number;
  writeRetries: number;
  parked: number;
  lagsMs: number[];
  sensors: SensorMetricsTally;
}

export const makeHandler = (deps: ConsumerDeps) => {
  const { logger, pipelineMetrics, sensorMetrics } = deps;

  const storeMessage = async (
    message: QueueMessage,
    write: WriteContext,
  ): Promise<StoredAnswer> => {
    const items = itemsOf(message, deps.retentionDays);
    const refused = await deps.store.putAll(items, write);
    if (refused.length > 0) {
      // Retrying cannot change DynamoDB's answer: keep the rows for an operator and let the
      // rest of the message count as stored, rather than sending it all to the DLQ.
      await deps.store.park(
        refused.map((row) => toParkedRow(row, deps.now())),
        write,
      );
      for (const { item, reason } of refused) {
        logger.error('Reading refused by the table; parked', {
          batchId: message.batchId,
          runId: item.runId,
          readingKey: item.readingKey,
          reason,
        });
      }
    }
    return {
      batchId: message.batchId,
      stored: items.length - refused.length,
      parked: refused.map(({ item }) => item.readingKey),
    };
  };

  const publish = (recordCount: number, tally: Tally): void => {
    pipelineMetrics.addMetric(PipelineMetric.batchSize, MetricUnit.Count, recordCount);
    pipelineMetrics.addMetric(PipelineMetric.stored, MetricUnit.Count, tally.stored);
    pipelineMetrics.addMetric(PipelineMetric.recordFailures, MetricUnit.Count, tally.failures);
    pipelineMetrics.addMetric(PipelineMetric.writeRetries, MetricUnit.Count, tally.writeRetries);
    pipelineMetrics.addMetric(PipelineMetric.parked, MetricUnit.Count, tally.parked);
    for (const lag of tally.lagsMs) {
      pipelineMetrics.addMetric(PipelineMetric.endToEndLag, MetricUnit.Milliseconds, lag);
    }
    publishStored(pipelineMetrics);
    tally.sensors.publish(sensorMetrics);
  };

  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    beginInvocation(logger, context);
    pipelineMetrics.captureColdStartMetric();

    const tally: Tally = {
      stored: 0,
      failures: 0,
      writeRetries: 0,
      parked: 0,
      lagsMs: [],
      sensors: new SensorMetricsTally(),
    };
    const write: WriteContext = {
      remainingMs: () => context.getRemainingTimeInMillis(),
      onRetry: () => {
        tally.writeRetries++;
      },
    };

    const handleRecord = async (record: SQSRecord): Promise<void> => {
      try {
        const message = parseQueueMessage(record.body);
        const answer = await storeMessage(message, write);
        tally.stored += answer.stored;
        tally.parked += answer.parked.length;
        tally.lagsMs.push(Math.max(0, deps.now() - Date.parse(message.acceptedAt)));
        const parked = new Set(answer.parked);
        tally.sensors.addMessage({
          ...message,
          measurements: message.measurements.filter((m) => !parked.has(readingKey(m))),
        });
      } catch (error) {
        tally.failures++;
        logger.error('Record failed; SQS will deliver it again', {
          messageId: record.messageId,
          receiveCount: record.attributes?.ApproximateReceiveCount,
          error: error as Error,
        });
        throw error;
      }
    };

    // A new processor per invocation: its state is per batch. A fully failed batch throws
    // FullBatchFailureError, which is left to fail the invocation (SQS retries the batch).
    const processor = new BatchProcessor(EventType.SQS);
    try {
      return await processPartialResponse(event, handleRecord, processor, { context });
    } finally {
      // Published even when the whole batch failed.
      publish(event.Records.length, tally);
      logger.info('Batch processed', {
        records: event.Records.length,
        stored: tally.stored,
        failures: tally.failures,
        writeRetries: tally.writeRetries,
        parked: tally.parked,
        sensorDimensionSets: tally.sensors.dimensionSets,
      });
    }
  };
};

/** Production dependencies, built once per container from the environment. */
export const defaultDeps = (env: NodeJS.ProcessEnv = process.env): ConsumerDeps => {
  const dynamo = createDynamoDbClient();
  const documents = createDocumentClient(dynamo);
  return {
    logger: createLogger(),
    pipelineMetrics: createPipelineMetrics(topology.functions.ingestConsumer.service),
    sensorMetrics: createSensorMetrics(),
    store: new DynamoMeasurementStore(
      (command) => documents.send(command),
      requireEnv(topology.tables.sensorData.env, env),
      DEFAULT_WRITE_POLICY,
      { sleep, random: Math.random },
    ),
    retentionDays: intEnv('MEASUREMENT_RETENTION_DAYS', 30, { min: 1, max: 3650 }, env),
    now: () => Date.now(),
  };
};
