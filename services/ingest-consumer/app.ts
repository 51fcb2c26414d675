/**
 * The SQS batch consumer: each record is a QueueMessage whose readings are written as packs,
 * inside Powertools BatchProcessor with partial batch responses. A record that fails is
 * reported in `batchItemFailures` and redelivered.
 *
 * It keeps no idempotency record: a message is packed the same way at every delivery (its batch
 * id and every reading's timestamp are fixed at the edge, an Idempotency-Key's retry rebuilding
 * the same messages at the same accepted time), so a redelivery or a retry overwrites its own
 * packs, and readers hand each reading out once (shared/reading-pack.ts). What a record would
 * have protected is the pipeline's own counts: a redelivered message is counted again in
 * MeasurementsStored and the sensor metrics; queries and run reports stay exact.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import {
  createDocumentClient,
  createDynamoDbClient,
  createSqsClient,
} from '#shared/aws-clients.ts';
import { sleep } from '#shared/backoff.ts';
import { intEnv, requireEnv } from '#shared/config.ts';
import { readingKey, type QueueMessage } from '#shared/measurement.ts';
import { packsOf, unpack } from '#shared/reading-pack.ts';
import { directoryEntriesOf } from '#shared/sensor-directory.ts';
import { createPipelineMetrics, createSensorMetrics, publishStored } from '#shared/metrics.ts';
import { PipelineMetric } from '#shared/metrics-contract.ts';
import { beginInvocation, createLogger } from '#shared/powertools.ts';
import { DynamoReportStore, type LateStoreSignal } from '#shared/report-store.ts';
import { SqsReportRequests, type ReportRequests } from '#shared/report-requests.ts';
import { topology } from '#infra/topology.ts';
import { DirectoryWriter, findListedIn, type DirectoryRecorder } from './directory.ts';
import { toParkedRow } from './items.ts';
import { parseQueueMessage } from './message.ts';
import { SensorMetricsTally } from './sensor-metrics.ts';
import { SharedWritesStore } from './shared-writes.ts';
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
  /** Writes the directory entries of a message's packs before the packs (once per container). */
  directory: DirectoryRecorder;
  /** Runs that ended before a batch of theirs was stored get their report rebuilt. */
  lateStores: LateStoreSignal;
  /** Asks for such a run's report to be rebuilt now (never throws; else the sweeper does). */
  reportRequests?: ReportRequests;
  /** TTL of stored readings (MEASUREMENT_RETENTION_DAYS). */
  retentionDays: number;
  now: () => number;
}

/** What storing a message did. */
interface StoredAnswer {
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
    const packs = packsOf(message, deps.retentionDays);
    // Listed first: a reader that finds a pack finds its run and sensor in the directory.
    await deps.directory.record(directoryEntriesOf(packs, deps.retentionDays), write);
    const refused = await deps.store.putAll(packs, write);
    const parked: string[] = [];
    if (refused.length > 0) {
      // Retrying cannot change DynamoDB's answer: keep the packs for an operator and let the
      // rest of the message count as stored, rather than sending it all to the DLQ.
      await deps.store.park(
        refused.map((row) => toParkedRow(row, deps.now())),
        write,
      );
      for (const { item, reason } of refused) {
        logger.error('Readings refused by the table; parked', {
          batchId: message.batchId,
          runId: item.runId,
          packKey: item.packKey,
          readings: item.values.length,
          reason,
        });
        parked.push(...unpack(item).map((reading) => reading.readingKey));
      }
    }
    const readings = packs.reduce((sum, pack) => sum + pack.values.length, 0);
    return { stored: readings - parked.length, parked };
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

  /**
   * Once the batch is written: a run that has ended gets its report rebuilt, as the report may
   * have been built without these readings. One strongly consistent read per run and batch (a
   * write only for ended runs); read after the writes, so a run that ends later builds its
   * report from a table that already holds them. If that fails, the run's records are reported
   * failed and stored again on redelivery (overwriting their packs), and signalled then.
   */
  const signalLateStores = async (
    response: SQSBatchResponse,
    storedByRun: Map<string, { ids: string[]; readings: number }>,
  ): Promise<SQSBatchResponse> => {
    if (storedByRun.size === 0) return response;
    const failed = [...response.batchItemFailures];
    try {
      const ended = await deps.lateStores.endedRuns([...storedByRun.keys()]);
      const results = await Promise.allSettled(
        ended.map((runId) =>
          deps.lateStores.storedLate(runId, deps.now(), storedByRun.get(runId)!.readings),
        ),
      );
      results.forEach((result, i) => {
        if (result.status === 'rejected') {
          logger.error('Run report not marked for a rebuild; its records will come again', {
            runId: ended[i],
            error: result.reason as Error,
          });
          for (const id of storedByRun.get(ended[i]!)!.ids) failed.push({ itemIdentifier: id });
        }
      });
      if (ended.length > 0) logger.info('Readings stored after their run ended', { runs: ended });
      // Only where these may be the readings the report waits for: one rebuild per backlog.
      const complete = ended.filter((_, i) => {
        const result = results[i]!;
        return result.status === 'fulfilled' && result.value;
      });
      const requests = deps.reportRequests;
      if (requests) await Promise.all(complete.map((runId) => requests.request(runId)));
    } catch (error) {
      logger.error('Runs not checked for a report rebuild; their records will come again', {
        error: error as Error,
      });
      for (const { ids } of storedByRun.values()) {
        for (const id of ids) failed.push({ itemIdentifier: id });
      }
    }
    return { batchItemFailures: failed };
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

    /** Records stored by this invocation, by run, and their readings. */
    const storedByRun = new Map<string, { ids: string[]; readings: number }>();

    const handleRecord = async (record: SQSRecord): Promise<void> => {
      try {
        const message = parseQueueMessage(record.body);
        const answer = await storeMessage(message, write);
        tally.stored += answer.stored;
        tally.parked += answer.parked.length;
        const run = storedByRun.get(message.runId) ?? { ids: [], readings: 0 };
        run.ids.push(record.messageId);
        run.readings += answer.stored + answer.parked.length;
        storedByRun.set(message.runId, run);
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
      const response = await processPartialResponse(event, handleRecord, processor, { context });
      return await signalLateStores(response, storedByRun);
    } finally {
      // Counted before publishing, which empties the tally.
      const sensorDimensionSets = tally.sensors.dimensionSets;
      // Published even when the whole batch failed.
      publish(event.Records.length, tally);
      logger.info('Batch processed', {
        records: event.Records.length,
        stored: tally.stored,
        failures: tally.failures,
        writeRetries: tally.writeRetries,
        parked: tally.parked,
        sensorDimensionSets,
      });
    }
  };
};

/** Production dependencies, built once per container from the environment. */
export const defaultDeps = (env: NodeJS.ProcessEnv = process.env): ConsumerDeps => {
  const documents = createDocumentClient(createDynamoDbClient());
  const logger = createLogger();
  const sensorTable = requireEnv(topology.tables.sensorData.env, env);
  const store = new SharedWritesStore(
    new DynamoMeasurementStore(
      (command) => documents.send(command),
      sensorTable,
      DEFAULT_WRITE_POLICY,
      { sleep, random: Math.random },
    ),
  );
  return {
    logger,
    pipelineMetrics: createPipelineMetrics(topology.functions.ingestConsumer.service),
    sensorMetrics: createSensorMetrics(),
    store,
    directory: new DirectoryWriter(store, findListedIn(documents, sensorTable)),
    lateStores: new DynamoReportStore(documents, requireEnv(topology.tables.runs.env, env)),
    reportRequests: new SqsReportRequests(
      createSqsClient(),
      requireEnv(topology.queues.reports.env, env),
      logger,
    ),
    retentionDays: intEnv('MEASUREMENT_RETENTION_DAYS', 30, { min: 1, max: 3650 }, env),
    now: () => Date.now(),
  };
};
