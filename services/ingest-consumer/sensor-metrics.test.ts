import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSensorMetrics } from '#shared/metrics.ts';
import { SENSOR_NAMESPACE, SensorMetric } from '#shared/metrics-contract.ts';
import { captureEmf, type EmfCapture } from '#test/support/emf.ts';
import { SensorMetricsTally } from './sensor-metrics.ts';

const RUN = '11111111-2222-4333-8444-555555555555';
const T = '2030-01-01T11:59:59.000Z';

let emf: EmfCapture;
beforeEach(() => {
  emf = captureEmf();
});
afterEach(() => emf.restore());

describe('SensorMetricsTally', () => {
  it('emits one blob per dimension set with exactly the four sensor dimensions', () => {
    const tally = new SensorMetricsTally();
    tally.addMessage({
      runId: RUN,
      user: 'ana',
      measurements: [
        { sensorId: 's-1', type: 'temperature', reading: 20, timestamp: T },
        { sensorId: 's-1', type: 'temperature', reading: 21, timestamp: T },
        { sensorId: 's-1', type: 'humidity', reading: 50, timestamp: T },
      ],
    });
    tally.addMessage({
      runId: RUN,
      user: 'ana',
      measurements: [{ sensorId: 's-1', type: 'temperature', reading: 22, timestamp: T }],
    });
    tally.publish(createSensorMetrics());

    const blobs = emf.blobs(SENSOR_NAMESPACE);
    expect(blobs).toHaveLength(2);
    for (const blob of blobs) {
      expect(blob._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([
        ['SensorId', 'User', 'RunId', 'Type'],
      ]);
      expect(blob).not.toHaveProperty('service');
    }
    const temperature = blobs.find((b) => b.Type === 'temperature');
    expect(temperature).toMatchObject({
      SensorId: 's-1',
      User: 'ana',
      RunId: RUN,
      [SensorMetric.reading]: [20, 21, 22],
      [SensorMetric.ingested]: 3,
    });
    expect(blobs.find((b) => b.Type === 'humidity')).toMatchObject({
      [SensorMetric.reading]: 50,
      [SensorMetric.ingested]: 1,
    });
  });

  it('keeps the dimensions on every blob when a set has more than 100 values', () => {
    const tally = new SensorMetricsTally();
    tally.addMessage({
      runId: RUN,
      user: 'ana',
      measurements: Array.from({ length: 250 }, (_, i) => ({
        sensorId: 's',
        type: 't',
        reading: i,
        timestamp: T,
      })),
    });
    tally.publish(createSensorMetrics());
    const blobs = emf.blobs(SENSOR_NAMESPACE);
    expect(blobs).toHaveLength(3);
    for (const blob of blobs)
      expect(blob).toMatchObject({ SensorId: 's', User: 'ana', RunId: RUN, Type: 't' });
    expect(emf.values(SENSOR_NAMESPACE, SensorMetric.reading)).toHaveLength(250);
    expect(emf.values(SENSOR_NAMESPACE, SensorMetric.ingested)).toEqual([250]);
  });

  it('emits nothing when nothing was stored', () => {
    new SensorMetricsTally().publish(createSensorMetrics());
    expect(emf.blobs()).toEqual([]);
  });
});
