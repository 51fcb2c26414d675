/**
 * The run API's use cases over a RunStore: start (within the concurrency limit), finish,
 * interrupt-all, and the read models. No HTTP here; errors are domain errors.
 */
import { ConflictError, ForbiddenError, NotFoundError } from '#shared/errors.ts';
import { mayActOnRun, type RunActor } from '#shared/identity.ts';
import { runDashboardUrl } from '#shared/grafana.ts';
import { effectiveStatus, type Run } from '#shared/run.ts';
import { acceptanceClosesAt } from '#shared/run-report.ts';
import type { ReportRequests } from '#shared/report-requests.ts';
import type { RunStore, SlotLease } from '#shared/run-store.ts';
import type { FinishCommand, StartCommand } from './requests.ts';

export interface RunSettings {
  maxConcurrentRuns: number;
  graceMs: number;
  retentionDays: number;
  /** Base URL of the Grafana that shows runs; undefined where the stage runs no Grafana. */
  grafanaUrl?: string;
  /** The stage this API belongs to, so a run's link opens the dashboard on its stage. */
  grafanaStage?: string;
}

export interface RunDeps {
  store: RunStore;
  settings: RunSettings;
  now: () => number;
  newId: () => string;
  /**
   * Asks for an ended run's report to be built now (shared/report-requests.ts), so a download
   * has it within seconds; never fails the request (a lost request is left to the sweeper).
   */
  reportRequests?: ReportRequests;
}

/** When the report of a run ending at `at` is built again, to be final (acceptanceClosesAt). */
const reportDueAt = (at: number, graceMs: number) =>
  acceptanceClosesAt(
    { status: 'COMPLETED', finishedAt: new Date(at).toISOString(), deadlineAt: Infinity },
    graceMs,
  );

/** What the API returns for a run: its effective status and the dashboard link. */
export interface RunView extends Omit<Run, 'deadlineAt' | 'slot' | 'owner'> {
  runId: string;
  /** null: this stage has no Grafana, so there is nothing to link to. */
  grafanaUrl: string | null;
}

export const toView = (
  run: Run,
  now: number,
  { grafanaUrl, grafanaStage }: Pick<RunSettings, 'grafanaUrl' | 'grafanaStage'>,
): RunView => {
  const { deadlineAt: _d, slot: _s, owner: _o, ...visible } = run;
  return {
    ...visible,
    runId: run.id,
    status: effectiveStatus(run, now),
    grafanaUrl: grafanaUrl === undefined ? null : runDashboardUrl(grafanaUrl, run, grafanaStage),
  };
};

const isHeld = (lease: SlotLease, now: number): boolean =>
  lease.runId !== undefined && (lease.leaseUntil ?? 0) >= now;

export interface Capacity {
  canStart: boolean;
  currentRunning: number;
  maxAllowed: number;
  available: number;
}

/** Reads the slot items only: a constant number of reads, whatever the number of runs. */
export const capacity = async ({ store, settings, now }: RunDeps): Promise<Capacity> => {
  const at = now();
  const slots = await store.readSlots(settings.maxConcurrentRuns);
  const currentRunning = slots.filter((slot) => isHeld(slot, at)).length;
  const available = settings.maxConcurrentRuns - currentRunning;
  return {
    canStart: available > 0,
    currentRunning,
    maxAllowed: settings.maxConcurrentRuns,
    available,
  };
};

const shuffled = <T>(items: T[]): T[] => {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
};

export const startRun = async (
  deps: RunDeps,
  command: StartCommand,
  username: string,
  /** The starter's token subject under the JWT authorizer: the run's owner. */
  owner?: string,
): Promise<RunView> => {
  const { store, settings, now, newId } = deps;
  const startedAtMs = now();
  const id = newId();
  const deadlineAt = startedAtMs + command.duration * 1000 + settings.graceMs;

  // Free slots in random order, so simultaneous starts mostly try different slots.
  const slots = await store.readSlots(settings.maxConcurrentRuns);
  const free = shuffled(slots.filter((slot) => !isHeld(slot, startedAtMs)));
  let claimed: number | undefined;
  for (const { slot } of free) {
    if (await store.claimSlot(slot, id, deadlineAt, startedAtMs)) {
      claimed = slot;
      break;
    }
  }
  if (claimed === undefined) {
    // Every slot was held, or taken by a simultaneous start while we tried it.
    throw new ConflictError('Maximum number of concurrent runs reached', {
      currentRunning: settings.maxConcurrentRuns,
      maxAllowed: settings.maxConcurrentRuns,
    });
  }

  const run: Run = {
    id,
    username,
    status: 'RUNNING',
    startedAt: new Date(startedAtMs).toISOString(),
    duration: command.duration,
    interval: command.interval,
    sensorIds: command.sensorIds,
    // The front end reads `params.runId` (its Abandon button finishes that run) and shows
    // `params.interval` in seconds; the client's own params fields are kept beside them.
    params: {
      ...command.params,
      runId: id,
      sensorIds: command.sensorIds,
      duration: command.duration,
      interval: command.interval,
    },
    deadlineAt,
    slot: claimed,
    ...(owner === undefined ? {} : { owner }),
  };
  const expiresAt = Math.floor(startedAtMs / 1000) + settings.retentionDays * 86_400;
  try {
    await store.putRun(run, expiresAt);
  } catch (error) {
    // The write may have landed with only its answer lost (the SDK's retry then fails the
    // attribute_not_exists check): keep the slot for a run that exists, free it otherwise.
    if (await store.getRun(id).catch(() => undefined)) {
      return toView(run, startedAtMs, settings);
    }
    await store.releaseSlot(claimed, id);
    throw error;
  }
  return toView(run, startedAtMs, settings);
};

export const getRun = async ({ store, settings, now }: RunDeps, id: string): Promise<RunView> => {
  const run = await store.getRun(id);
  if (!run) throw new NotFoundError(`Run ${id} not found`);
  return toView(run, now(), settings);
};

/** The 403 of a run another user started (under the JWT authorizer). */
export const notYourRun = (id: string) => new ForbiddenError(`Run ${id} belongs to another user`);

export const finishRun = async (
  deps: RunDeps,
  id: string,
  command: FinishCommand,
  /** Under the JWT authorizer: who asks; a run is finished by its owner or an admin. */
  actor?: RunActor,
): Promise<RunView> => {
  const { store, settings, now } = deps;
  const at = now();
  // A run of another owner fails the same conditional write as an ended one; told apart below.
  const ownedBy = actor === undefined || actor.admin ? undefined : (actor.subject ?? '');
  // Readings are taken for a grace period after a finish (see acceptsMeasurements).
  const ended = await store.endRun(
    id,
    {
      ...command,
      finishedAt: new Date(at).toISOString(),
      reportDueAt: reportDueAt(at, settings.graceMs),
    },
    { liveAt: at, ...(ownedBy === undefined ? {} : { ownedBy }) },
  );
  if (!ended) {
    const run = await store.getRun(id);
    if (!run) throw new NotFoundError(`Run ${id} not found`);
    // Another user learns nothing of the run's state.
    if (!mayActOnRun(actor, run)) throw notYourRun(id);
    const status = effectiveStatus(run, at);
    throw new ConflictError(`Run ${id} is not running (status ${status})`, { status });
  }
  await store.releaseSlot(ended.slot, ended.id);
  await deps.reportRequests?.request(ended.id);
  return toView(ended, at, settings);
};

export interface InterruptReport {
  interrupted: number;
  timestamp: string;
  message: string;
}

export const interruptAll = async (deps: RunDeps): Promise<InterruptReport> => {
  const { store, now } = deps;
  const at = now();
  const timestamp = new Date(at).toISOString();
  const running = await store.listRunning();
  const ended = await Promise.all(
    running.map(async (run) => {
      const result = await store.endRun(
        run.id,
        {
          status: 'INTERRUPTED',
          finishedAt: timestamp,
          errorMessage: 'Interrupted by operator',
          reportDueAt: reportDueAt(at, deps.settings.graceMs),
        },
        { liveAt: at },
      );
      if (result) {
        await store.releaseSlot(result.slot, result.id);
        await deps.reportRequests?.request(result.id);
      }
      return result !== undefined;
    }),
  );
  const interrupted = ended.filter(Boolean).length;
  return { interrupted, timestamp, message: `Interrupted ${interrupted} running run(s)` };
};

/** RUNNING runs, newest first; runs past their deadline are left out (they are TIMEOUT). */
export const listRunning = async ({ store, settings, now }: RunDeps): Promise<RunView[]> => {
  const at = now();
  const runs = await store.listRunning();
  return runs
    .filter((run) => effectiveStatus(run, at) === 'RUNNING')
    .map((run) => toView(run, at, settings));
};

/** Upper bound of `GET /api/runs/all`; the paginated listing reaches everything. */
export const ALL_RUNS_CAP = 1000;

export const listAll = async ({ store, settings, now }: RunDeps): Promise<RunView[]> => {
  const at = now();
  const runs: Run[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await store.listPage(Math.min(100, ALL_RUNS_CAP - runs.length), startKey);
    runs.push(...page.runs);
    startKey = page.lastKey;
  } while (startKey && runs.length < ALL_RUNS_CAP);
  return runs.map((run) => toView(run, at, settings));
};

export const listPage = async (
  { store, settings, now }: RunDeps,
  limit: number,
  startKey?: Record<string, unknown>,
): Promise<{ items: RunView[]; lastKey?: Record<string, unknown> }> => {
  const at = now();
  const page = await store.listPage(limit, startKey);
  return {
    items: page.runs.map((run) => toView(run, at, settings)),
    ...(page.lastKey ? { lastKey: page.lastKey } : {}),
  };
};
