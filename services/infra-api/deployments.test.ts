/**
 * The panel's use cases on the real store (dynalite) and a scripted GitHub: one deployment at a
 * time, the refresh throttle whatever the number of pollers, the run found without guessing, and
 * the idle stop.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { ConflictError, DomainError, ServiceUnavailableError } from '#shared/errors.ts';
import { useTestTables } from '#test/support/dynamodb.ts';
import type { WorkflowRun } from './deployment.ts';
import {
  DISPATCH_TIMEOUT_MS,
  deploymentById,
  type InfraDeps,
  latestDeployment,
  RUN_DISCOVERY_MS,
  scheduledCheck,
  startDeployment,
} from './deployments.ts';
import { type DeployWorkflow, type DispatchedRun, GitHubError } from './github.ts';
import { DynamoDeploymentStore } from './store.ts';

const { db } = useTestTables();

/** A GitHub whose runs the test moves, counting the calls made to it. */
class ScriptedGitHub implements DeployWorkflow {
  readonly workflowUrl = 'https://github.com/o/r/actions/workflows/deploy.yml';
  runs = new Map<number, WorkflowRun>();
  dispatched: Record<string, string>[] = [];
  calls = { dispatch: 0, getRun: 0, findRun: 0 };
  /** What the next dispatch does: details, a 204, or an error. */
  next: 'details' | 'no-details' | Error = 'details';
  private nextId = 1;

  async dispatch(inputs: Record<string, string>): Promise<DispatchedRun> {
    this.calls.dispatch++;
    if (this.next instanceof Error) throw this.next;
    this.dispatched.push(inputs);
    const id = this.nextId++;
    this.runs.set(id, {
      id,
      status: 'queued',
      conclusion: null,
      html_url: `https://github.com/o/r/actions/runs/${id}`,
      display_title: `Deploy ${inputs.stage} (${inputs.component}) ${inputs.correlation_id}`,
    });
    return this.next === 'details'
      ? { runId: id, htmlUrl: `https://github.com/o/r/actions/runs/${id}` }
      : {};
  }
  async getRun(id: number): Promise<WorkflowRun> {
    this.calls.getRun++;
    return this.runs.get(id)!;
  }
  async findRun(correlationId: string): Promise<WorkflowRun | undefined> {
    this.calls.findRun++;
    return [...this.runs.values()].find((run) => run.display_title?.includes(correlationId));
  }
  move(id: number, status: string, conclusion: string | null = null) {
    this.runs.set(id, { ...this.runs.get(id)!, status, conclusion });
  }
}

const REFRESH_MS = 10_000;
const IDLE_MS = 2 * 3_600_000;

const setup = async (options: { workflow?: boolean } = {}) => {
  const github = new ScriptedGitHub();
  let now = Date.UTC(2030, 0, 1);
  let ids = 0;
  const notes: { subject: string; message: string }[] = [];
  let lastRun: number | undefined;
  const deps: InfraDeps = {
    store: new DynamoDeploymentStore(db.documents(), await db.createTable('deployments'), 90),
    ...(options.workflow === false ? {} : { workflow: github }),
    notifier: { notify: async (subject, message) => void notes.push({ subject, message }) },
    lastRunActivity: async () => lastRun,
    stage: 'dev',
    now: () => now,
    newId: () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`,
    refreshMs: REFRESH_MS,
    idleMs: IDLE_MS,
    logger: new Logger({ logLevel: 'SILENT' }),
  };
  return {
    deps,
    github,
    notes,
    advance: (ms: number) => void (now += ms),
    runStartedAt: (at: number | undefined) => void (lastRun = at),
    at: () => now,
  };
};

const refusal = async (promise: Promise<unknown>): Promise<DomainError> => {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error('not refused');
};

describe('one deployment at a time', () => {
  it('refuses a create or destroy while one is under way, and allows one after it ended', async () => {
    const { deps, github, advance } = await setup();
    const first = await startDeployment(deps, 'apply', 'alice');
    expect(first).toMatchObject({ status: 'TRIGGERED', runId: 1 });
    expect(github.dispatched).toEqual([
      { stage: 'dev', component: 'full', correlation_id: first.id },
    ]);

    expect(await refusal(startDeployment(deps, 'destroy', 'bob'))).toBeInstanceOf(ConflictError);
    github.move(1, 'completed', 'success');
    // Ended on GitHub, not yet looked at: a create looks before refusing.
    advance(REFRESH_MS);
    const second = await startDeployment(deps, 'destroy', 'bob');

    expect(second).toMatchObject({ action: 'destroy', status: 'TRIGGERED' });
    expect(github.dispatched.at(-1)).toMatchObject({ component: 'lambdas' });
    expect(await deploymentById(deps, first.id)).toMatchObject({ status: 'SUCCESS' });
  });

  it('lets one of many simultaneous starts dispatch', async () => {
    const { deps, github } = await setup();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, () => startDeployment(deps, 'apply', 'alice')),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    expect(github.calls.dispatch).toBe(1);
  });

  it('answers 503 where the stage has no GitHub set up, dispatching nothing', async () => {
    const { deps } = await setup({ workflow: false });
    const error = await refusal(startDeployment(deps, 'apply', 'alice'));
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error.message).toMatch(/not set up/);
    expect(await latestDeployment(deps)).toBeUndefined();
  });
});

describe('a dispatch GitHub refuses or leaves in doubt', () => {
  it('a refusal (4xx) is FAILED with GitHub’s reason and frees the panel', async () => {
    const { deps, github } = await setup();
    github.next = new GitHubError(401, 'GitHub answered 401: Bad credentials');

    const error = await refusal(startDeployment(deps, 'apply', 'alice'));

    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error.message).toBe(
      'GitHub refused the deployment: GitHub answered 401: Bad credentials',
    );
    expect(await latestDeployment(deps)).toMatchObject({
      status: 'FAILED',
      errorMessage: error.message,
    });
    github.next = 'details';
    expect(await startDeployment(deps, 'apply', 'alice')).toMatchObject({ status: 'TRIGGERED' });
  });

  it('a 5xx or timeout may have started a run: TRIGGERED, then found by its correlation id', async () => {
    const { deps, github, advance } = await setup();
    github.next = 'no-details';
    // The dispatch went through, but its answer was lost.
    const lost = github.dispatch.bind(github);
    github.dispatch = async (inputs) => {
      await lost(inputs);
      throw new GitHubError(502, 'GitHub answered 502: Bad Gateway');
    };

    const started = await startDeployment(deps, 'apply', 'alice');
    expect(started).toMatchObject({ status: 'TRIGGERED' });
    expect(started.runId).toBeUndefined();

    github.move(1, 'in_progress');
    advance(REFRESH_MS);
    expect(await latestDeployment(deps)).toMatchObject({
      status: 'IN_PROGRESS',
      runId: 1,
      runUrl: 'https://github.com/o/r/actions/runs/1',
    });
  });

  it('a run GitHub never shows is FAILED after the discovery period', async () => {
    const { deps, github, advance } = await setup();
    github.next = 'no-details';
    const started = await startDeployment(deps, 'apply', 'alice');
    github.runs.clear();

    advance(REFRESH_MS);
    expect((await latestDeployment(deps))?.status).toBe('TRIGGERED');
    advance(RUN_DISCOVERY_MS);
    const failed = await latestDeployment(deps);

    expect(failed).toMatchObject({ id: started.id, status: 'FAILED' });
    expect(failed?.errorMessage).toMatch(/no run/);
  });

  it('a dispatch that died half-way (TRIGGERING) is FAILED after its timeout, not a lock forever', async () => {
    const { deps, github, advance } = await setup();
    const now = deps.now();
    await deps.store.begin({
      id: '00000000-0000-4000-8000-0000000000aa',
      action: 'apply',
      status: 'TRIGGERING',
      stage: 'dev',
      user: 'alice',
      trigger: 'panel',
      createdAt: now,
      updatedAt: now,
      checkedAt: now,
      version: 1,
    });
    expect(await refusal(startDeployment(deps, 'apply', 'bob'))).toBeInstanceOf(ConflictError);

    advance(DISPATCH_TIMEOUT_MS + 1);
    const next = await startDeployment(deps, 'apply', 'bob');

    expect(next.status).toBe('TRIGGERED');
    expect(await deploymentById(deps, '00000000-0000-4000-8000-0000000000aa')).toMatchObject({
      status: 'FAILED',
      errorMessage: 'The dispatch to GitHub did not complete',
    });
    expect(github.calls.dispatch).toBe(1);
  });
});

describe('status refreshed from GitHub, throttled', () => {
  it('asks GitHub at most once per period however many pollers read', async () => {
    const { deps, github, advance } = await setup();
    await startDeployment(deps, 'apply', 'alice');
    github.move(1, 'in_progress');

    // Twenty tabs poll within the period: nobody asks GitHub.
    for (let i = 0; i < 20; i++) await latestDeployment(deps);
    expect(github.calls.getRun).toBe(0);
    // Past it, twenty tabs at once: one of them asks.
    advance(REFRESH_MS);
    const seen = await Promise.all(Array.from({ length: 20 }, () => latestDeployment(deps)));

    expect(github.calls.getRun).toBe(1);
    expect(seen.filter((d) => d?.status === 'IN_PROGRESS').length).toBeGreaterThan(0);
    expect((await latestDeployment(deps))?.status).toBe('IN_PROGRESS');
  });

  it('keeps the stored state when GitHub cannot be reached, and asks again next period', async () => {
    const { deps, github, advance } = await setup();
    await startDeployment(deps, 'apply', 'alice');
    github.getRun = async () => {
      github.calls.getRun++;
      throw new Error('network down');
    };
    advance(REFRESH_MS);
    expect((await latestDeployment(deps))?.status).toBe('TRIGGERED');
    expect(await latestDeployment(deps)).toMatchObject({ status: 'TRIGGERED' });
    expect(github.calls.getRun).toBe(1);
    advance(REFRESH_MS);
    await latestDeployment(deps);
    expect(github.calls.getRun).toBe(2);
  });

  it('maps a cancelled run to FAILED with a message', async () => {
    const { deps, github, advance } = await setup();
    await startDeployment(deps, 'apply', 'alice');
    github.move(1, 'completed', 'cancelled');
    advance(REFRESH_MS);
    expect(await latestDeployment(deps)).toMatchObject({
      status: 'FAILED',
      errorMessage: 'The deploy workflow run was cancelled (run 1)',
    });
  });
});

describe('the idle stop', () => {
  const HOUR = 3_600_000;

  const grafanaUp = async () => {
    const context = await setup();
    await startDeployment(context.deps, 'apply', 'alice');
    context.github.move(1, 'completed', 'success');
    context.advance(REFRESH_MS);
    expect((await latestDeployment(context.deps))?.status).toBe('SUCCESS');
    return context;
  };

  it('stops Grafana the panel started after the idle period without a run, and says so', async () => {
    const { deps, github, notes, advance, runStartedAt, at } = await grafanaUp();
    runStartedAt(at() - 5 * HOUR);
    advance(IDLE_MS - 1);
    expect(await scheduledCheck(deps)).not.toHaveProperty('idleStop');

    advance(1);
    const report = await scheduledCheck(deps);

    expect(report.idleStop).toMatchObject({ status: 'TRIGGERED' });
    expect(github.dispatched.at(-1)).toMatchObject({ component: 'lambdas' });
    expect(await latestDeployment(deps)).toMatchObject({
      action: 'destroy',
      user: 'idle-stop',
      trigger: 'idle-stop',
    });
    expect(notes).toEqual([
      {
        subject: 'IoT Playground dev: stopping idle Grafana',
        message: expect.stringContaining('No run has started on dev for 2 h'),
      },
    ]);
    // Its end is told too.
    github.move(2, 'completed', 'failure');
    advance(REFRESH_MS);
    await scheduledCheck(deps);
    expect(notes.at(-1)?.subject).toBe('IoT Playground dev: idle Grafana NOT stopped');
  });

  it('leaves Grafana up while runs start, and leaves alone a Grafana it did not start', async () => {
    const { deps, github, advance, runStartedAt, at } = await grafanaUp();
    advance(IDLE_MS + HOUR);
    runStartedAt(at() - HOUR);
    expect(await scheduledCheck(deps)).not.toHaveProperty('idleStop');
    expect(github.calls.dispatch).toBe(1);

    // The latest deployment is a destroy: nothing of the panel's is up.
    const { deps: other, github: otherGitHub } = await setup();
    await startDeployment(other, 'destroy', 'alice');
    otherGitHub.move(1, 'completed', 'success');
    expect(await scheduledCheck(other)).not.toHaveProperty('idleStop');
  });

  it('tells the alarm topic when the stop cannot be dispatched', async () => {
    const { deps, github, notes, advance } = await grafanaUp();
    github.next = new GitHubError(403, 'GitHub answered 403: Resource not accessible');
    advance(IDLE_MS);

    const report = await scheduledCheck(deps);

    expect(report.idleStop).toBeUndefined();
    expect(notes.at(-1)).toEqual({
      subject: 'IoT Playground dev: idle Grafana NOT stopped',
      message: expect.stringContaining('Resource not accessible'),
    });
  });
});
