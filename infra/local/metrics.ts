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

export class MetricsCollector {
  private readonly series = new Map<string, MetricSeries>();
  documents = 0;

  constructor(private readonly sink: MetricSink = () => undefined) {}

  record(document: EmfDocument): void {
    this.documents++;
    for (const directive of document._aws.CloudWatchMetrics) {
      for (const dimensionSet of directive.Dimensions) {
        const dimensions = Object.fromEntries(
          dimensionSet.map((name) => [name, String(document[name])]),
        );
        for (const metric of directive.Metrics) {
          const raw = document[metric.Name];
          const values = (Array.isArray(raw) ? raw : [raw]).filter(
            (value): value is number => typeof value === 'number',
          );
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
  }
}
