import { describe, expect, it } from 'vitest';
import { lambdaGbSecondsOfCpu, runBench } from './bench.ts';
import { capacityOf } from './capacity.ts';
import { costTable, formatBench, formatComparison } from './report.ts';
import { STAGE_THROUGHPUT } from '#infra/throughput.ts';
import { topology } from '#infra/topology.ts';

describe('npm run bench (tiny numbers: checks it runs and what it reports, never its speed)', () => {
  it('measures every batch size, stores every accepted reading once, and prices the counts', async () => {
    const result = await runBench({
      requests: 3,
      maxReadings: 300,
      concurrency: 2,
      sensors: 2,
      loadSamples: 1,
      paced: [{ batch: 10, readingsPerSecond: 100, seconds: 1 }],
      frontEnd: { requestsPerSecond: 20, sensors: 2 },
    });

    expect(result.scenarios.map((s) => [s.batch, s.shape, s.accepted])).toEqual([
      [1, undefined, 3],
      [10, undefined, 30],
      [100, undefined, 300],
      [1, 'front end', 3],
    ]);
    for (const scenario of result.scenarios) {
      expect(scenario).toMatchObject({ lost: 0, duplicated: 0, refused: 0 });
      expect(scenario.stored).toBe(scenario.accepted);
      expect(scenario.readBack.pages).toBeGreaterThan(0);
      expect(scenario.readBack.readingsPerSecond).toBeGreaterThan(0);
      const counts = scenario.per1000Readings;
      // One API request and one ingest invocation per request: 1,000 / batch per 1,000 readings.
      expect(counts.apiRequests).toBeGreaterThanOrEqual(1000 / scenario.batch);
      expect(counts.lambdaInvocations.ingest).toBe(1000 / scenario.batch);
      expect(counts.sqs.SendMessageBatch).toBe(1000 / scenario.batch);
      // A request's readings are packed per sensor (2 here): a pack is a table row, at least, and
      // a request a write of its run's tally; at batch 100 that is far below a row per reading.
      const packsPer1000 = (1000 / scenario.batch) * Math.min(scenario.batch, 2);
      expect(counts.dynamoDbWriteUnits).toBeGreaterThanOrEqual(
        packsPer1000 + 1000 / scenario.batch,
      );
      if (scenario.batch === 100) expect(counts.dynamoDbWriteUnits).toBeLessThan(200);
      expect(counts.emfBytes).toBeGreaterThan(0);
      expect(scenario.costPerMillionUsd).toBeCloseTo(scenario.costPerMillionByService.total, 2);
      // The process did work for every request, and the functions used CPU and time.
      expect(scenario.cpuMsPerRequest).toBeGreaterThan(0);
      expect(counts.lambdaGbSeconds).toBeGreaterThan(0);
      expect(counts.lambdaWallGbSeconds).toBeGreaterThan(0);
    }
    // The front end's readings carry no timestamp and no key; the read-back still finds each
    // reading once (told apart by value: the loop above checked lost and duplicated).
    expect(formatBench(result)).toContain('| 1 (front end) | 3 |');
    const [paced] = result.paced;
    expect(paced).toMatchObject({ batch: 10, readingsPerSecond: 100, lost: 0, duplicated: 0 });
    expect(paced!.acceptedPerSecond).toBeGreaterThan(0);
    expect(paced!.latencyMs.p99).toBeGreaterThan(0);
    expect(result.bundles.map((b) => b.function).sort()).toEqual(
      Object.keys(topology.functions).sort(),
    );
    expect(result.bundles.every((b) => b.bytes > 10_000 && b.coldLoadMsMedian > 0)).toBe(true);
    expect(formatBench(result)).toContain('| 100 | 300 |');
    expect(formatComparison(result, result)).toContain('| 10 | 1.00 | 1.00 |');
    expect(costTable(result)).toMatch(/\*\*total\*\*/);
  }, 240_000);
});

describe('Lambda GB-seconds from CPU time', () => {
  it('bills a CPU millisecond as 1,769 / memory milliseconds below one vCPU, as is above it', () => {
    // "At 1,769 MB, a function has the equivalent of one vCPU"
    // (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html): 1 s of CPU at
    // 512 MB runs 1769 / 512 s, billed at 0.5 GB: 1769 / 1024 GB-s.
    expect(lambdaGbSecondsOfCpu(1000, 512)).toBeCloseTo(1769 / 1024, 10);
    expect(lambdaGbSecondsOfCpu(1000, 128)).toBeCloseTo(1769 / 1024, 10);
    // From one vCPU up, a CPU second is a second of duration at the function's memory.
    expect(lambdaGbSecondsOfCpu(1000, 3538)).toBeCloseTo(3538 / 1024, 10);
  });
});

describe('capacity arithmetic', () => {
  it('takes the smallest of the API throttle, the consumers and the table quota, as set for prod', () => {
    const { routeThrottles, consumer } = STAGE_THROUGHPUT.prod;
    // Readings arrive on the ingest route, whose own throttle is tighter than the stage's.
    const apiThrottle = routeThrottles.ingest;
    expect(apiThrottle.rateLimit).toBeLessThan(STAGE_THROUGHPUT.prod.apiThrottle.rateLimit);
    const capacity = capacityOf({
      batch: 10,
      readingsPerMessage: 10,
      consumerMsPerMessage: 2,
      tableWriteUnitsPerReading: 0.5,
      sensorsPerRun: 5,
    });
    expect(capacity.apiThrottleReadingsPerSecond).toBe(apiThrottle.rateLimit * 10);
    // concurrency × (1,000 ms / 2 ms) messages a second × 10 readings each
    expect(capacity.consumerReadingsPerSecond).toBe(consumer.maxConcurrency * 500 * 10);
    expect(capacity.tableQuotaReadingsPerSecond).toBe(80_000);
    // A sensor's packs lie in one partition of 1,000 write units a second; a run's in five.
    expect(capacity.oneSensorReadingsPerSecond).toBe(2000);
    expect(capacity.oneRunReadingsPerSecond).toBe(5 * 2000);
    const smallest = Math.min(apiThrottle.rateLimit * 10, consumer.maxConcurrency * 5000, 80_000);
    expect(capacity.stage.readingsPerSecond).toBe(smallest);
    expect(capacity.stage.requestsPerSecond).toBe(smallest / 10);

    const slowConsumer = capacityOf(
      {
        batch: 1,
        readingsPerMessage: 1,
        consumerMsPerMessage: 100,
        tableWriteUnitsPerReading: 2,
        sensorsPerRun: 100,
      },
      STAGE_THROUGHPUT.dev,
    );
    expect(slowConsumer.stage).toEqual({
      readingsPerSecond: STAGE_THROUGHPUT.dev.consumer.maxConcurrency * 10,
      requestsPerSecond: STAGE_THROUGHPUT.dev.consumer.maxConcurrency * 10,
      by: 'consumers',
    });
    expect(slowConsumer.oneSensorReadingsPerSecond).toBe(500);
    // A hundred sensors' partitions take more than the table's quota: the quota bounds the run.
    expect(slowConsumer.tableQuotaReadingsPerSecond).toBe(20_000);
    expect(slowConsumer.oneRunReadingsPerSecond).toBe(20_000);
  });
});
