/**
 * The arithmetic of each stage's limits: per-route throttles for the data routes within the
 * stage's, and reserved concurrency per function that carries the route rates at the assumed
 * durations, matches the consumer's maximum concurrency, and leaves the account its 100
 * unreserved executions with both stages in one account.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ASSUMED_DURATION_SECONDS,
  DEFAULT_ACCOUNT_CONCURRENCY,
  MIN_UNRESERVED_CONCURRENCY,
  STAGE_THROUGHPUT,
  reservedTotal,
} from './throughput.ts';
import { functionNames, topology } from './topology.ts';

const stages = ['dev', 'prod'] as const;

describe.each(stages)('stage %s', (stage) => {
  const { apiThrottle, routeThrottles, reservedConcurrency, consumer } = STAGE_THROUGHPUT[stage];

  it('throttles the data routes per route, within the stage throttle', () => {
    for (const route of [routeThrottles.ingest, routeThrottles.sensorQuery]) {
      expect(route.rateLimit).toBeLessThanOrEqual(apiThrottle.rateLimit);
      expect(route.burstLimit).toBeLessThanOrEqual(apiThrottle.burstLimit);
    }
    // Reading back is a query of up to 1,000 readings: far below what the edge takes.
    expect(routeThrottles.sensorQuery.rateLimit).toBeLessThan(routeThrottles.ingest.rateLimit / 10);
  });

  it('reserves concurrency for every function', () => {
    for (const name of functionNames) expect(reservedConcurrency[name], name).toBeGreaterThan(0);
  });

  it('reserves what the route rates need at the assumed durations (concurrency = rate × duration)', () => {
    expect(reservedConcurrency.ingest).toBeGreaterThanOrEqual(
      routeThrottles.ingest.rateLimit * ASSUMED_DURATION_SECONDS.ingest,
    );
    expect(reservedConcurrency.sensorQuery).toBeGreaterThanOrEqual(
      routeThrottles.sensorQuery.rateLimit * ASSUMED_DURATION_SECONDS.sensorQuery,
    );
    expect(reservedConcurrency.runApi).toBeGreaterThanOrEqual(
      routeThrottles.runApi.rateLimit * ASSUMED_DURATION_SECONDS.runApi,
    );
  });

  it('reserves exactly the consumer’s maximum concurrency', () => {
    // Below it, Lambda throttles the event source mapping's own invocations; above it, the
    // extra executions are reserved and never used.
    expect(reservedConcurrency.ingestConsumer).toBe(consumer.maxConcurrency);
  });

  it('gives the sweeper room for two overlapping sweeps (a 1-minute schedule, 90 s timeout) and its report builds', () => {
    const builds = topology.queues.reports;
    expect(builds.consumer.function).toBe('runSweeper');
    // Below the mapping's maximum, Lambda would throttle the mapping.
    expect(reservedConcurrency.runSweeper).toBe(2 + builds.consumer.maxConcurrency);
  });
});

describe('the account', () => {
  it('keeps 100 unreserved executions with both stages in one default account', () => {
    // "You can reserve up to the Unreserved account concurrency value ... minus 100 for
    // functions that don't have reserved concurrency"
    // (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
    expect(MIN_UNRESERVED_CONCURRENCY).toBe(100);
    expect(DEFAULT_ACCOUNT_CONCURRENCY).toBe(1_000);
    const both = reservedTotal('dev') + reservedTotal('prod');
    expect(both).toBeLessThanOrEqual(DEFAULT_ACCOUNT_CONCURRENCY - MIN_UNRESERVED_CONCURRENCY);
  });

  it('is what docs/deploying.md states', () => {
    const docs = readFileSync(new URL('../docs/deploying.md', import.meta.url), 'utf8');
    const dev = reservedTotal('dev');
    const prod = reservedTotal('prod');
    expect(docs).toContain(`| **total** | | **${dev}** | **${prod}** |`);
    expect(docs).toContain(`reserve ${dev + prod} of the 900 allowed`);
    const need = (n: number) => (n + MIN_UNRESERVED_CONCURRENCY).toLocaleString('en-US');
    expect(docs).toContain(
      `${need(dev)} for dev, ${need(prod)} for prod, ${need(dev + prod)} for both`,
    );
  });
});
