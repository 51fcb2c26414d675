/**
 * The local EMF collector refuses what CloudWatch refuses. The rules: CloudWatch User Guide,
 * "Specification: Embedded metric format"
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
 * at most 100 metric definitions in a directive, at most 30 dimension keys in a dimension set,
 * dimensions naming string members of the root, a target member a number or an array of at
 * most 100 numbers. Powertools Metrics flushes before 100 metrics or 100 values
 * (@aws-lambda-powertools/metrics, constants MAX_METRICS_SIZE and MAX_METRIC_VALUES_SIZE).
 */
import { describe, expect, it } from 'vitest';
import { EMF_LIMITS, MetricsCollector, parseEmf } from './metrics.ts';

const doc = (
  members: Record<string, unknown>,
  metrics: string[],
  dimensions: string[][] = [['Service']],
) =>
  parseEmf(
    JSON.stringify({
      _aws: {
        Timestamp: 1_900_000_000_000,
        CloudWatchMetrics: [
          { Namespace: 'Test', Dimensions: dimensions, Metrics: metrics.map((Name) => ({ Name })) },
        ],
      },
      Service: 'svc',
      ...members,
    }),
  )!;

const collected = (document: ReturnType<typeof doc>) => {
  const collector = new MetricsCollector();
  collector.record(document);
  return collector;
};

describe('the local EMF collector', () => {
  it('takes a metric of up to 100 values, each a data point', () => {
    const values = Array.from({ length: EMF_LIMITS.valuesPerMetric }, (_, i) => i);
    const collector = collected(doc({ Reading: values }, ['Reading']));
    expect(collector.refused).toBe(0);
    expect(collector.list()).toMatchObject([{ name: 'Reading', count: 100, sum: 4950 }]);
  });

  it('refuses the whole document when one metric has 101 values', () => {
    const collector = collected(
      doc({ Reading: Array.from({ length: 101 }, () => 1), Other: 5 }, ['Reading', 'Other']),
    );
    expect(collector.refused).toBe(1);
    expect(collector.refusals).toEqual(['metric Reading has 101 values (at most 100)']);
    expect(collector.list()).toEqual([]);
  });

  it('refuses 101 metric definitions in one directive', () => {
    const names = Array.from({ length: 101 }, (_, i) => `M${i}`);
    const collector = collected(doc(Object.fromEntries(names.map((n) => [n, 1])), names));
    expect(collector.refusals).toEqual(['101 metric definitions in one directive (at most 100)']);
  });

  it('refuses a dimension set of 31 keys, and a dimension that is not a string member', () => {
    const keys = Array.from({ length: 31 }, (_, i) => `D${i}`);
    const members = Object.fromEntries(keys.map((k) => [k, 'x']));
    expect(collected(doc({ ...members, M: 1 }, ['M'], [keys])).refusals).toEqual([
      '31 dimension keys in one set (at most 30)',
    ]);
    expect(collected(doc({ M: 1, Port: 8080 }, ['M'], [['Port']])).refusals).toEqual([
      'dimension Port is not a string member of the root',
    ]);
    expect(collected(doc({ M: 1 }, ['M'], [['Missing']])).refused).toBe(1);
  });

  it('refuses a target member that is not a number or an array of numbers', () => {
    expect(collected(doc({ M: '3' }, ['M'])).refusals).toEqual([
      'metric M is not a number or an array of numbers',
    ]);
    expect(collected(doc({ M: [1, null] }, ['M'])).refused).toBe(1);
  });
});
