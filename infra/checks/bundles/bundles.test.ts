/**
 * The plan job's code summary: bundle hashes against the deployed template, and the lock file's
 * changes since the last successful deployment, found through a stub of GitHub's deployments and
 * contents API (https://docs.github.com/en/rest/deployments/deployments,
 * https://docs.github.com/en/rest/deployments/statuses, https://docs.github.com/en/rest/repos/contents).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '#infra/aws/constructs/function-factory.ts';
import { bundleRows, codeDigest, dependencyChanges } from './bundles.ts';

const STACK = 'IotPlayground-dev';
const DEPLOYED_SHA = 'c0ffee'.padEnd(40, '0');

let dir = '';
const fn = (name: string, asset: string) => ({
  Type: 'AWS::Lambda::Function',
  Properties: { Code: { S3Bucket: 'b', S3Key: `${asset}.zip` } },
  Metadata: {
    'aws:cdk:path': `${STACK}/${name}/Function/Resource`,
    'aws:asset:path': `asset.${asset}`,
  },
});
const lockBefore = {
  packages: {
    '': { name: 'x' },
    'node_modules/fflate': { version: '0.8.2', integrity: 'sha512-a' },
    'node_modules/left-pad': { version: '1.0.0', integrity: 'sha512-l', dev: true },
    'node_modules/same': { version: '1.0.0', integrity: 'sha512-s' },
    'node_modules/swapped': { version: '2.0.0', integrity: 'sha512-one' },
  },
};
const lockAfter = {
  packages: {
    '': { name: 'x' },
    'node_modules/fflate': { version: '0.8.3', integrity: 'sha512-b' },
    'node_modules/same': { version: '1.0.0', integrity: 'sha512-s' },
    'node_modules/swapped': { version: '2.0.0', integrity: 'sha512-two' },
    'node_modules/vitest': { version: '4.1.12', integrity: 'sha512-v', dev: true },
  },
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bundles-'));
  const assembly = join(dir, 'cdk.out');
  for (const [asset, code] of [
    ['aaa111', 'export const handler = () => 1;'],
    ['bbb222', 'export const handler = () => 2;'],
  ] as const) {
    mkdirSync(join(assembly, `asset.${asset}`), { recursive: true });
    writeFileSync(join(assembly, `asset.${asset}`, 'index.mjs'), code);
    writeFileSync(join(assembly, `asset.${asset}`, 'index.mjs.map'), '{"version":3}');
  }
  writeFileSync(
    join(assembly, `${STACK}.template.json`),
    JSON.stringify({
      Resources: {
        IngestFn: fn('ingest', 'aaa111'),
        QueryFn: fn('sensorQuery', 'bbb222'),
        Inline: { Type: 'AWS::Lambda::Function', Properties: { Code: { ZipFile: 'x' } } },
        Table: { Type: 'AWS::DynamoDB::Table', Properties: {} },
      },
    }),
  );
  writeFileSync(
    join(dir, 'deployed.json'),
    // As the AWS CLI prints `get-template --query TemplateBody --output json`.
    JSON.stringify({
      Resources: {
        IngestFn: fn('ingest', 'aaa111'),
        QueryFn: fn('sensorQuery', 'old999'),
        GoneFn: fn('gone', 'ddd444'),
      },
    }),
  );
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(lockAfter));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bundle rows', () => {
  it('hashes each bundle’s code and compares its asset with the deployed one', () => {
    const deployed = JSON.parse(readFileSync(join(dir, 'deployed.json'), 'utf8'));
    const rows = bundleRows(join(dir, 'cdk.out'), STACK, deployed);
    const code = 'export const handler = () => 1;';
    const expected = createHash('sha256').update(`index.mjs\0${code.length}\0`).update(code);
    expect(rows).toEqual([
      expect.objectContaining({
        function: 'ingest/Function',
        asset: 'aaa111',
        codeSha256: expected.digest('hex'),
        codeBytes: code.length,
        change: 'unchanged',
      }),
      expect.objectContaining({
        function: 'sensorQuery/Function',
        change: 'changed',
        deployedAsset: 'old999',
      }),
      expect.objectContaining({ logicalId: 'Inline', change: 'inline' }),
      expect.objectContaining({ logicalId: 'GoneFn', change: 'removed' }),
    ]);
  });

  it('calls every bundle new when nothing is deployed', () => {
    const rows = bundleRows(join(dir, 'cdk.out'), STACK, undefined);
    expect(rows.filter((r) => r.asset).map((r) => r.change)).toEqual(['new', 'new']);
  });

  it('leaves source maps out of the code hash', () => {
    const before = codeDigest(join(dir, 'cdk.out', 'asset.aaa111'));
    writeFileSync(join(dir, 'cdk.out', 'asset.aaa111', 'index.mjs.map'), '{"changed":true}');
    expect(codeDigest(join(dir, 'cdk.out', 'asset.aaa111'))).toEqual(before);
  });
});

describe('dependency changes', () => {
  it('lists updates, additions, removals and same-version content changes, production first', () => {
    expect(dependencyChanges(lockBefore, lockAfter)).toEqual([
      { path: 'fflate', before: '0.8.2', after: '0.8.3', scope: 'prod' },
      { path: 'swapped', before: '2.0.0', after: '2.0.0 (other integrity)', scope: 'prod' },
      { path: 'left-pad', before: '1.0.0', scope: 'dev' },
      { path: 'vitest', after: '4.1.12', scope: 'dev' },
    ]);
  });
});

describe('npm run plan:bundles against a stub GitHub', () => {
  const served: string[] = [];
  let deployments: { id: number; sha: string; state: string }[] = [];
  let apiUrl = '';
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://stub');
    served.push(url.pathname + url.search);
    const json = (body: unknown) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (url.pathname === '/repos/octo/repo/deployments') {
      return json(deployments.map(({ id, sha }) => ({ id, sha })));
    }
    const statuses = /^\/repos\/octo\/repo\/deployments\/(\d+)\/statuses$/.exec(url.pathname);
    if (statuses) {
      const deployment = deployments.find((d) => d.id === Number(statuses[1]));
      return json(deployment ? [{ state: deployment.state }] : []);
    }
    if (
      url.pathname === '/repos/octo/repo/contents/package-lock.json' &&
      url.searchParams.get('ref') === DEPLOYED_SHA &&
      request.headers.accept === 'application/vnd.github.raw+json'
    ) {
      response.writeHead(200, { 'content-type': 'application/vnd.github.raw+json' });
      return response.end(JSON.stringify(lockBefore));
    }
    response.writeHead(404);
    response.end('{"message":"Not Found"}');
  });
  beforeAll(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server.close());

  const run = async () => {
    const summary = join(dir, `summary-${Date.now()}.md`);
    await promisify(execFile)(
      process.execPath,
      [
        join(REPO_ROOT, 'infra/checks/bundles/cli.ts'),
        '--assembly',
        join(dir, 'cdk.out'),
        '--stack',
        STACK,
        '--deployed-template',
        join(dir, 'deployed.json'),
        '--since-deployment',
        'dev-deploy',
        '--summary',
        summary,
      ],
      {
        cwd: dir,
        env: {
          PATH: process.env.PATH,
          GITHUB_REPOSITORY: 'octo/repo',
          GITHUB_TOKEN: 'ghs_test',
          GITHUB_API_URL: apiUrl,
        },
      },
    );
    return readFileSync(summary, 'utf8');
  };

  it('compares with the newest deployment whose final status is success', async () => {
    deployments = [
      { id: 3, sha: 'f'.repeat(40), state: 'failure' },
      { id: 2, sha: DEPLOYED_SHA, state: 'success' },
      { id: 1, sha: 'e'.repeat(40), state: 'success' },
    ];
    const summary = await run();
    expect(served).toContain('/repos/octo/repo/deployments?environment=dev-deploy&per_page=30');
    expect(summary).toContain('### Lambda bundles of IotPlayground-dev');
    expect(summary).toContain('| sensorQuery/Function | `bbb222` |');
    expect(summary).toContain('**changed** (was `old999`)');
    expect(summary).toContain(
      '### Dependency changes since c0ffee0 (the last successful deployment to dev-deploy)',
    );
    expect(summary).toContain('| fflate | 0.8.2 | 0.8.3 | prod |');
    expect(summary).toContain('| swapped | 2.0.0 | 2.0.0 (other integrity) | prod |');
  });

  it('says so when the stage was never deployed', async () => {
    deployments = [{ id: 9, sha: 'f'.repeat(40), state: 'failure' }];
    expect(await run()).toContain('No earlier successful deployment of this stage');
  });
});
