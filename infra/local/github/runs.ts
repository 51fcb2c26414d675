/**
 * Workflow runs that go through GitHub's states on their own: `queued`, then `in_progress`, then
 * `completed` with a conclusion, a few seconds apart (the timings are options). A run's state is
 * read off the clock, so nothing runs in the background. Planned conclusions make runs fail.
 * https://docs.github.com/en/rest/actions/workflow-runs#get-a-workflow-run
 */
import type { WorkflowDefinition } from './workflows.ts';

export interface RunTimings {
  /** How long a run stays `queued`. */
  queuedMs: number;
  /** How long it is `in_progress` before it completes. */
  inProgressMs: number;
}

export const DEFAULT_RUN_TIMINGS: RunTimings = { queuedMs: 2_000, inProgressMs: 10_000 };

/** Conclusions a completed run can have (GitHub's `conclusion` of a workflow run). */
export const CONCLUSIONS = [
  'success',
  'failure',
  'cancelled',
  'timed_out',
  'startup_failure',
  'neutral',
  'skipped',
  'stale',
  'action_required',
] as const;
export type Conclusion = (typeof CONCLUSIONS)[number];

interface StoredRun {
  id: number;
  runNumber: number;
  workflow: WorkflowDefinition;
  displayTitle: string;
  headBranch: string;
  inputs: Record<string, string>;
  actor: string;
  createdAt: number;
  conclusion: Conclusion;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export class Runs {
  private readonly runs: StoredRun[] = [];
  private readonly planned: Conclusion[] = [];
  private nextId = 9_000_000_001;

  constructor(
    private readonly repository: string,
    private readonly apiUrl: () => string,
    private readonly webUrl: () => string,
    private readonly timings: RunTimings,
    private readonly now: () => number,
  ) {}

  /** The next `count` runs end with `conclusion` instead of `success`. */
  planConclusion(conclusion: Conclusion, count: number): void {
    for (let i = 0; i < count; i++) this.planned.push(conclusion);
  }

  clearPlans(): void {
    this.planned.length = 0;
  }

  start(run: Omit<StoredRun, 'id' | 'runNumber' | 'createdAt' | 'conclusion'>): number {
    const id = this.nextId++;
    this.runs.push({
      ...run,
      id,
      runNumber: this.runs.filter((r) => r.workflow.id === run.workflow.id).length + 1,
      createdAt: this.now(),
      conclusion: this.planned.shift() ?? 'success',
    });
    return id;
  }

  /** Every run's inputs and when it was created and completes (epoch ms), oldest first. */
  timeline(): {
    id: number;
    inputs: Record<string, string>;
    createdAt: number;
    completesAt: number;
  }[] {
    const length = this.timings.queuedMs + this.timings.inProgressMs;
    return this.runs.map((run) => ({
      id: run.id,
      inputs: run.inputs,
      createdAt: run.createdAt,
      completesAt: run.createdAt + length,
    }));
  }

  /** The run as GitHub's REST API shows it, or undefined. */
  get(id: number) {
    const run = this.runs.find((r) => r.id === id);
    return run && this.view(run);
  }

  /** The runs of a workflow, newest first, filtered as `GET .../workflows/{id}/runs` filters. */
  list(
    workflowId: number,
    filter: { event?: string; branch?: string; status?: string; created?: (ms: number) => boolean },
  ) {
    return this.runs
      .filter((run) => run.workflow.id === workflowId)
      .map((run) => ({ run, view: this.view(run) }))
      .filter(
        ({ run, view }) =>
          (filter.event === undefined || filter.event === 'workflow_dispatch') &&
          (filter.branch === undefined || filter.branch === run.headBranch) &&
          (filter.status === undefined ||
            filter.status === view.status ||
            filter.status === view.conclusion) &&
          (filter.created === undefined || filter.created(run.createdAt)),
      )
      .map(({ view }) => view)
      .reverse();
  }

  private view(run: StoredRun) {
    const startedAt = run.createdAt + this.timings.queuedMs;
    const completedAt = startedAt + this.timings.inProgressMs;
    const now = this.now();
    const status = now < startedAt ? 'queued' : now < completedAt ? 'in_progress' : 'completed';
    const api = `${this.apiUrl()}/repos/${this.repository}`;
    return {
      id: run.id,
      name: run.workflow.name,
      display_title: run.displayTitle,
      run_number: run.runNumber,
      run_attempt: 1,
      event: 'workflow_dispatch',
      status,
      conclusion: status === 'completed' ? run.conclusion : null,
      workflow_id: run.workflow.id,
      path: `.github/workflows/${run.workflow.file}`,
      head_branch: run.headBranch,
      actor: { login: run.actor },
      url: `${api}/actions/runs/${run.id}`,
      html_url: `${this.webUrl()}/${this.repository}/actions/runs/${run.id}`,
      created_at: iso(run.createdAt),
      run_started_at: iso(startedAt),
      updated_at: iso(Math.min(now, status === 'completed' ? completedAt : now)),
    };
  }
}
