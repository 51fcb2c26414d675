/**
 * The panel's use cases: start a deployment (one at a time), read the latest one or one by id
 * (its status refreshed from GitHub at most once per refresh period, whoever polls), and the
 * scheduled check that follows deployments nobody polls and stops an idle Grafana the panel
 * started.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { ConflictError, NotFoundError, ServiceUnavailableError } from '#shared/errors.ts';
import {
  busyMessage,
  COMPONENT_OF,
  type Deployment,
  type DeploymentAction,
  type DeploymentTrigger,
  isActive,
  isIdleGrafana,
  statusOfRun,
  type WorkflowRun,
} from './deployment.ts';
import { type DeployWorkflow, GitHubError } from './github.ts';
import type { DeploymentStore } from './store.ts';

/** A dispatch that has not confirmed within this long died half-way (the function stopped). */
export const DISPATCH_TIMEOUT_MS = 2 * 60_000;
/** A dispatched deployment whose run GitHub has not shown within this long has none. */
export const RUN_DISCOVERY_MS = 10 * 60_000;

export interface Notifier {
  /** Says something on the stage's alarm topic (nothing where the stage has none). */
  notify(subject: string, message: string): Promise<void>;
}

export interface InfraDeps {
  store: DeploymentStore;
  /** Undefined where the stage has no GitHub repository or credential configured. */
  workflow?: DeployWorkflow;
  notifier: Notifier;
  /** The last sign of use: now while a run is running, else when the newest run started (ms). */
  lastRunActivity: () => Promise<number | undefined>;
  stage: string;
  now: () => number;
  newId: () => string;
  /** GitHub is asked about a deployment at most once per this many ms. */
  refreshMs: number;
  /** Grafana the panel started stops after this long without a run. */
  idleMs: number;
  logger: Logger;
}

const NOT_SET_UP =
  'The infrastructure panel is not set up on this stage: no GitHub repository or credential (see docs/infra-panel.md)';

/** GitHub's definite refusals; anything else (5xx, a timeout) may have started a run anyway. */
const isRefusal = (error: unknown) =>
  error instanceof GitHubError && error.status >= 400 && error.status < 500;

const describe = (error: unknown) =>
  error instanceof Error ? error.message.slice(0, 300) : 'unknown error';

/** Starts `action`: 409 while another deployment is under way. */
export const startDeployment = async (
  deps: InfraDeps,
  action: DeploymentAction,
  user: string,
  trigger: DeploymentTrigger = 'panel',
): Promise<Deployment> => {
  const { workflow, store } = deps;
  if (!workflow) throw new ServiceUnavailableError(NOT_SET_UP);
  const current = await store.latest();
  // An old in-progress record may have ended since anyone looked: look before refusing.
  const latest = current && (await refresh(deps, current));
  if (latest && isActive(latest.status)) throw new ConflictError(busyMessage(latest));

  const now = deps.now();
  const deployment: Deployment = {
    id: deps.newId(),
    action,
    status: 'TRIGGERING',
    stage: deps.stage,
    user,
    trigger,
    createdAt: now,
    updatedAt: now,
    checkedAt: now,
    version: 1,
  };
  if (!(await store.begin(deployment))) {
    const winner = await store.latest();
    throw new ConflictError(busyMessage(winner ?? deployment));
  }
  deps.logger.info('Deployment dispatching', { deploymentId: deployment.id, action, trigger });

  let next: Deployment;
  try {
    // Fixed inputs: this stage, the route's component, and the id to find the run by.
    const run = await workflow.dispatch({
      stage: deps.stage,
      component: COMPONENT_OF[action],
      correlation_id: deployment.id,
    });
    next = {
      ...deployment,
      status: 'TRIGGERED',
      ...(run.runId === undefined ? {} : { runId: run.runId }),
      ...(run.htmlUrl === undefined ? {} : { runUrl: run.htmlUrl }),
    };
  } catch (error) {
    deps.logger.error('Dispatch failed', { error: error as Error, deploymentId: deployment.id });
    if (!isRefusal(error)) {
      // It may have started: the run is looked for by its correlation id until it shows.
      next = { ...deployment, status: 'TRIGGERED' };
    } else {
      const failed = stamp(
        deployment,
        { status: 'FAILED', errorMessage: `GitHub refused the deployment: ${describe(error)}` },
        deps.now(),
      );
      await store.save(failed);
      throw new ServiceUnavailableError(failed.errorMessage!);
    }
  }
  const saved = stamp(deployment, next, deps.now());
  // A refresh may have found the run first; either way the stored record is the newer one.
  if (!(await store.save(saved))) return (await store.latest()) ?? saved;
  return saved;
};

/** A new version of `base` with `change`, updated now. */
const stamp = (base: Deployment, change: Partial<Deployment>, now: number): Deployment => ({
  ...base,
  ...change,
  updatedAt: Math.max(now, base.updatedAt),
  version: base.version + 1,
});

/** `deployment` as GitHub says its run is now, or unchanged when it cannot tell yet. */
const lookUp = async (
  deps: InfraDeps,
  workflow: DeployWorkflow,
  deployment: Deployment,
): Promise<Partial<Deployment> | undefined> => {
  const run: WorkflowRun | undefined =
    deployment.runId === undefined
      ? await workflow.findRun(deployment.id, deployment.createdAt - 60_000)
      : await workflow.getRun(deployment.runId);
  if (run) {
    const { status, errorMessage } = statusOfRun(run);
    return { runId: run.id, runUrl: run.html_url, status, errorMessage };
  }
  const age = deps.now() - deployment.createdAt;
  if (deployment.status === 'TRIGGERING' && age > DISPATCH_TIMEOUT_MS) {
    return { status: 'FAILED', errorMessage: 'The dispatch to GitHub did not complete' };
  }
  if (age > RUN_DISCOVERY_MS) {
    return {
      status: 'FAILED',
      errorMessage: `GitHub showed no run for this deployment within ${RUN_DISCOVERY_MS / 60_000} minutes`,
    };
  }
  return undefined;
};

const changed = (before: Deployment, change: Partial<Deployment>) =>
  (Object.keys(change) as (keyof Deployment)[]).some((key) => change[key] !== before[key]);

/**
 * The deployment with its state from GitHub, asked at most once per refresh period: the first
 * caller past the period claims the look, every other caller gets the stored record.
 */
export const refresh = async (deps: InfraDeps, deployment: Deployment): Promise<Deployment> => {
  const { workflow, store } = deps;
  if (!workflow || !isActive(deployment.status)) return deployment;
  const now = deps.now();
  if (now - deployment.checkedAt < deps.refreshMs) return deployment;
  if (!(await store.claimCheck(deployment, now))) return (await store.latest()) ?? deployment;
  const checked = { ...deployment, checkedAt: now };
  let change: Partial<Deployment> | undefined;
  try {
    change = await lookUp(deps, workflow, checked);
  } catch (error) {
    // GitHub unreachable: the stored state stands, asked again next period.
    deps.logger.warn('GitHub status look-up failed', { error: error as Error });
    return checked;
  }
  if (change === undefined || !changed(checked, change)) return checked;
  const next = stamp(checked, { errorMessage: undefined, ...change }, now);
  if (!(await store.save(next))) return (await store.latest()) ?? next;
  deps.logger.info('Deployment changed', {
    deploymentId: next.id,
    status: next.status,
    runId: next.runId,
  });
  if (next.trigger === 'idle-stop' && !isActive(next.status)) await reportIdleStop(deps, next);
  return next;
};

const reportIdleStop = (deps: InfraDeps, deployment: Deployment) =>
  deps.notifier.notify(
    `IoT Playground ${deps.stage}: idle Grafana ${deployment.status === 'SUCCESS' ? 'stopped' : 'NOT stopped'}`,
    deployment.status === 'SUCCESS'
      ? `The deploy workflow removed Grafana from ${deps.stage} (deployment ${deployment.id}, ${deployment.runUrl ?? 'run unknown'}).`
      : `Stopping the idle Grafana of ${deps.stage} failed: ${deployment.errorMessage ?? 'unknown'} (deployment ${deployment.id}, ${deployment.runUrl ?? 'run unknown'}). Grafana may still be running and costing money.`,
  );

/** The newest deployment, refreshed when due; undefined when there has been none. */
export const latestDeployment = async (deps: InfraDeps): Promise<Deployment | undefined> => {
  const latest = await deps.store.latest();
  return latest && refresh(deps, latest);
};

/** A deployment by id; 404 when unknown. */
export const deploymentById = async (deps: InfraDeps, id: string): Promise<Deployment> => {
  const latest = await deps.store.latest();
  if (latest?.id === id) return refresh(deps, latest);
  const deployment = await deps.store.get(id);
  if (!deployment) throw new NotFoundError(`Deployment ${id} not found`);
  return deployment;
};

export interface CheckReport {
  latest?: Pick<Deployment, 'id' | 'action' | 'status'>;
  /** The destroy dispatched because Grafana was idle. */
  idleStop?: Pick<Deployment, 'id' | 'status'>;
}

/**
 * The schedule's check: the latest deployment followed even when no panel is open, and Grafana
 * the panel started stopped once no run has started for the idle period; the alarm topic is told.
 */
export const scheduledCheck = async (deps: InfraDeps): Promise<CheckReport> => {
  const latest = await latestDeployment(deps);
  const report: CheckReport = latest
    ? { latest: { id: latest.id, action: latest.action, status: latest.status } }
    : {};
  if (!deps.workflow || latest?.action !== 'apply' || latest.status !== 'SUCCESS') return report;
  const now = deps.now();
  if (!isIdleGrafana(latest, await deps.lastRunActivity(), now, deps.idleMs)) return report;

  const idle =
    deps.idleMs >= 3_600_000
      ? `${+(deps.idleMs / 3_600_000).toFixed(1)} h`
      : `${Math.round(deps.idleMs / 60_000)} min`;
  try {
    const stop = await startDeployment(deps, 'destroy', 'idle-stop', 'idle-stop');
    report.idleStop = { id: stop.id, status: stop.status };
    await deps.notifier.notify(
      `IoT Playground ${deps.stage}: stopping idle Grafana`,
      `No run has started on ${deps.stage} for ${idle} since Grafana was started from the infrastructure panel, so the panel dispatched the deploy workflow with component lambdas to remove it (deployment ${stop.id}, ${stop.runUrl ?? 'run not known yet'}).`,
    );
  } catch (error) {
    deps.logger.error('Idle stop failed', { error: error as Error });
    await deps.notifier.notify(
      `IoT Playground ${deps.stage}: idle Grafana NOT stopped`,
      `No run has started on ${deps.stage} for ${idle}, but dispatching the stop failed: ${describe(error)}. Grafana is still running and costing money.`,
    );
  }
  return report;
};
