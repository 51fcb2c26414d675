/**
 * The GitHub client and the credential against the local stack's GitHub and Secrets Manager
 * stand-ins (held to GitHub's and AWS's documentation in their own tests): a fine-grained token,
 * and a GitHub App minting an installation token narrowed to the repository and actions:write.
 */
import { generateKeyPairSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  type LocalGitHub,
  startLocalGitHub,
  startLocalSecretsManager,
} from '#infra/local/index.ts';
import { parseCredential, tokenSource } from './credential.ts';
import { GitHubDeployWorkflow, GitHubError, webUrlOf } from './github.ts';

const REPO = 'owner/app';
const TOKEN = 'github_pat_0123456789abcdefghij_panel';
const WORKFLOWS = fileURLToPath(new URL('../../.github/workflows/', import.meta.url));
const app = generateKeyPairSync('rsa', { modulusLength: 2048 });
const narrowApp = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = (key: typeof app) => key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

let github: LocalGitHub;
let secrets: Awaited<ReturnType<typeof startLocalSecretsManager>>;
let client: SecretsManagerClient;

beforeAll(async () => {
  github = await startLocalGitHub({
    repository: REPO,
    workflowsDir: WORKFLOWS,
    workflows: ['deploy.yml'],
    tokens: [
      { token: TOKEN, permissions: { actions: 'write', metadata: 'read' }, repositories: [REPO] },
    ],
    apps: [
      {
        appId: '1001',
        installationId: '77',
        publicKey: app.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        permissions: { actions: 'write', metadata: 'read', contents: 'write' },
        repositories: [REPO, 'owner/other'],
      },
      {
        appId: '1002',
        installationId: '78',
        publicKey: narrowApp.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        permissions: { actions: 'read', metadata: 'read' },
        repositories: [REPO],
      },
    ],
    runTimings: { queuedMs: 60_000, inProgressMs: 60_000 },
  });
  secrets = await startLocalSecretsManager([
    { name: 'pat', value: TOKEN },
    {
      name: 'app',
      value: JSON.stringify({ appId: 1001, installationId: 77, privateKey: pem(app) }),
    },
    {
      name: 'narrow-app',
      value: JSON.stringify({ appId: 1002, installationId: 78, privateKey: pem(narrowApp) }),
    },
  ]);
  client = new SecretsManagerClient({
    endpoint: secrets.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
});
afterAll(async () => {
  client?.destroy();
  await github?.stop();
  await secrets?.stop();
});

const workflowWith = (secretName: string) =>
  new GitHubDeployWorkflow({
    apiUrl: github.url,
    repository: REPO,
    workflow: 'deploy.yml',
    webUrl: github.webUrl,
    token: tokenSource({
      secretId: secrets.arnOf(secretName),
      secrets: client,
      apiUrl: github.url,
      repository: REPO,
      now: Date.now,
    }),
  });

describe('the deploy workflow through GitHub’s REST API', () => {
  it.each(['pat', 'app'])(
    'dispatches, reads and finds its run with the %s credential',
    async (name) => {
      const workflow = workflowWith(name);
      const correlation = `corr-${name}`;

      const dispatched = await workflow.dispatch({
        stage: 'dev',
        component: 'full',
        correlation_id: correlation,
      });

      expect(dispatched.runId).toEqual(expect.any(Number));
      expect(dispatched.htmlUrl).toBe(`${github.webUrl}/${REPO}/actions/runs/${dispatched.runId}`);
      expect(github.dispatches().at(-1)).toEqual({
        workflow: 'deploy.yml',
        ref: 'main',
        inputs: { stage: 'dev', component: 'full', correlation_id: correlation },
      });
      expect(await workflow.getRun(dispatched.runId!)).toMatchObject({
        status: 'queued',
        conclusion: null,
      });
      expect((await workflow.findRun(correlation, Date.now() - 60_000))?.id).toBe(dispatched.runId);
      expect(await workflow.findRun('nobody', Date.now() - 60_000)).toBeUndefined();
    },
  );

  it('says what GitHub refused, with its status', async () => {
    const workflow = workflowWith('pat');
    const error = await workflow
      .dispatch({ stage: 'staging', component: 'full', correlation_id: 'x' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitHubError);
    expect(error).toMatchObject({ status: 422 });
    expect((error as Error).message).toMatch(/^GitHub answered 422: Provided value 'staging'/);
  });

  it('cannot get more from an app than its installation grants', async () => {
    const error = await workflowWith('narrow-app')
      .dispatch({ stage: 'dev', component: 'full', correlation_id: 'x' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 422 });
    expect((error as Error).message).toMatch(/permissions requested are not granted/);
  });
});

describe('a GitHub from before return_run_details', () => {
  it('dispatches again without it, and the run is found by its correlation id', async () => {
    const older = await startLocalGitHub({
      repository: REPO,
      workflowsDir: WORKFLOWS,
      workflows: ['deploy.yml'],
      tokens: [
        { token: TOKEN, permissions: { actions: 'write', metadata: 'read' }, repositories: [REPO] },
      ],
      returnRunDetails: false,
    });
    try {
      const workflow = new GitHubDeployWorkflow({
        apiUrl: older.url,
        repository: REPO,
        workflow: 'deploy.yml',
        webUrl: older.webUrl,
        token: async () => TOKEN,
      });

      const dispatched = await workflow.dispatch({
        stage: 'dev',
        component: 'lambdas',
        correlation_id: 'corr-old',
      });

      expect(dispatched).toEqual({});
      expect(older.dispatches()).toHaveLength(1);
      const run = await workflow.findRun('corr-old', Date.now() - 60_000);
      expect(run?.display_title).toBe('Deploy dev (lambdas) corr-old');
    } finally {
      await older.stop();
    }
  });
});

describe('the credential’s forms', () => {
  it('takes a token, {"token"} or a GitHub App, and refuses anything else', () => {
    expect(parseCredential(` ${TOKEN}\n`)).toEqual({ kind: 'token', token: TOKEN });
    expect(parseCredential(JSON.stringify({ token: 'abc' }))).toEqual({
      kind: 'token',
      token: 'abc',
    });
    expect(
      parseCredential(JSON.stringify({ appId: 5, installationId: '6', privateKey: pem(app) })),
    ).toMatchObject({
      kind: 'app',
      appId: '5',
      installationId: '6',
    });
    for (const bad of [
      '',
      'short',
      '{"appId": 5}',
      '{not json',
      'has spaces in it but is long enough',
    ]) {
      expect(() => parseCredential(bad), bad).toThrow(/GitHub credential secret/);
    }
  });

  it('links to github.com for api.github.com, and under the host of GitHub Enterprise', () => {
    expect(webUrlOf('https://api.github.com')).toBe('https://github.com');
    expect(webUrlOf('https://ghe.example.com/api/v3')).toBe('https://ghe.example.com');
  });
});
