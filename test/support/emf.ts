/**
 * Test support: the EMF blobs Powertools Metrics prints. Metrics writes through its own Console
 * on process.stdout, so the capture taps stdout and keeps the lines that are EMF documents.
 */
import { vi } from 'vitest';

export interface EmfBlob {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}

export interface EmfCapture {
  blobs(namespace?: string): EmfBlob[];
  /** Values of `metric` across the captured blobs of `namespace` (arrays flattened). */
  values(namespace: string, metric: string): number[];
  clear(): void;
  restore(): void;
}

export const captureEmf = (): EmfCapture => {
  const lines: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation(((
    chunk: unknown,
    ...rest: unknown[]
  ) => {
    const text =
      typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
    if (text.includes('"_aws"')) {
      lines.push(...text.split('\n').filter((line) => line.includes('"_aws"')));
      return true;
    }
    return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write);
  const blobs = (namespace?: string) =>
    lines
      .map((line) => JSON.parse(line) as EmfBlob)
      .filter(
        (blob) =>
          namespace === undefined || blob._aws.CloudWatchMetrics[0]?.Namespace === namespace,
      );
  return {
    blobs,
    values: (namespace, metric) =>
      blobs(namespace).flatMap((blob) => {
        const value = blob[metric];
        if (value === undefined) return [];
        return Array.isArray(value) ? (value as number[]) : [value as number];
      }),
    clear: () => {
      lines.length = 0;
    },
    restore: () => spy.mockRestore(),
  };
};
