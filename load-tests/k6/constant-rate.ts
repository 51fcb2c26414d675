/** Constant arrival rate: RATE readings/s in requests of BATCH for DURATION. */
import type { Options } from 'k6/options';
import { ingestThresholds, requestsPerSecond, seconds, settings } from './lib/config.ts';
import { finishRun, sendReadings, startRun, summaryFiles, type RunData } from './lib/ingest.ts';

const perSecond = requestsPerSecond(settings.rate);

export const options: Options = {
  scenarios: {
    constant_rate: {
      executor: 'constant-arrival-rate',
      rate: perSecond,
      timeUnit: '1s',
      duration: settings.duration,
      preAllocatedVUs: Math.min(settings.maxVus, Math.max(2, Math.ceil(perSecond / 5))),
      maxVUs: settings.maxVus,
    },
  },
  thresholds: {
    ...ingestThresholds,
    // Falling behind the arrival rate means the target rate was not reached.
    dropped_iterations: [
      `count<${Math.max(1, Math.ceil(perSecond * seconds(settings.duration) * 0.01))}`,
    ],
  },
};

export const setup = (): RunData => startRun(seconds(settings.duration));
export default (data: RunData): void => sendReadings(data);
export const teardown = (data: RunData): void => finishRun(data);
export const handleSummary = summaryFiles(
  `constant rate ${settings.rate}/s (batch ${settings.batch})`,
);
