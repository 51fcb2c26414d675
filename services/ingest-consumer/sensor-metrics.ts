/**
 * Per-invocation aggregation of the sensor metrics (`SensorReading` values and `DataIngested`
 * counts, dimensions SensorId, User, RunId, Type). One EMF blob per distinct dimension set per
 * invocation (Powertools starts another after 100 values of one metric) instead of one per
 * reading. Records are processed in parallel, so they only add to this tally; the dimensions are
 * set once, sequentially, when publishing.
 */
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { QueueMessage } from '#shared/measurement.ts';
import { publishStored } from '#shared/metrics.ts';
import { SensorDimension, SensorMetric } from '#shared/metrics-contract.ts';

type Dimensions = Record<(typeof SensorDimension)[keyof typeof SensorDimension], string>;

export class SensorMetricsTally {
  private readonly sets = new Map<string, { dimensions: Dimensions; values: number[] }>();

  /** Counts the readings of a stored message. */
  addMessage(message: Pick<QueueMessage, 'runId' | 'user' | 'measurements'>): void {
    for (const m of message.measurements) {
      const dimensions: Dimensions = {
        [SensorDimension.sensorId]: m.sensorId,
        [SensorDimension.user]: message.user,
        [SensorDimension.runId]: message.runId,
        [SensorDimension.type]: m.type,
      };
      const key = JSON.stringify([m.sensorId, message.user, message.runId, m.type]);
      const set = this.sets.get(key) ?? { dimensions, values: [] };
      set.values.push(m.reading);
      this.sets.set(key, set);
    }
  }

  get dimensionSets(): number {
    return this.sets.size;
  }

  /** Emits every set through `metrics` (a sensor-namespace instance without default dimensions). */
  publish(metrics: Metrics): void {
    try {
      for (const { dimensions, values } of this.sets.values()) {
        metrics.clearDefaultDimensions();
        metrics.setDefaultDimensions(dimensions);
        for (const value of values)
          metrics.addMetric(SensorMetric.reading, MetricUnit.NoUnit, value);
        metrics.addMetric(SensorMetric.ingested, MetricUnit.Count, values.length);
        publishStored(metrics);
      }
    } finally {
      metrics.clearMetrics();
      metrics.clearDefaultDimensions();
      this.sets.clear();
    }
  }
}
