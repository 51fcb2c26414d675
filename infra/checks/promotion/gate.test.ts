/**
 * The promotion gate as the deploy workflow runs it — `node infra/checks/promotion/cli.ts`, no
 * install — against a stub of GitHub's REST API on 127.0.0.1, in the shapes of "List workflow
 * runs for a workflow" and "List jobs for a workflow run"
 * (https://docs.github.com/en/rest/actions/workflow-runs, https://docs.github.com/en/rest/actions/workflow-jobs).
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '#infra/aws/constructs/function-factory.ts';

const SHA = 'a'.repeat(40);
const OTHER_SHA = 'b'.repeat(40);
const REPOSITORY = 'octo/iot-playground';

interface StubRun {
  id: number;
  head_sha: string;
  event?: string;
  status?: string;
  conclusion?: string;
  jobs: { name: string; conclusion: string }[];
}

let runs: StubRun[] = [];
/** A stub that answers every run, whatever head_sha was asked for. */
let ignoreFilter = false;
const requests: { url: string; authorization?: string }[] = [];
let apiUrl = '';
const server = createServer((request: IncomingMessage, response) => {
  const url = new URL(request.url ?? '/', 'http://stub');
  requests.push({ url: url.pathname + url.search, authorization: request.headers.authorization });
  const answer = (body: unknown) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };
  if (url.pathname === `/repos/${REPOSITORY}/actions/workflows/deploy.yml/runs`) {
    // Like GitHub: filtered by head_sha and status=success.
    const chosen = ignoreFilter
      ? runs
      : runs.filter(
          (run) =>
            run.head_sha === url.searchParams.get('head_sha') &&
            (run.conclusion ?? 'success') === url.searchParams.get('status'),
        );
    return answer({
      total_count: chosen.length,
      workflow_runs: chosen.map((run) => ({
        id: run.id,
        head_sha: run.head_sha,
        event: run.event ?? 'workflow_dispatch',
        status: run.status ?? 'completed',
        conclusion: run.conclusion ?? 'success',
        html_url: `https://github.com/${REPOSITORY}/actions/runs/${run.id}`,
      })),
    });
  }
  const jobs = /^\/repos\/[^/]+\/[^/]+\/actions\/runs\/(\d+)\/jobs$/.exec(url.pathname);
  const run = jobs && runs.find((r) => r.id === Number(jobs[1]));
  if (run) return answer({ total_count: run.jobs.length, jobs: run.jobs });
  response.writeHead(404, { 'content-type': 'application/json' });
  response.end('{"message":"Not Found"}');
});

let summaryDir = '';
beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  summaryDir = mkdtempSync(join(tmpdir(), 'promotion-gate-'));
});
afterAll(() => {
  server.close();
  rmSync(summaryDir, { recursive: true, force: true });
});
beforeEach(() => {
  runs = [];
  ignoreFilter = false;
  requests.length = 0;
});

let summaries = 0;
/** Runs the gate as the workflow does; its exit code, output and job summary. */
const gate = async (stage: string, component: string) => {
  const summary = join(summaryDir, `summary-${++summaries}.md`);
  const result = await promisify(execFile)(
    process.execPath,
    [join(REPO_ROOT, 'infra/checks/promotion/cli.ts')],
    {
      env: {
        PATH: process.env.PATH,
        STAGE: stage,
        COMPONENT: component,
        GITHUB_REPOSITORY: REPOSITORY,
        GITHUB_SHA: SHA,
        GITHUB_TOKEN: 'ghs_test',
        GITHUB_API_URL: apiUrl,
        GITHUB_STEP_SUMMARY: summary,
      },
    },
  ).then(
    ({ stdout, stderr }) => ({ code: 0, out: stdout + stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      out: error.stdout + error.stderr,
    }),
  );
  const written = (() => {
    try {
      return readFileSync(summary, 'utf8');
    } catch {
      return '';
    }
  })();
  return { ...result, summary: written };
};

const devRun = (id: number, component: string, overrides: Partial<StubRun> = {}): StubRun => ({
  id,
  head_sha: SHA,
  jobs: [
    { name: 'Promotion gate', conclusion: 'success' },
    { name: 'Test', conclusion: 'success' },
    { name: `Plan dev (${component})`, conclusion: 'success' },
    { name: `Deploy dev (${component})`, conclusion: 'success' },
  ],
  ...overrides,
});

describe('promotion gate', () => {
  it('lets dev through without asking GitHub', async () => {
    expect(await gate('dev', 'full')).toMatchObject({ code: 0 });
    expect(requests).toEqual([]);
  });

  it('lets prod full through after a passed dev full deployment of the same commit', async () => {
    runs = [devRun(7, 'full')];
    const result = await gate('prod', 'full');
    expect(result.code).toBe(0);
    expect(result.summary).toContain(`https://github.com/${REPOSITORY}/actions/runs/7`);
    expect(result.summary).toContain('`Deploy dev (full)`');
    expect(requests[0]).toEqual({
      url: `/repos/${REPOSITORY}/actions/workflows/deploy.yml/runs?head_sha=${SHA}&status=success&event=workflow_dispatch&per_page=100`,
      authorization: 'Bearer ghs_test',
    });
  });

  it('lets prod lambdas through after a dev lambdas or full deployment', async () => {
    runs = [devRun(8, 'lambdas')];
    expect((await gate('prod', 'lambdas')).code).toBe(0);
    runs = [devRun(9, 'full')];
    expect((await gate('prod', 'lambdas')).code).toBe(0);
  });

  it.each([
    ['no deployment of the commit at all', [] as StubRun[]],
    ['a dev deployment of another commit', [devRun(1, 'full', { head_sha: OTHER_SHA })]],
    ['a failed dev deployment', [devRun(2, 'full', { conclusion: 'failure' })]],
    [
      'a dev deployment of lambdas only (the dashboards were never checked)',
      [devRun(3, 'lambdas')],
    ],
    [
      'a passed run whose dev deploy job was skipped',
      [
        devRun(4, 'full', {
          jobs: [{ name: 'Deploy dev (full)', conclusion: 'skipped' }],
        }),
      ],
    ],
    [
      'an earlier prod deployment of the commit',
      [devRun(5, 'full', { jobs: [{ name: 'Deploy prod (full)', conclusion: 'success' }] })],
    ],
  ])('stops prod full after %s', async (_what, given) => {
    runs = given;
    const result = await gate('prod', 'full');
    expect(result.code).toBe(1);
    expect(result.summary).toContain('Promotion gate: stopped');
    expect(result.out).toContain('::error::');
  });

  it('does not trust the API’s filter: a run of another commit vouches for nothing', async () => {
    runs = [devRun(6, 'full', { head_sha: OTHER_SHA })];
    ignoreFilter = true;
    expect((await gate('prod', 'full')).code).toBe(1);
  });

  it('fails with usage for an unknown stage', async () => {
    expect((await gate('staging', 'full')).code).toBe(2);
  });
});
