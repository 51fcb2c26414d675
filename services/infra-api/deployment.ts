/**
 * A deployment of the infrastructure panel: Grafana started (`apply`, the deploy workflow with
 * component `full`) or stopped (`destroy`, component `lambdas`). Pure: the request's rules, the
 * five states the front end knows and how a GitHub workflow run maps onto them, and the view the
 * panel reads.
 */
import { BadRequestError, type ErrorDetail } from '#shared/errors.ts';
import { sanitizeUser } from '#shared/identity.ts';

/** The states the front end's panel knows; anything else shows an empty label there. */
export const DEPLOYMENT_STATUSES = [
  'TRIGGERING',
  'TRIGGERED',
  'IN_PROGRESS',
  'SUCCESS',
  'FAILED',
] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

/** The front end's `terraform_action` (the earlier backend ran Terraform). */
export const DEPLOYMENT_ACTIONS = ['apply', 'destroy'] as const;
export type DeploymentAction = (typeof DEPLOYMENT_ACTIONS)[number];

/** The deploy workflow's component for each action: `lambdas` removes Grafana only. */
export const COMPONENT_OF: Record<DeploymentAction, 'full' | 'lambdas'> = {
  apply: 'full',
  destroy: 'lambdas',
};

/** Who started it: someone at the panel, or the schedule stopping an idle Grafana. */
export type DeploymentTrigger = 'panel' | 'idle-stop';

export interface Deployment {
  /** The deployment id, a UUID; also the workflow's `correlation_id` input (in its run name). */
  id: string;
  action: DeploymentAction;
  status: DeploymentStatus;
  stage: string;
  user: string;
  trigger: DeploymentTrigger;
  /** Epoch milliseconds. */
  createdAt: number;
  updatedAt: number;
  /** When GitHub was last asked about the run (the throttle of refreshes). */
  checkedAt: number;
  /** Bumped by every saved change: a save over a newer one is refused. */
  version: number;
  runId?: number;
  /** The run's page on GitHub. */
  runUrl?: string;
  errorMessage?: string;
}

export const isActive = (status: DeploymentStatus): boolean =>
  status !== 'SUCCESS' && status !== 'FAILED';

/** Bytes an infrastructure request body may have: three short fields. */
export const MAX_INFRA_BODY_BYTES = 4 * 1024;

export interface DeployRequest {
  user: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The panel's `{user, environment, mode}`. Nothing of it reaches the workflow: `environment`
 * must name this stage and `mode` the route's action, so a request can only ask for what the
 * route does; `user` is a label, sanitised like `X-User`.
 */
export const parseDeployRequest = (
  body: unknown,
  action: DeploymentAction,
  stage: string,
): DeployRequest => {
  if (!isRecord(body)) throw new BadRequestError('Request body must be a JSON object');
  const problems: ErrorDetail[] = [];
  if (body.environment !== stage) {
    problems.push({ field: 'environment', message: `must be "${stage}", this API's stage` });
  }
  if (body.mode !== action) {
    problems.push({ field: 'mode', message: `must be "${action}" on this route` });
  }
  if (body.user !== undefined && body.user !== null && typeof body.user !== 'string') {
    problems.push({ field: 'user', message: 'must be a string' });
  }
  if (problems.length > 0) {
    throw new BadRequestError(
      problems.length === 1 && problems[0]!.field === 'environment'
        ? `This API deploys the ${stage} stage only`
        : 'Invalid infrastructure request',
      problems,
    );
  }
  return { user: sanitizeUser(typeof body.user === 'string' ? body.user : undefined) };
};

/** A workflow run as GitHub's REST API describes it (the fields read here). */
export interface WorkflowRun {
  id: number;
  status: string;
  conclusion: string | null;
  html_url: string;
  display_title?: string;
}

const CONCLUSION_MESSAGES: Record<string, string> = {
  failure: 'The deploy workflow run failed',
  cancelled: 'The deploy workflow run was cancelled',
  timed_out: 'The deploy workflow run timed out',
  startup_failure: 'The deploy workflow run could not start',
  action_required: 'The deploy workflow run needs an action in GitHub',
  stale: 'The deploy workflow run went stale',
  skipped: 'The deploy workflow run was skipped',
  neutral: 'The deploy workflow run ended without success',
};

/**
 * The panel's state of a run: not started yet (`queued`, `requested`, `pending`) is TRIGGERED;
 * running, or `waiting` for an environment's reviewers, is IN_PROGRESS; completed is SUCCESS
 * only with conclusion `success` — any other conclusion, `cancelled` included, is FAILED with a
 * message. Statuses and conclusions: https://docs.github.com/en/rest/actions/workflow-runs
 */
export const statusOfRun = (
  run: Pick<WorkflowRun, 'id' | 'status' | 'conclusion'>,
): { status: DeploymentStatus; errorMessage?: string } => {
  if (run.status === 'completed') {
    if (run.conclusion === 'success') return { status: 'SUCCESS' };
    const message =
      CONCLUSION_MESSAGES[run.conclusion ?? ''] ??
      `The deploy workflow run ended as ${run.conclusion ?? 'unknown'}`;
    return { status: 'FAILED', errorMessage: `${message} (run ${run.id})` };
  }
  if (['queued', 'requested', 'pending'].includes(run.status)) return { status: 'TRIGGERED' };
  return { status: 'IN_PROGRESS' };
};

/** The record the panel reads: snake case, epoch seconds, nulls where nothing is known. */
export interface DeploymentView {
  deployment_id: string;
  status: DeploymentStatus;
  terraform_action: DeploymentAction;
  error_message: string | null;
  workflow_run_url: string | null;
  github_actions_url: string;
  user: string;
  created_at: number;
  updated_at: number;
}

export const toView = (deployment: Deployment, workflowUrl: string): DeploymentView => ({
  deployment_id: deployment.id,
  status: deployment.status,
  terraform_action: deployment.action,
  error_message: deployment.errorMessage ?? null,
  workflow_run_url: deployment.runUrl ?? null,
  github_actions_url: deployment.runUrl ?? workflowUrl,
  user: deployment.user,
  created_at: Math.floor(deployment.createdAt / 1000),
  updated_at: Math.floor(deployment.updatedAt / 1000),
});

/** What a 409 says when a deployment is under way: the panel shows it as it is. */
export const busyMessage = (deployment: Deployment): string =>
  `Grafana is already being ${deployment.action === 'apply' ? 'started' : 'stopped'} ` +
  `(deployment ${deployment.id}, ${deployment.status}); try again when it has finished`;

/**
 * Whether Grafana the panel started has been idle long enough to stop: the newest deployment is
 * a successful `apply` from the panel, and neither it nor the last run activity (a run running,
 * or the newest run's start) is within `idleMs`.
 */
export const isIdleGrafana = (
  latest: Deployment | undefined,
  lastRunActivity: number | undefined,
  now: number,
  idleMs: number,
): boolean => {
  if (latest?.action !== 'apply' || latest.status !== 'SUCCESS' || latest.trigger !== 'panel') {
    return false;
  }
  const lastActivity = Math.max(latest.updatedAt, lastRunActivity ?? 0);
  return now - lastActivity >= idleMs;
};
