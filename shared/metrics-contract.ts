/**
 * The metrics contract: the single source of metric names, namespaces and dimensions.
 * Emitters (services) and dashboards (dashboards/) both import it, so renaming a metric
 * breaks a test rather than a dashboard.
 */

/** Per-run sensor readings; names kept from the earlier service so old dashboards still work. */
export const SENSOR_NAMESPACE = 'IoTPlayground/Sensors';

export const SensorMetric = {
  /** The reading's value (unit None), one data point per stored reading. */
  reading: 'SensorReading',
  /** Count of stored readings. */
  ingested: 'DataIngested',
} as const;

/** Dimension set of the sensor metrics; dashboards filter on each of these. */
export const SensorDimension = {
  sensorId: 'SensorId',
  user: 'User',
  runId: 'RunId',
  type: 'Type',
} as const;

/** Pipeline health: small fixed dimension sets only (each combination is a billed metric). */
export const PIPELINE_NAMESPACE = 'IoTPlayground/Pipeline';

export const PipelineMetric = {
  /** Measurements accepted at the edge and enqueued. */
  accepted: 'MeasurementsAccepted',
  /** Measurements refused at the edge by validation. */
  rejected: 'MeasurementsRejected',
  /** Measurements written to the table. */
  stored: 'MeasurementsStored',
  /** Milliseconds from acceptance at the edge to storage. */
  endToEndLag: 'EndToEndLagMs',
  /** SQS records per consumer invocation. */
  batchSize: 'ConsumerBatchSize',
  /** Records reported in batchItemFailures. */
  recordFailures: 'RecordFailures',
  /** BatchWriteItem retries caused by UnprocessedItems or throttling. */
  writeRetries: 'WriteRetries',
  /** Readings the table refused for good, parked under `parked#<runId>` for an operator. */
  parked: 'MeasurementsParked',
} as const;

export const PipelineDimension = {
  service: 'service',
} as const;

/**
 * Run lifecycle, emitted by the run API and the sweeper: counts with no dimension but `service`,
 * and `Status` (four values) on finished runs, so a stage adds at most a dozen metrics.
 */
export const RUN_NAMESPACE = 'IoTPlayground/Runs';

export const RunMetric = {
  /** Runs started (201). */
  started: 'RunsStarted',
  /** Runs that ended, by `Status`: COMPLETED, FAILED, INTERRUPTED, TIMEOUT. */
  finished: 'RunsFinished',
  /** Starts answered 409 because every slot was held. */
  refused: 'RunStartsRefused',
  /** Runs holding a slot, sampled by the sweeper each minute. */
  running: 'RunsRunning',
  /** MAX_CONCURRENT_RUNS, sampled with RunsRunning so both draw on one chart. */
  limit: 'RunsLimit',
} as const;

export const RunDimension = {
  service: 'service',
  status: 'Status',
} as const;

export type SensorMetricName = (typeof SensorMetric)[keyof typeof SensorMetric];
export type PipelineMetricName = (typeof PipelineMetric)[keyof typeof PipelineMetric];
export type RunMetricName = (typeof RunMetric)[keyof typeof RunMetric];
