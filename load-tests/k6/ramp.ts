/**
 * Ramp to find the knee: the arrival rate climbs in five steps to RATE readings/s over
 * DURATION. Where p95 latency bends upward (see the time series of http_req_duration, or
 * run again with a lower RATE) is the knee. Latency thresholds do not abort: the point is
 * to see where they break.
 */
import type { Options } from 'k6/options';
import { ingestThresholds, requestsPerSecond, seconds, settings } from './lib/config.ts';
import { finishRun, sendReadings, startRun, summaryFiles, type RunData } from './lib/ingest.ts';

const peak = requestsPerSecond(settings.rate);
const step = Math.max(1, Math.round(seconds(settings.duration) / 5));

export const options: Options = {
  scenarios: {
    ramp: {
      executor: 'ramping-arrival-rate',
      startRate: 1,
      timeUnit: '1s',
      preAllocatedVUs: Math.min(settings.maxVus, 10),
      maxVUs: settings.maxVus,
      stages: [1, 2, 3, 4, 5].map((i) => ({
        target: Math.ceil((peak * i) / 5),
        duration: `${step}s`,
      })),
    },
  },
  thresholds: ingestThresholds,
};

export const setup = (): RunData => startRun(seconds(settings.duration));
export default (data: RunData): void => sendReadings(data);
export const teardown = (data: RunData): void => finishRun(data);
export const handleSummary = summaryFiles(`ramp to ${settings.rate}/s (batch ${settings.batch})`);
