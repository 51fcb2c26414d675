import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, ScheduledEvent, SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createRunMetrics } from '#shared/metrics.ts';
import type { RunReadings } from '#shared/report-builder.ts';
import { InMemoryReportStore } from '#test/support/in-memory-report-store.ts';
import { InMemoryRunStore } from '#test/support/in-memory-run-store.ts';
import { InMemoryRunTally } from '#test/support/in-memory-run-tally.ts';
import { lambdaContext } from '#test/support/lambda-context.ts';
import { aRun } from '#test/support/runs.ts';
import { reportRequestBody } from '#shared/report-requests.ts';
import { BUILD_DEFERRAL_SECONDS, makeHandler, MAX_BUILD_DEFERRALS } from './app.ts';

const NO_READINGS: RunReadings = {
  page: async () => ({ readings: [], packReadings: 0 }),
  parked: async () => 0,
};

const START = Date.UTC(2030, 0, 1, 12, 0);
const PERIOD_MS = 60_000;

/** A sweeper on a clock of its own: `sleep` moves the clock instead of waiting. */
const setup = async (
  deadlines: Record<string, number>,
  timeoutMs = 90_000,
  readings: RunReadings = NO_READINGS,
  backlog = 0,
) => {
  const requested: { runId: string; later?: { delaySeconds: number; deferrals: number } }[] = [];
  const store = new InMemoryRunStore();
  const reports = new InMemoryReportStore();
  let slot = 0;
  for (const [id, deadlineAt] of Object.entries(deadlines)) {
    await store.putRun(aRun(id, { deadlineAt, slot }));
    await store.claimSlot(slot++, id, deadlineAt, START - 1_000);
  }
  let now = START;
  const slept: number[] = [];
  const handler = makeHandler({
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: createRunMetrics('run-sweeper'),
    store,
    runs: store,
    reports,
    tally: new InMemoryRunTally(),
    readings,
    ingestionBacklog: { waiting: async () => backlog },
    reportRequests: {
      request: async (runId, later) => void requested.push({ runId, ...(later && { later }) }),
    },
    graceMs: 0,
    retentionDays: 30,
    maxConcurrentRuns: 5,
    now: () => now,
    periodMs: PERIOD_MS,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  });
  const context: Context = {
    ...lambdaContext(),
    getRemainingTimeInMillis: () => START + timeoutMs - now,
  };
  const invoke = () => handler({} as ScheduledEvent, context);
  const asked = (...bodies: string[]) =>
    handler(
      {
        Records: bodies.map((body, i) => ({ messageId: `m${i}`, body })),
      } as unknown as SQSEvent,
      context,
    );
  return { store, reports, invoke, asked, requested, slept, at: () => now };
};

describe('report builds asked for on the reports queue', () => {
  it('puts a build off while readings wait in the measurement queue, within a bound', async () => {
    const pages: string[] = [];
    const readings: RunReadings = {
      page: async (runId) => {
        pages.push(runId);
        return { readings: [], packReadings: 0 };
      },
      parked: async () => 0,
    };
    const runId = '00000000-0000-4000-8000-0000000000bb';
    const busy = await setup({}, 90_000, readings, 25);
    await busy.store.putRun(ended(runId));

    // A backlog: asked again later, nothing read.
    expect(await busy.asked(reportRequestBody({ runId }))).toEqual({ batchItemFailures: [] });
    expect(pages).toEqual([]);
    expect(busy.requested).toEqual([
      { runId, later: { delaySeconds: BUILD_DEFERRAL_SECONDS, deferrals: 1 } },
    ]);
    // Put off as often as it may be: built all the same.
    await busy.asked(reportRequestBody({ runId, deferrals: MAX_BUILD_DEFERRALS }));
    expect(pages).toEqual([runId]);
    expect(busy.requested).toHaveLength(1);

    // No backlog: built at once.
    const quiet = await setup({}, 90_000, readings, 0);
    await quiet.store.putRun(ended(runId));
    await quiet.asked(reportRequestBody({ runId }));
    expect(pages).toEqual([runId, runId]);
    expect(quiet.requested).toEqual([]);
  });

  const ended = (id: string) =>
    aRun(id, { status: 'COMPLETED', finishedAt: new Date(START).toISOString() });

  it('builds each run asked for once, however often it was asked, and waits for nothing', async () => {
    const pages: string[] = [];
    const { store, reports, asked, slept } = await setup({}, 90_000, {
      page: async (runId) => {
        pages.push(runId);
        return { readings: [], packReadings: 0 };
      },
      parked: async () => 0,
    });
    const [a, b] = ['00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b'];
    await store.putRun(ended(a));
    await store.putRun(ended(b));

    const response = await asked(
      reportRequestBody({ runId: a }),
      reportRequestBody({ runId: b }),
      reportRequestBody({ runId: a }),
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(pages).toEqual([a, b]);
    expect((await reports.getReport(a))?.state).toBe('READY');
    expect((await reports.getReport(b))?.state).toBe('READY');
    expect(slept).toEqual([]);
  });

  it("reports a run's requests failed when its build fails, and drops a body that is no request", async () => {
    const failing = '00000000-0000-4000-8000-0000000000ff';
    const fine = '00000000-0000-4000-8000-000000000001';
    const { store, reports, asked } = await setup({}, 90_000, {
      page: async (runId) => {
        if (runId === failing) throw new Error('throttled');
        return { readings: [], packReadings: 0 };
      },
      parked: async () => 0,
    });
    await store.putRun(ended(failing));
    await store.putRun(ended(fine));

    const response = await asked(
      reportRequestBody({ runId: failing }),
      '{"runId":"not a run"}',
      reportRequestBody({ runId: fine }),
      reportRequestBody({ runId: failing }),
    );

    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: 'm0' }, { itemIdentifier: 'm3' }],
    });
    expect((await reports.getReport(fine))?.state).toBe('READY');
    expect(await reports.getReport(failing)).toBeUndefined();
  });
});

describe('the sweeper waits for deadlines before the next sweep', () => {
  it('times a run out the moment its deadline passes and builds its report then', async () => {
    const { store, invoke, slept, at } = await setup({
      soon: START + 20_000,
      later: START + 45_000,
    });

    const result = await invoke();

    expect(result.timedOut).toEqual(['soon', 'later']);
    // 'soon' may be built twice: again once its acceptance window has closed.
    expect(new Set(result.reports.ready)).toEqual(new Set(['soon', 'later']));
    expect(slept).toEqual([20_001, 25_000]);
    expect(at()).toBe(START + 45_001);
    expect((await store.getRun('soon'))?.finishedAt).toBe(new Date(START + 20_001).toISOString());
  });

  it('leaves a deadline after the next scheduled sweep to that sweep', async () => {
    const { store, invoke, slept } = await setup({ next: START + PERIOD_MS + 1 });

    const result = await invoke();

    expect(result).toMatchObject({ timedOut: [], nextDeadlineAt: START + PERIOD_MS + 1 });
    expect(slept).toEqual([]);
    expect((await store.getRun('next'))?.status).toBe('RUNNING');
  });

  it('does not wait when the invocation would have no time left to build the report', async () => {
    // A 60 s invocation: after waiting 55 s, 5 s would be left, less than a report's reserve.
    const { invoke, slept } = await setup({ late: START + 55_000 }, 60_000);
    expect((await invoke()).timedOut).toEqual([]);
    expect(slept).toEqual([]);
  });

  it('sweeps once and returns when nothing is running', async () => {
    const { invoke, slept } = await setup({});
    expect(await invoke()).toMatchObject({ timedOut: [], slotsHeld: 0 });
    expect(slept).toEqual([]);
  });
});
