/** Soak: RATE readings/s for a long DURATION (default 30m), for leaks and slow drift. */
import type { Options } from 'k6/options';
import { ingestThresholds, requestsPerSecond, seconds, settings } from './lib/config.ts';
import { finishRun, sendReadings, startRun, summaryFiles, type RunData } from './lib/ingest.ts';

const duration = __ENV.DURATION || '30m';
const perSecond = requestsPerSecond(settings.rate);

export const options: Options = {
  scenarios: {
    soak: {
      executor: 'constant-arrival-rate',
      rate: perSecond,
      timeUnit: '1s',
      duration,
      preAllocatedVUs: Math.min(settings.maxVus, Math.max(2, Math.ceil(perSecond / 5))),
      maxVUs: settings.maxVus,
    },
  },
  thresholds: ingestThresholds,
};

export const setup = (): RunData => startRun(seconds(duration));
export default (data: RunData): void => sendReadings(data);
export const teardown = (data: RunData): void => finishRun(data);
export const handleSummary = summaryFiles(
  `soak ${settings.rate}/s for ${duration} (batch ${settings.batch})`,
);
