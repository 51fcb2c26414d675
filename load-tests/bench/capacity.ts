/**
 * What a stage's settings allow on AWS, by arithmetic (as configured for `prod` unless told
 * otherwise, infra/throughput.ts): the ingest route's throttle (within the stage's), the event-source mapping's
 * concurrency at the consumer time measured per message, DynamoDB's default table quota, and
 * its per-partition write limit: for one sensor of a run (a run's packs of one sensor lie in one
 * partition, shared/reading-pack.ts) and for one run (a partition per sensor it sends from, so a
 * run takes that many partitions' writes, within the table's quota).
 */
import { STAGE_THROUGHPUT, type ThroughputSettings } from '#infra/throughput.ts';

/** DynamoDB's documented ceiling per partition (on demand alike): 1,000 write units a second. */
export const PARTITION_WRITE_UNITS_PER_SECOND = 1000;
/** DynamoDB's default on-demand quota per table: 40,000 write request units a second. */
export const TABLE_WRITE_UNITS_PER_SECOND = 40_000;

export interface CapacityInput {
  /** Readings per API request. */
  batch: number;
  /** Readings per SQS message, as measured. */
  readingsPerMessage: number;
  /**
   * Consumer time per message in milliseconds, as measured locally (invocation time over the
   * messages delivered). Larger batches spread an invocation's fixed cost thinner, so this
   * errs low.
   */
  consumerMsPerMessage: number;
  /**
   * Write units per reading on the table, as measured: a pack of readings costs one (two above
   * 1 KB), and the directory a few per run and sensor.
   */
  tableWriteUnitsPerReading: number;
  /** Sensors a run sends from: its packs lie in as many partitions. */
  sensorsPerRun: number;
}

type StageLimit = 'api throttle' | 'consumers' | 'table quota';

export interface Capacity {
  /** Readings/s the ingest route's steady rate limit lets in (burst aside). */
  apiThrottleReadingsPerSecond: number;
  /** Readings/s the consumers drain at most: concurrency × messages per second each. */
  consumerReadingsPerSecond: number;
  /** Readings/s the table's default write quota takes. */
  tableQuotaReadingsPerSecond: number;
  /** What the stage takes over all runs: the smallest of the three, and which it is. */
  stage: { readingsPerSecond: number; requestsPerSecond: number; by: StageLimit };
  /** Readings/s one run of `sensorsPerRun` sensors can be written at, before its partitions throttle. */
  oneRunReadingsPerSecond: number;
  /** Readings/s one sensor of a run can send, before its partition throttles. */
  oneSensorReadingsPerSecond: number;
}

export const capacityOf = (
  input: CapacityInput,
  throughput: ThroughputSettings = STAGE_THROUGHPUT.prod,
): Capacity => {
  // Readings come in through POST /api/sensors/data: its route throttle, within the stage's.
  const api =
    Math.min(throughput.apiThrottle.rateLimit, throughput.routeThrottles.ingest.rateLimit) *
    input.batch;
  const messagesPerSecond =
    (throughput.consumer.maxConcurrency * 1000) / Math.max(1e-3, input.consumerMsPerMessage);
  const consumers = messagesPerSecond * input.readingsPerMessage;
  const perReading = Math.max(1e-9, input.tableWriteUnitsPerReading);
  const quota = TABLE_WRITE_UNITS_PER_SECOND / perReading;
  const oneSensor = PARTITION_WRITE_UNITS_PER_SECOND / perReading;
  const candidates = [
    { readingsPerSecond: api, by: 'api throttle' as const },
    { readingsPerSecond: consumers, by: 'consumers' as const },
    { readingsPerSecond: quota, by: 'table quota' as const },
  ];
  const limit = candidates.reduce((low, c) =>
    c.readingsPerSecond < low.readingsPerSecond ? c : low,
  );
  const round = (value: number) => Math.round(value);
  return {
    apiThrottleReadingsPerSecond: round(api),
    consumerReadingsPerSecond: round(consumers),
    tableQuotaReadingsPerSecond: round(quota),
    stage: {
      readingsPerSecond: round(limit.readingsPerSecond),
      requestsPerSecond: round(limit.readingsPerSecond / input.batch),
      by: limit.by,
    },
    oneRunReadingsPerSecond: round(Math.min(quota, oneSensor * Math.max(1, input.sensorsPerRun))),
    oneSensorReadingsPerSecond: round(oneSensor),
  };
};
