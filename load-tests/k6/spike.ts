/** Spike: RATE readings/s, then ten times that for 30 s, then back; nothing may fail. */
import type { Options } from 'k6/options';
import { ingestThresholds, requestsPerSecond, seconds, settings } from './lib/config.ts';
import { finishRun, sendReadings, startRun, summaryFiles, type RunData } from './lib/ingest.ts';

const base = requestsPerSecond(settings.rate);

export const options: Options = {
  scenarios: {
    spike: {
      executor: 'ramping-arrival-rate',
      startRate: base,
      timeUnit: '1s',
      preAllocatedVUs: Math.min(settings.maxVus, Math.max(2, base)),
      maxVUs: settings.maxVus,
      stages: [
        { target: base, duration: '30s' },
        { target: base * 10, duration: '5s' },
        { target: base * 10, duration: '30s' },
        { target: base, duration: '5s' },
        { target: base, duration: '30s' },
      ],
    },
  },
  thresholds: ingestThresholds,
};

export const setup = (): RunData => startRun(seconds('100s'));
export default (data: RunData): void => sendReadings(data);
export const teardown = (data: RunData): void => finishRun(data);
export const handleSummary = summaryFiles(`spike ${settings.rate}/s ×10 (batch ${settings.batch})`);
