/** Smoke: a few requests at batch 1 and at BATCH; every one must be accepted. */
import type { Options } from 'k6/options';
import { ingestThresholds, settings } from './lib/config.ts';
import { finishRun, sendReadings, startRun, summaryFiles, type RunData } from './lib/ingest.ts';

export const options: Options = {
  scenarios: {
    smoke: { executor: 'shared-iterations', vus: 1, iterations: 20, maxDuration: '1m' },
  },
  thresholds: { ...ingestThresholds, http_req_failed: ['rate==0'] },
};

export const setup = (): RunData => startRun(60);
export default (data: RunData): void => sendReadings(data);
export const teardown = (data: RunData): void => finishRun(data);
export const handleSummary = summaryFiles(`smoke (batch ${settings.batch})`);
