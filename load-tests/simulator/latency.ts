/** Latency percentiles with HdrHistogram: constant memory, 3 significant digits. */
import * as hdr from 'hdr-histogram-js';

export interface LatencySummary {
  /**
   * Under a fixed number of clients, the one figure that moves with throughput alone (Little's
   * law: clients ÷ requests a second); a median can rise while the mean and the tail fall.
   */
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Records microseconds, reports milliseconds (to 0.01 ms). */
export class LatencyRecorder {
  private readonly histogram = hdr.build({ numberOfSignificantValueDigits: 3 });

  record(ms: number): void {
    this.histogram.recordValue(Math.max(0, Math.round(ms * 1000)));
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  percentile(p: number): number {
    return this.count === 0 ? 0 : round(this.histogram.getValueAtPercentile(p) / 1000);
  }

  summary(): LatencySummary {
    return {
      mean: this.count === 0 ? 0 : round(this.histogram.mean / 1000),
      p50: this.percentile(50),
      p95: this.percentile(95),
      p99: this.percentile(99),
      max: this.count === 0 ? 0 : round(this.histogram.maxValue / 1000),
    };
  }
}

const round = (ms: number) => Math.round(ms * 100) / 100;
