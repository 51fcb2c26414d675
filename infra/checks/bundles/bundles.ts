/**
 * What a `cdk diff` does not show a reviewer: the code. For each Lambda function of the
 * synthesized stack, its bundle's hash and size beside the asset the deployed stack runs, and
 * the dependency changes in package-lock.json since the stage's last successful deployment.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { GitHubApi } from '../github-api.ts';

type Template = {
  Resources?: Record<
    string,
    { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }
  >;
};

export type BundleChange = 'new' | 'changed' | 'unchanged' | 'inline' | 'removed';

export interface BundleRow {
  /** The construct path under the stack, e.g. `ingest/Function`. */
  function: string;
  logicalId: string;
  /** The CDK asset id (a hash of the bundle, the S3 object's name). */
  asset?: string;
  /** SHA-256 of the bundle's code files (source maps left out: they do not run). */
  codeSha256?: string;
  codeBytes?: number;
  deployedAsset?: string;
  change: BundleChange;
}

const assetOf = (code: unknown): string | undefined => {
  const key = (code as { S3Key?: unknown } | undefined)?.S3Key;
  return typeof key === 'string' ? key.replace(/\.zip$/, '') : undefined;
};

const functions = (template: Template) =>
  Object.entries(template.Resources ?? {}).filter(([, r]) => r.Type === 'AWS::Lambda::Function');

/** Hash and size of the files of an asset folder, maps excepted, in name order. */
export const codeDigest = (folder: string): { sha256: string; bytes: number } => {
  const hash = createHash('sha256');
  let bytes = 0;
  for (const name of readdirSync(folder).sort()) {
    const path = join(folder, name);
    if (name.endsWith('.map') || !statSync(path).isFile()) continue;
    const content = readFileSync(path);
    hash.update(`${name}\0${content.length}\0`).update(content);
    bytes += content.length;
  }
  return { sha256: hash.digest('hex'), bytes };
};

export const bundleRows = (
  assembly: string,
  stackName: string,
  deployed: Template | undefined,
): BundleRow[] => {
  const template = JSON.parse(
    readFileSync(join(assembly, `${stackName}.template.json`), 'utf8'),
  ) as Template;
  const deployedAssets = new Map(
    functions(deployed ?? {}).map(([id, r]) => [id, assetOf(r.Properties?.Code)]),
  );
  const rows: BundleRow[] = functions(template).map(([logicalId, resource]) => {
    const path = String(resource.Metadata?.['aws:cdk:path'] ?? logicalId)
      .replace(`${stackName}/`, '')
      .replace(/\/Resource$/, '');
    const asset = assetOf(resource.Properties?.Code);
    const folder = resource.Metadata?.['aws:asset:path'];
    const deployedAsset = deployedAssets.get(logicalId);
    if (asset === undefined || typeof folder !== 'string') {
      return { function: path, logicalId, change: 'inline' };
    }
    const { sha256, bytes } = codeDigest(join(assembly, folder));
    const change: BundleChange =
      deployed === undefined || !deployedAssets.has(logicalId)
        ? 'new'
        : deployedAsset === asset
          ? 'unchanged'
          : 'changed';
    return {
      function: path,
      logicalId,
      asset,
      codeSha256: sha256,
      codeBytes: bytes,
      ...(deployedAsset === undefined ? {} : { deployedAsset }),
      change,
    };
  });
  const current = new Set(rows.map((row) => row.logicalId));
  for (const [logicalId, deployedAsset] of deployedAssets) {
    if (!current.has(logicalId)) {
      rows.push({
        function: logicalId,
        logicalId,
        ...(deployedAsset === undefined ? {} : { deployedAsset }),
        change: 'removed',
      });
    }
  }
  return rows;
};

type Lock = {
  packages?: Record<string, { name?: string; version?: string; integrity?: string; dev?: boolean }>;
};

export interface DependencyChange {
  /** The package's place in node_modules (nested copies are their own lines). */
  path: string;
  before?: string;
  after?: string;
  /** `dev`: only in development (never bundled); `prod`: may be bundled into a function. */
  scope: 'prod' | 'dev';
}

const describe = (entry: { version?: string; integrity?: string } | undefined) =>
  entry === undefined ? undefined : (entry.version ?? '(no version)');

export const dependencyChanges = (before: Lock, after: Lock): DependencyChange[] => {
  const old = before.packages ?? {};
  const now = after.packages ?? {};
  const changes: DependencyChange[] = [];
  for (const path of new Set([...Object.keys(old), ...Object.keys(now)])) {
    if (path === '') continue; // the project itself
    const a = old[path];
    const b = now[path];
    if (a?.version === b?.version && a?.integrity === b?.integrity) continue;
    const sameVersion = a !== undefined && b !== undefined && a.version === b.version;
    changes.push({
      path: path.replace(/^node_modules\//, ''),
      ...(a ? { before: describe(a) } : {}),
      // Same version, other content: worth a reviewer's look above everything else.
      ...(b ? { after: sameVersion ? `${describe(b)} (other integrity)` : describe(b) } : {}),
      scope: (b ?? a)?.dev ? 'dev' : 'prod',
    });
  }
  return changes.sort((x, y) =>
    x.scope === y.scope ? x.path.localeCompare(y.path) : x.scope === 'prod' ? -1 : 1,
  );
};

/** The commit of the newest deployment to `environment` whose final status is success. */
export const lastDeployedCommit = async (
  api: GitHubApi,
  repository: string,
  environment: string,
): Promise<string | undefined> => {
  const deployments = await api.json<{ id: number; sha: string }[]>(
    `/repos/${repository}/deployments?environment=${encodeURIComponent(environment)}&per_page=30`,
  );
  for (const deployment of deployments) {
    // Newest status first: the deployment's outcome.
    const [latest] = await api.json<{ state: string }[]>(
      `/repos/${repository}/deployments/${deployment.id}/statuses?per_page=1`,
    );
    if (latest?.state === 'success') return deployment.sha;
  }
  return undefined;
};

const short = (hash: string | undefined, length = 12) => (hash ? hash.slice(0, length) : '—');

export const bundlesMarkdown = (stackName: string, rows: BundleRow[]): string => {
  const lines = [
    `### Lambda bundles of ${stackName}`,
    '',
    '| function | asset | code SHA-256 | KiB | against the deployed stack |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const row of rows) {
    const against =
      row.change === 'changed' ? `**changed** (was \`${short(row.deployedAsset)}\`)` : row.change;
    lines.push(
      `| ${row.function} | \`${short(row.asset)}\` | \`${row.codeSha256 ?? '—'}\` | ` +
        `${row.codeBytes === undefined ? '—' : (row.codeBytes / 1024).toFixed(1)} | ${against} |`,
    );
  }
  return lines.join('\n');
};

export const dependenciesMarkdown = (
  base: { sha: string; environment: string } | undefined,
  changes: DependencyChange[] | undefined,
  limit = 200,
): string => {
  if (base === undefined || changes === undefined) {
    return '### Dependency changes\n\nNo earlier successful deployment of this stage: nothing to compare with.';
  }
  const head = `### Dependency changes since ${base.sha.slice(0, 7)} (the last successful deployment to ${base.environment})`;
  if (changes.length === 0) return `${head}\n\npackage-lock.json is unchanged.`;
  const prod = changes.filter((c) => c.scope === 'prod').length;
  const lines = [
    head,
    '',
    `${changes.length} change(s), ${prod} in production dependencies (what a bundle may contain).`,
    '',
    '| package | before | after | scope |',
    '| --- | --- | --- | --- |',
    ...changes
      .slice(0, limit)
      .map(
        (c) => `| ${c.path} | ${c.before ?? '(new)'} | ${c.after ?? '(removed)'} | ${c.scope} |`,
      ),
  ];
  if (changes.length > limit) lines.push('', `… and ${changes.length - limit} more.`);
  return lines.join('\n');
};
