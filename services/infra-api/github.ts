/**
 * The few GitHub REST calls the panel makes, on `fetch`: the repository's default branch, the
 * deploy workflow's dispatch, and its runs. The API's base URL is configuration (GITHUB_API_URL),
 * so the local stack points it at its stand-in (infra/local/github).
 * https://docs.github.com/en/rest/actions/workflows#create-a-workflow-dispatch-event
 * https://docs.github.com/en/rest/actions/workflow-runs
 */
import type { WorkflowRun } from './deployment.ts';

/** The REST API version these calls are written against. */
export const GITHUB_API_VERSION = '2022-11-28';
const REQUEST_TIMEOUT_MS = 5_000;

export class GitHubError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'GitHubError';
  }
}

export interface DispatchedRun {
  /** Known when GitHub returns the run's details (`return_run_details`). */
  runId?: number;
  htmlUrl?: string;
}

export interface DeployWorkflow {
  /** Dispatches the workflow on the repository's default branch with exactly `inputs`. */
  dispatch(inputs: Record<string, string>): Promise<DispatchedRun>;
  getRun(runId: number): Promise<WorkflowRun>;
  /** The dispatched run whose name carries `correlationId`, created since `since` (ms). */
  findRun(correlationId: string, since: number): Promise<WorkflowRun | undefined>;
  /** The workflow's page on GitHub (its runs), shown before a run is known. */
  readonly workflowUrl: string;
}

export interface GitHubSettings {
  apiUrl: string;
  /** `owner/name`. */
  repository: string;
  /** The workflow file name, e.g. `deploy.yml`. */
  workflow: string;
  /** Where people see the repository: https://github.com for api.github.com. */
  webUrl: string;
  token: () => Promise<string>;
  fetch?: typeof fetch;
}

/** github.com's pages for api.github.com; GitHub Enterprise serves its API under `/api/v3`. */
export const webUrlOf = (apiUrl: string): string => {
  const url = new URL(apiUrl);
  if (url.hostname === 'api.github.com') return 'https://github.com';
  return `${url.origin}${url.pathname.replace(/\/api\/v3\/?$/, '').replace(/\/$/, '')}`;
};

export class GitHubDeployWorkflow implements DeployWorkflow {
  private defaultBranch?: string;
  private readonly fetch: typeof fetch;
  readonly workflowUrl: string;

  constructor(private readonly settings: GitHubSettings) {
    this.fetch = settings.fetch ?? fetch;
    this.workflowUrl = `${settings.webUrl}/${settings.repository}/actions/workflows/${settings.workflow}`;
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const response = await this.fetch(`${this.settings.apiUrl.replace(/\/$/, '')}${path}`, {
      method,
      headers: {
        accept: 'application/vnd.github+json',
        authorization: `Bearer ${await this.settings.token()}`,
        'x-github-api-version': GITHUB_API_VERSION,
        // GitHub refuses requests without a User-Agent.
        'user-agent': 'iot-playground-infra-api',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      redirect: 'error',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    if (!response.ok) {
      let message = text.slice(0, 200);
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch {
        // Not JSON: the text as it came.
      }
      throw new GitHubError(response.status, `GitHub answered ${response.status}: ${message}`);
    }
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  private repo(path: string): string {
    return `/repos/${this.settings.repository}${path}`;
  }

  private async branch(): Promise<string> {
    this.defaultBranch ??= (
      await this.call<{ default_branch: string }>('GET', this.repo(''))
    ).default_branch;
    return this.defaultBranch;
  }

  async dispatch(inputs: Record<string, string>): Promise<DispatchedRun> {
    const ref = await this.branch();
    const path = this.repo(`/actions/workflows/${this.settings.workflow}/dispatches`);
    type Details = { workflow_run_id: number; run_url: string; html_url: string } | undefined;
    let details: Details;
    try {
      // With `return_run_details` GitHub answers 200 with the run's id and URLs.
      details = await this.call<Details>('POST', path, { ref, inputs, return_run_details: true });
    } catch (error) {
      // A server from before it (GitHub Enterprise Server up to 3.19) refuses the key: nothing
      // was dispatched, so dispatch without it and leave the run to findRun.
      if (!(
        error instanceof GitHubError &&
        error.status === 422 &&
        /return_run_details/.test(error.message)
      )) {
        throw error;
      }
      details = await this.call<Details>('POST', path, { ref, inputs });
    }
    return details ? { runId: details.workflow_run_id, htmlUrl: details.html_url } : {};
  }

  getRun(runId: number): Promise<WorkflowRun> {
    return this.call<WorkflowRun>('GET', this.repo(`/actions/runs/${runId}`));
  }

  async findRun(correlationId: string, since: number): Promise<WorkflowRun | undefined> {
    const created = new Date(since).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const query = new URLSearchParams({
      event: 'workflow_dispatch',
      created: `>=${created}`,
      per_page: '50',
    });
    const page = await this.call<{ workflow_runs: WorkflowRun[] }>(
      'GET',
      this.repo(`/actions/workflows/${this.settings.workflow}/runs?${query}`),
    );
    // The deploy workflow's run-name carries the correlation input: no guessing by time.
    return page.workflow_runs.find((run) => run.display_title?.includes(correlationId));
  }
}
