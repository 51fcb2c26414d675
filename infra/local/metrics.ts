/**
 * Gathers the EMF documents functions print, as CloudWatch would, so metrics can be seen and
 * asserted on locally (`GET /local/metrics`).
 */

interface EmfDocument {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit?: string }[];
    }[];
  };
  [key: string]: unknown;
}

export interface MetricSeries {
  namespace: string;
  name: string;
  unit: string;
  dimensions: Record<string, string>;
  /** Number of data points (a value array counts each element). */
  count: number;
  sum: number;
  min: number;
  max: number;
}

const isEmf = (value: unknown): value is EmfDocument =>
  typeof value === 'object' &&
  value !== null &&
  Array.isArray((value as EmfDocument)._aws?.CloudWatchMetrics);

/** Parses a printed line as EMF; undefined when it is an ordinary log line. */
export const parseEmf = (line: string): EmfDocument | undefined => {
  if (!line.startsWith('{') || !line.includes('"_aws"')) return undefined;
  try {
    const parsed: unknown = JSON.parse(line);
    return isEmf(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
};

/** Where each metric's values go as well, with the document's timestamp (the time series). */
export type MetricSink = (
  namespace: string,
  name: string,
  dimensions: Record<string, string>,
  values: number[],
  timestamp: number,
) => void;

/**
 * The embedded metric format's limits (CloudWatch User Guide, "Specification: Embedded metric
 * format", docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/
 * CloudWatch_Embedded_Metric_Format_Specification.html): a directive's Metrics hold at most 100
 * metric definitions, a dimension set at most 30 dimension keys, each naming a string member of
 * the root; a target member is a number or an array of at most 100 numbers. Powertools Metrics
 * flushes before crossing them (MAX_METRICS_SIZE and MAX_METRIC_VALUES_SIZE, 100, in
 * @aws-lambda-powertools/metrics' constants). CloudWatch extracts no metric from a document
 * that breaks one (it counts it in AWS/Logs EMFValidationErrors); neither does this collector.
 */
export const EMF_LIMITS = { metricsPerDirective: 100, dimensionsPerSet: 30, valuesPerMetric: 100 };

/** Why CloudWatch would extract nothing from the document, or undefined when it is valid. */
export const emfViolation = (document: EmfDocument): string | undefined => {
  for (const directive of document._aws.CloudWatchMetrics) {
    if (directive.Metrics.length > EMF_LIMITS.metricsPerDirective) {
      return `${directive.Metrics.length} metric definitions in one directive (at most ${EMF_LIMITS.metricsPerDirective})`;
    }
    for (const set of directive.Dimensions) {
      if (set.length > EMF_LIMITS.dimensionsPerSet) {
        return `${set.length} dimension keys in one set (at most ${EMF_LIMITS.dimensionsPerSet})`;
      }
      const missing = set.find((name) => typeof document[name] !== 'string');
      if (missing !== undefined) return `dimension ${missing} is not a string member of the root`;
    }
    for (const { Name } of directive.Metrics) {
      const value = document[Name];
      const values = Array.isArray(value) ? value : [value];
      if (values.some((v) => typeof v !== 'number')) {
        return `metric ${Name} is not a number or an array of numbers`;
      }
      if (values.length > EMF_LIMITS.valuesPerMetric) {
        return `metric ${Name} has ${values.length} values (at most ${EMF_LIMITS.valuesPerMetric})`;
      }
    }
  }
  return undefined;
};

export class MetricsCollector {
  private readonly series = new Map<string, MetricSeries>();
  documents = 0;
  /** Documents CloudWatch would extract nothing from (emfViolation), with the first reasons. */
  refused = 0;
  readonly refusals: string[] = [];

  constructor(private readonly sink: MetricSink = () => undefined) {}

  /** Records the document's metrics, or nothing and why, when CloudWatch would refuse it. */
  record(document: EmfDocument): string | undefined {
    const violation = emfViolation(document);
    if (violation !== undefined) {
      this.refused++;
      if (this.refusals.length < 20) this.refusals.push(violation);
      return violation;
    }
    this.documents++;
    for (const directive of document._aws.CloudWatchMetrics) {
      for (const dimensionSet of directive.Dimensions) {
        const dimensions = Object.fromEntries(
          dimensionSet.map((name) => [name, String(document[name])]),
        );
        for (const metric of directive.Metrics) {
          const raw = document[metric.Name] as number | number[];
          const values = Array.isArray(raw) ? raw : [raw];
          if (values.length === 0) continue;
          this.sink(directive.Namespace, metric.Name, dimensions, values, document._aws.Timestamp);
          const key = JSON.stringify([directive.Namespace, metric.Name, dimensions]);
          const series = this.series.get(key) ?? {
            namespace: directive.Namespace,
            name: metric.Name,
            unit: metric.Unit ?? 'None',
            dimensions,
            count: 0,
            sum: 0,
            min: Infinity,
            max: -Infinity,
          };
          series.count += values.length;
          series.sum += values.reduce((a, b) => a + b, 0);
          series.min = Math.min(series.min, ...values);
          series.max = Math.max(series.max, ...values);
          this.series.set(key, series);
        }
      }
    }
    return undefined;
  }

  list(filter: { namespace?: string | undefined; name?: string | undefined } = {}): MetricSeries[] {
    return [...this.series.values()].filter(
      (s) =>
        (filter.namespace === undefined || s.namespace === filter.namespace) &&
        (filter.name === undefined || s.name === filter.name),
    );
  }

  clear(): void {
    this.series.clear();
    this.documents = 0;
    this.refused = 0;
    this.refusals.length = 0;
  }
}
