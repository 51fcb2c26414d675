/**
 * The gate before prod: a prod deployment of a commit may start only if that same commit was
 * deployed to dev by this workflow, with the same component (or `full`, which contains
 * `lambdas`), and that run passed — its plan (the policy checks) and its deploy job (the
 * deployment, the smoke test and, for `full`, the dashboards through Grafana's own API). The
 * answer comes from GitHub's record of the runs, not from anything the prod run says.
 */
import type { GitHubApi } from '../github-api.ts';

export type Component = 'lambdas' | 'full';

/** The deploy job's name in deploy.yml: `Deploy ${{ inputs.stage }} (${{ inputs.component }})`. */
export const deployJobName = (stage: string, component: Component): string =>
  `Deploy ${stage} (${component})`;

/** The dev deploy jobs that vouch for a prod deployment of `component`. */
export const vouchingJobs = (component: Component): string[] =>
  component === 'full'
    ? [deployJobName('dev', 'full')]
    : [deployJobName('dev', 'full'), deployJobName('dev', 'lambdas')];

interface WorkflowRun {
  id: number;
  head_sha: string;
  event: string;
  status: string;
  conclusion: string | null;
  html_url: string;
}

interface Job {
  name: string;
  conclusion: string | null;
}

export interface Vouch {
  run: { id: number; url: string };
  job: string;
}

export const DEPLOY_WORKFLOW = 'deploy.yml';

/** The newest passed dev deployment of `sha` that vouches for `component`, if any. */
export const findDevDeployment = async (
  api: GitHubApi,
  { repository, sha, component }: { repository: string; sha: string; component: Component },
): Promise<Vouch | undefined> => {
  const { workflow_runs: runs } = await api.json<{ workflow_runs: WorkflowRun[] }>(
    `/repos/${repository}/actions/workflows/${DEPLOY_WORKFLOW}/runs` +
      `?head_sha=${sha}&status=success&event=workflow_dispatch&per_page=100`,
  );
  const accepted = vouchingJobs(component);
  // The query filters already; each field is checked again rather than trusted.
  const passed = runs.filter(
    (run) =>
      run.head_sha === sha &&
      run.event === 'workflow_dispatch' &&
      run.status === 'completed' &&
      run.conclusion === 'success',
  );
  for (const run of passed) {
    const { jobs } = await api.json<{ jobs: Job[] }>(
      `/repos/${repository}/actions/runs/${run.id}/jobs?filter=latest&per_page=100`,
    );
    const job = jobs.find((j) => accepted.includes(j.name) && j.conclusion === 'success');
    if (job) return { run: { id: run.id, url: run.html_url }, job: job.name };
  }
  return undefined;
};
