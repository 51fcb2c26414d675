/**
 * The GitHub stand-in held to GitHub's REST documentation, over HTTP, against the repository's
 * real deploy workflow:
 * - dispatch: https://docs.github.com/en/rest/actions/workflows#create-a-workflow-dispatch-event
 *   (`ref` required, `inputs` as the workflow declares them, at most 25; `return_run_details`
 *   answers 200 `{workflow_run_id, run_url, html_url}`, else 204; fine-grained tokens need
 *   "Actions" repository permissions (write))
 * - inputs: https://docs.github.com/en/actions/writing-workflows/workflow-syntax-for-github-actions#onworkflow_dispatchinputs
 * - runs: https://docs.github.com/en/rest/actions/workflow-runs#get-a-workflow-run and
 *   #list-workflow-runs-for-a-workflow (`status` queued → in_progress → completed, `conclusion`
 *   null until completed; `event`, `created` filters; "Actions" (read))
 * - the run's name: https://docs.github.com/en/actions/writing-workflows/workflow-syntax-for-github-actions#run-name
 * - authentication: https://docs.github.com/en/rest/authentication/authenticating-to-the-rest-api
 *   (401 "Bad credentials"; a repository the token cannot see is 404) and the User-Agent rule
 *   https://docs.github.com/en/rest/using-the-rest-api/getting-started-with-the-rest-api#user-agent
 */
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalGitHub, startLocalGitHub } from './index.ts';

const WORKFLOWS = fileURLToPath(new URL('../../../.github/workflows/', import.meta.url));
const REPO = 'owner/app';
const WRITER = 'github_pat_writer_0123456789abcdef';
const READER = 'github_pat_reader_0123456789abcdef';
const OTHER_REPO = 'github_pat_other_0123456789abcdef';

let clock = Date.UTC(2030, 0, 1, 12);
let github: LocalGitHub;

beforeAll(async () => {
  github = await startLocalGitHub({
    repository: REPO,
    workflowsDir: WORKFLOWS,
    workflows: ['deploy.yml', 'ci.yml'],
    tokens: [
      { token: WRITER, permissions: { actions: 'write', metadata: 'read' }, repositories: [REPO] },
      { token: READER, permissions: { actions: 'read', metadata: 'read' }, repositories: [REPO] },
      {
        token: OTHER_REPO,
        permissions: { actions: 'write', metadata: 'read' },
        repositories: ['owner/other'],
      },
    ],
    runTimings: { queuedMs: 1_000, inProgressMs: 5_000 },
    now: () => clock,
  });
});
afterAll(() => github?.stop());

const call = async (
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
) => {
  const response = await fetch(`${github.url}${path}`, {
    method,
    headers: {
      accept: 'application/vnd.github+json',
      'user-agent': 'test',
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as any) };
};

const dispatch = (body: unknown, token = WRITER, workflow = 'deploy.yml') =>
  call('POST', `/repos/${REPO}/actions/workflows/${workflow}/dispatches`, { token, body });

const VALID = { stage: 'dev', component: 'full', correlation_id: 'c-1' };

describe('authentication', () => {
  it('refuses a missing or unknown token with 401 Bad credentials', async () => {
    for (const token of [undefined, 'github_pat_unknown']) {
      const answer = await call('GET', `/repos/${REPO}`, token ? { token } : {});
      expect(answer.status).toBe(401);
      expect(answer.body.message).toBe('Bad credentials');
    }
  });

  it('hides a repository the token cannot reach (404), refuses a dispatch without actions:write (403)', async () => {
    expect((await call('GET', `/repos/${REPO}`, { token: OTHER_REPO })).status).toBe(404);
    const readOnly = await dispatch({ ref: 'main', inputs: VALID }, READER);
    expect(readOnly.status).toBe(403);
    expect(readOnly.body.message).toBe('Resource not accessible by personal access token');
  });

  it('refuses a request without a User-Agent', async () => {
    // fetch always sends one: a bare HTTP request does not.
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(`${github.url}/repos/${REPO}`, {
        headers: { authorization: `Bearer ${WRITER}` },
      });
      request.on('response', (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
      request.end();
    });
    expect(status).toBe(403);
  });
});

describe('the repository', () => {
  it('says its default branch', async () => {
    const answer = await call('GET', `/repos/${REPO}`, { token: WRITER });
    expect(answer).toMatchObject({
      status: 200,
      body: { full_name: REPO, default_branch: 'main' },
    });
  });
});

describe('dispatching deploy.yml', () => {
  it('answers 200 with the run’s id and URLs when asked for its details, 204 otherwise', async () => {
    const detailed = await dispatch({ ref: 'main', inputs: VALID, return_run_details: true });
    const plain = await dispatch({ ref: 'refs/heads/main', inputs: VALID });

    expect(detailed.status).toBe(200);
    expect(Object.keys(detailed.body).sort()).toEqual(['html_url', 'run_url', 'workflow_run_id']);
    expect(detailed.body.run_url).toBe(
      `${github.url}/repos/${REPO}/actions/runs/${detailed.body.workflow_run_id}`,
    );
    expect(plain).toEqual({ status: 204, body: undefined });
  });

  it.each([
    [{ inputs: VALID }, /"ref" wasn't supplied/],
    [{ ref: 'nope', inputs: VALID }, /No ref found for: nope/],
    [{ ref: 'main', inputs: { ...VALID, extra: 'x' } }, /Unexpected inputs provided: \["extra"\]/],
    [{ ref: 'main', inputs: { ...VALID, stage: 'qa' } }, /'qa' for input 'stage' not in the list/],
    [{ ref: 'main', inputs: { ...VALID, component: 'everything' } }, /not in the list/],
    [
      { ref: 'main', inputs: VALID, return_run_detail: true },
      /"return_run_detail" is not a permitted key/,
    ],
    [
      {
        ref: 'main',
        inputs: Object.fromEntries(Array.from({ length: 26 }, (_, i) => [`i${i}`, 'x'])),
      },
      /up to 25/,
    ],
  ])('refuses %j with 422', async (body, message) => {
    const before = github.dispatches().length;
    const answer = await dispatch(body);
    expect(answer.status).toBe(422);
    expect(answer.body.message).toMatch(message);
    expect(github.dispatches()).toHaveLength(before);
  });

  it('as a server from before return_run_details, refuses the key like any unknown one', async () => {
    const older = await startLocalGitHub({
      repository: REPO,
      workflowsDir: WORKFLOWS,
      workflows: ['deploy.yml'],
      tokens: [{ token: WRITER, permissions: { actions: 'write' }, repositories: [REPO] }],
      returnRunDetails: false,
    });
    try {
      const answer = await fetch(
        `${older.url}/repos/${REPO}/actions/workflows/deploy.yml/dispatches`,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${WRITER}`, 'user-agent': 'test' },
          body: JSON.stringify({ ref: 'main', inputs: VALID, return_run_details: true }),
        },
      );
      expect(answer.status).toBe(422);
      expect(((await answer.json()) as { message: string }).message).toBe(
        '"return_run_details" is not a permitted key.',
      );
      expect(older.dispatches()).toHaveLength(0);
    } finally {
      await older.stop();
    }
  });

  it('refuses a workflow without workflow_dispatch (422) and an unknown one (404)', async () => {
    expect((await dispatch({ ref: 'main' }, WRITER, 'ci.yml')).status).toBe(422);
    expect((await dispatch({ ref: 'main' }, WRITER, 'nothing.yml')).status).toBe(404);
  });

  it('fills defaults of inputs not given, as the workflow declares them', async () => {
    await dispatch({ ref: 'main', inputs: {} });
    expect(github.dispatches().at(-1)?.inputs).toEqual({
      stage: 'dev',
      component: 'lambdas',
      correlation_id: '',
    });
  });
});

describe('runs', () => {
  it('go queued → in_progress → completed, the conclusion null until then, named by run-name', async () => {
    const { body } = await dispatch({
      ref: 'main',
      inputs: { ...VALID, correlation_id: 'c-run' },
      return_run_details: true,
    });
    const run = async () =>
      (await call('GET', `/repos/${REPO}/actions/runs/${body.workflow_run_id}`, { token: READER }))
        .body;

    expect(await run()).toMatchObject({
      status: 'queued',
      conclusion: null,
      event: 'workflow_dispatch',
      name: 'Deploy',
      display_title: 'Deploy dev (full) c-run',
      head_branch: 'main',
      html_url: body.html_url,
    });
    clock += 1_000;
    expect(await run()).toMatchObject({ status: 'in_progress', conclusion: null });
    clock += 5_000;
    expect(await run()).toMatchObject({ status: 'completed', conclusion: 'success' });
  });

  it('end with a planned conclusion when told to fail', async () => {
    github.failNextRuns(1, 'cancelled');
    const { body } = await dispatch({ ref: 'main', inputs: VALID, return_run_details: true });
    clock += 10_000;
    const run = await call('GET', `/repos/${REPO}/actions/runs/${body.workflow_run_id}`, {
      token: READER,
    });
    expect(run.body).toMatchObject({ status: 'completed', conclusion: 'cancelled' });
  });

  it('are listed per workflow, newest first, filtered by event and creation time', async () => {
    const since = new Date(clock).toISOString().replace(/\.\d{3}Z$/, 'Z');
    clock += 1_000;
    await dispatch({ ref: 'main', inputs: { ...VALID, correlation_id: 'c-listed' } });
    const query = new URLSearchParams({ event: 'workflow_dispatch', created: `>=${since}` });
    const listed = await call('GET', `/repos/${REPO}/actions/workflows/deploy.yml/runs?${query}`, {
      token: READER,
    });

    expect(listed.status).toBe(200);
    expect(listed.body.total_count).toBe(1);
    expect(listed.body.workflow_runs[0].display_title).toBe('Deploy dev (full) c-listed');
    const old = new URLSearchParams({ created: `<${since}` });
    const before = await call('GET', `/repos/${REPO}/actions/workflows/deploy.yml/runs?${old}`, {
      token: READER,
    });
    expect(before.body.workflow_runs.map((run: any) => run.display_title)).not.toContain(
      'Deploy dev (full) c-listed',
    );
  });

  it('answer 404 for a run that does not exist', async () => {
    expect((await call('GET', `/repos/${REPO}/actions/runs/1`, { token: READER })).status).toBe(
      404,
    );
  });
});
