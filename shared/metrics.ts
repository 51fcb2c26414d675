/**
 * Powertools Metrics instances for the two namespaces of the metrics contract. Emitted as EMF on
 * stdout; nothing calls PutMetricData.
 */
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import {
  PIPELINE_NAMESPACE,
  RUN_NAMESPACE,
  RunDimension,
  RunMetric,
  SENSOR_NAMESPACE,
} from './metrics-contract.ts';

/** Pipeline health: the only dimension is `service` (Powertools' default dimension). */
export const createPipelineMetrics = (serviceName: string): Metrics =>
  new Metrics({ namespace: PIPELINE_NAMESPACE, serviceName });

/** Run lifecycle: `service` (the default dimension) and, on finished runs, `Status`. */
export const createRunMetrics = (serviceName: string): Metrics =>
  new Metrics({ namespace: RUN_NAMESPACE, serviceName });

/**
 * Runs that ended, by status (four values, so at most four metrics per service). The dimension
 * applies to everything stored until the next publish, so publish other counts first.
 */
export const countRunsFinished = (metrics: Metrics, status: string, count: number): void => {
  if (count === 0) return;
  metrics.addDimension(RunDimension.status, status);
  metrics.addMetric(RunMetric.finished, MetricUnit.Count, count);
};

/**
 * Sensor metrics: no `service` dimension, because the dashboards (and the earlier service) key
 * them on exactly SensorId, User, RunId and Type. The caller sets one dimension set at a time as
 * default dimensions (which, unlike request dimensions, survive Powertools' automatic flush at
 * 100 values) and publishes before switching to the next set.
 */
export const createSensorMetrics = (): Metrics => {
  const metrics = new Metrics({ namespace: SENSOR_NAMESPACE });
  metrics.clearDefaultDimensions();
  return metrics;
};

/** Publishes what is stored; silent when nothing is (Powertools warns on empty publishes). */
export const publishStored = (metrics: Metrics): void => {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
};
