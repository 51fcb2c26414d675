/**
 * Metrics as CloudWatch keeps them: one series per namespace, name and dimension set, with a
 * data point per second (count, sum, min, max and the values, for percentiles). The local
 * stack's dashboards query it as Grafana queries CloudWatch.
 */

export interface SecondPoint {
  count: number;
  sum: number;
  min: number;
  max: number;
  /** Kept for percentiles, up to a bound per second. */
  values: number[];
}

export interface Series {
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
  /** Epoch second → aggregate of the values recorded in it. */
  points: Map<number, SecondPoint>;
}

const MAX_VALUES_PER_SECOND = 2000;
/** Like Metrics Insights' window: dashboards look at recent hours. */
const RETENTION_MS = 3 * 3600_000;

export class SeriesStore {
  private readonly series = new Map<string, Series>();
  private lastPruneSecond = 0;

  constructor(private readonly now: () => number = Date.now) {}

  record(
    namespace: string,
    name: string,
    dimensions: Record<string, string>,
    values: number[],
    atMs = this.now(),
  ): void {
    if (values.length === 0) return;
    const key = JSON.stringify([namespace, name, Object.entries(dimensions).sort()]);
    let series = this.series.get(key);
    if (!series) {
      series = { namespace, name, dimensions, points: new Map() };
      this.series.set(key, series);
    }
    const second = Math.floor(atMs / 1000);
    let point = series.points.get(second);
    if (!point) {
      point = { count: 0, sum: 0, min: Infinity, max: -Infinity, values: [] };
      series.points.set(second, point);
    }
    for (const value of values) {
      point.count++;
      point.sum += value;
      point.min = Math.min(point.min, value);
      point.max = Math.max(point.max, value);
      if (point.values.length < MAX_VALUES_PER_SECOND) point.values.push(value);
    }
    this.prune(second);
  }

  /** Series of one metric (every dimension set), or of a whole namespace. */
  find(namespace: string, name?: string): Series[] {
    return [...this.series.values()].filter(
      (s) => s.namespace === namespace && (name === undefined || s.name === name),
    );
  }

  /** Distinct values of a dimension, like CloudWatch's ListMetrics behind a variable. */
  dimensionValues(
    namespace: string,
    name: string,
    key: string,
    filters: Record<string, string[]> = {},
  ): string[] {
    const values = new Set<string>();
    for (const series of this.find(namespace, name)) {
      const value = series.dimensions[key];
      const matches = Object.entries(filters).every(
        ([k, v]) => v.includes('*') || v.includes(series.dimensions[k] ?? ''),
      );
      if (value !== undefined && matches) values.add(value);
    }
    return [...values].sort();
  }

  clear(): void {
    this.series.clear();
  }

  private prune(second: number): void {
    if (second - this.lastPruneSecond < 60) return;
    this.lastPruneSecond = second;
    const oldest = second - RETENTION_MS / 1000;
    for (const [key, series] of this.series) {
      for (const at of series.points.keys()) if (at < oldest) series.points.delete(at);
      if (series.points.size === 0) this.series.delete(key);
    }
  }
}
