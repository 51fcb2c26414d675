/**
 * What the topology's settings allow on AWS, by arithmetic: the API stage's throttle, the
 * event-source mapping's concurrency × batch size, and DynamoDB's per-partition write limit
 * for one run (all of a run's readings share its partition key).
 */
import { topology } from '#infra/topology.ts';

/** DynamoDB's documented ceiling per partition (on demand alike): 1,000 write units a second. */
export const PARTITION_WRITE_UNITS_PER_SECOND = 1000;

export interface CapacityInput {
  /** Readings per API request. */
  batch: number;
  /** Readings per SQS message, as measured. */
  readingsPerMessage: number;
  /** Mean consumer invocation duration in milliseconds, as measured locally. */
  consumerMsPerInvocation: number;
  /** Write units per reading on the table's partition (index writes go to other partitions). */
  tableWriteUnitsPerReading: number;
}

export interface Capacity {
  /** Readings/s the API stage's steady rate limit lets in (burst aside). */
  apiThrottleReadingsPerSecond: number;
  /** Readings/s the consumers drain at most: concurrency × batch size per invocation time. */
  consumerReadingsPerSecond: number;
  /** Readings/s one run can be written at, before its partition throttles. */
  perRunPartitionReadingsPerSecond: number;
  /** The smallest of the three, and which it is. */
  limit: { readingsPerSecond: number; by: 'api throttle' | 'consumers' | 'run partition' };
}

export const capacityOf = (input: CapacityInput, t = topology): Capacity => {
  const { consumer } = t.queues.measurements;
  const api = t.api.throttle.rateLimit * input.batch;
  const invocationsPerSecond =
    (consumer.maxConcurrency * 1000) / Math.max(1, input.consumerMsPerInvocation);
  const consumers = invocationsPerSecond * consumer.batchSize * input.readingsPerMessage;
  const partition =
    PARTITION_WRITE_UNITS_PER_SECOND / Math.max(1e-9, input.tableWriteUnitsPerReading);
  const candidates = [
    { readingsPerSecond: api, by: 'api throttle' as const },
    { readingsPerSecond: consumers, by: 'consumers' as const },
    { readingsPerSecond: partition, by: 'run partition' as const },
  ];
  const limit = candidates.reduce((low, c) =>
    c.readingsPerSecond < low.readingsPerSecond ? c : low,
  );
  const round = (value: number) => Math.round(value);
  return {
    apiThrottleReadingsPerSecond: round(api),
    consumerReadingsPerSecond: round(consumers),
    perRunPartitionReadingsPerSecond: round(partition),
    limit: { readingsPerSecond: round(limit.readingsPerSecond), by: limit.by },
  };
};
