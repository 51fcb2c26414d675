import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '#shared/errors.ts';
import { EDGE_DECISION_SLACK_MS } from '#shared/run-report.ts';
import { InMemoryRunStore } from '#test/support/in-memory-run-store.ts';
import type { StartCommand } from './requests.ts';
import * as runs from './runs.ts';

const command = (overrides: Partial<StartCommand> = {}): StartCommand => ({
  duration: 60,
  interval: 5,
  sensorIds: ['s-1'],
  params: {},
  ...overrides,
});

const setup = (maxConcurrentRuns = 2) => {
  let clock = Date.parse('2026-11-25T10:00:00Z');
  let ids = 0;
  const store = new InMemoryRunStore();
  const deps: runs.RunDeps = {
    store,
    settings: {
      maxConcurrentRuns,
      graceMs: 120_000,
      retentionDays: 30,
      grafanaUrl: 'https://g.example/',
      grafanaStage: 'prod',
    },
    now: () => clock,
    newId: () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`,
  };
  return { deps, store, advance: (ms: number) => (clock += ms) };
};

describe('starting runs', () => {
  it('starts a RUNNING run with its view fields and a dashboard link', async () => {
    const { deps } = setup();
    const run = await runs.startRun(deps, command(), 'alice');
    expect(run).toMatchObject({
      id: run.runId,
      username: 'alice',
      status: 'RUNNING',
      startedAt: '2026-11-25T10:00:00.000Z',
      duration: 60,
      interval: 5,
      sensorIds: ['s-1'],
      // The front end's Abandon button finishes `params.runId`.
      params: { runId: run.id, sensorIds: ['s-1'], duration: 60, interval: 5 },
    });
    expect(run).not.toHaveProperty('deadlineAt');
    expect(run.grafanaUrl).toMatch(/^https:\/\/g\.example\/d\/iot-playground-sensors\//);
    expect(run.grafanaUrl).toContain(`var-runId=${run.id}`);
    // The stage too: a prod run must not open on dev's functions and logs.
    expect(run.grafanaUrl).toContain('var-stage=prod');
  });

  it('keeps the client params beside the run fields, which win', async () => {
    const { deps } = setup();
    const run = await runs.startRun(
      deps,
      command({ params: { profile: 'fast', runId: 'spoofed', interval: 5 } }),
      'alice',
    );
    expect(run.params).toEqual({
      profile: 'fast',
      runId: run.id,
      sensorIds: ['s-1'],
      duration: 60,
      interval: 5,
    });
  });

  it('refuses a start past the limit with the counts, and counts capacity from slots', async () => {
    const { deps } = setup(2);
    await runs.startRun(deps, command(), 'a');
    await runs.startRun(deps, command(), 'b');
    expect(await runs.capacity(deps)).toEqual({
      canStart: false,
      currentRunning: 2,
      maxAllowed: 2,
      available: 0,
    });
    const refusal = await runs.startRun(deps, command(), 'c').catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ConflictError);
    expect((refusal as ConflictError).extra).toEqual({ currentRunning: 2, maxAllowed: 2 });
  });

  it('frees the slot when the run item cannot be written', async () => {
    const { deps, store } = setup(1);
    store.failNextPut = 'throw';
    await expect(runs.startRun(deps, command(), 'a')).rejects.toThrow('put failed');
    expect((await runs.capacity(deps)).available).toBe(1);
  });

  it('keeps the slot when the run was written but the answer was lost', async () => {
    const { deps, store } = setup(1);
    store.failNextPut = 'lose-answer';
    const run = await runs.startRun(deps, command(), 'a');
    expect(run.status).toBe('RUNNING');
    expect(store.runs.has(run.id)).toBe(true);
    expect((await runs.capacity(deps)).available).toBe(0);
    await expect(runs.startRun(deps, command(), 'b')).rejects.toBeInstanceOf(ConflictError);
  });
});

describe('finishing runs', () => {
  it('finishes a running run, frees its slot and refuses a second finish', async () => {
    const { deps } = setup(1);
    const run = await runs.startRun(deps, command(), 'a');
    const finished = await runs.finishRun(deps, run.id, { status: 'FAILED', errorMessage: 'boom' });
    expect(finished).toMatchObject({
      status: 'FAILED',
      errorMessage: 'boom',
      finishedAt: expect.any(String),
    });
    expect((await runs.capacity(deps)).available).toBe(1);
    await expect(runs.finishRun(deps, run.id, { status: 'COMPLETED' })).rejects.toBeInstanceOf(
      ConflictError,
    );
  });

  it('asks for the report of every run it ends to be built now, and schedules the final build', async () => {
    const { deps, store } = setup(3);
    const built: string[] = [];
    deps.reportRequests = {
      request: async (runId) => {
        // Asked for once the run has ended and its slot is free.
        expect((await store.getRun(runId))?.status).not.toBe('RUNNING');
        built.push(runId);
      },
    };
    const finished = await runs.startRun(deps, command(), 'a');
    await runs.finishRun(deps, finished.id, { status: 'COMPLETED' });
    const interrupted = await runs.startRun(deps, command(), 'b');
    await runs.interruptAll(deps);
    expect(built).toEqual([finished.id, interrupted.id]);
    // Final once no edge takes a reading: grace, then the ingest function's timeout.
    expect(store.reportsDue.get(finished.id)).toBe(deps.now() + 120_000 + EDGE_DECISION_SLACK_MS);
  });

  it('answers 404 for an unknown run', async () => {
    const { deps } = setup();
    await expect(
      runs.finishRun(deps, '00000000-0000-4000-8000-00000000ffff', { status: 'COMPLETED' }),
    ).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('timeouts', () => {
  it('a run past duration + grace reads as TIMEOUT and stops counting at once', async () => {
    const { deps, advance } = setup(1);
    const run = await runs.startRun(deps, command({ duration: 10 }), 'a');
    advance(10_000 + 120_000);
    expect((await runs.getRun(deps, run.id)).status).toBe('RUNNING');
    advance(1);
    expect((await runs.getRun(deps, run.id)).status).toBe('TIMEOUT');
    expect(await runs.listRunning(deps)).toEqual([]);
    expect((await runs.capacity(deps)).available).toBe(1);
    const next = await runs.startRun(deps, command(), 'b');
    expect(next.status).toBe('RUNNING');
    await expect(runs.finishRun(deps, run.id, { status: 'COMPLETED' })).rejects.toMatchObject({
      extra: { status: 'TIMEOUT' },
    });
  });
});

describe('interrupt-all and listings', () => {
  it('interrupts every running run and frees their slots', async () => {
    const { deps, advance } = setup(3);
    const first = await runs.startRun(deps, command(), 'a');
    advance(1000);
    await runs.startRun(deps, command(), 'b');
    await runs.finishRun(deps, first.id, { status: 'COMPLETED' });
    advance(1000);
    await runs.startRun(deps, command(), 'c');

    const report = await runs.interruptAll(deps);
    expect(report).toMatchObject({ interrupted: 2, message: 'Interrupted 2 running run(s)' });
    expect((await runs.capacity(deps)).available).toBe(3);
    const all = await runs.listAll(deps);
    expect(all.map((r) => [r.username, r.status])).toEqual([
      ['c', 'INTERRUPTED'],
      ['b', 'INTERRUPTED'],
      ['a', 'COMPLETED'],
    ]);
  });

  it('pages newest first', async () => {
    const { deps, advance } = setup(5);
    for (const user of ['a', 'b', 'c']) {
      await runs.startRun(deps, command(), user);
      advance(1000);
    }
    const first = await runs.listPage(deps, 2);
    expect(first.items.map((r) => r.username)).toEqual(['c', 'b']);
    const second = await runs.listPage(deps, 2, first.lastKey);
    expect(second.items.map((r) => r.username)).toEqual(['a']);
    expect(second.lastKey).toBeUndefined();
  });
});
