/**
 * `npm run plan:bundles -- --assembly cdk.out --stack IotPlayground-<stage>
 *   [--deployed-template <file>] [--since-deployment <environment>] [--summary <file.md>]`
 * Prints the Lambda bundles' hashes beside the deployed stack's, and the package-lock.json
 * changes since the environment's last successful deployment (GitHub's deployments, with
 * GITHUB_TOKEN and GITHUB_REPOSITORY), as Markdown; `--summary` appends it to a file. Exit 0,
 * 2 on usage.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { gitHubApi } from '../github-api.ts';
import {
  bundleRows,
  bundlesMarkdown,
  dependenciesMarkdown,
  dependencyChanges,
  lastDeployedCommit,
} from './bundles.ts';

const { values } = parseArgs({
  options: {
    assembly: { type: 'string' },
    stack: { type: 'string' },
    'deployed-template': { type: 'string' },
    'since-deployment': { type: 'string' },
    summary: { type: 'string' },
  },
});
if (!values.assembly || !values.stack) {
  console.error('Usage: npm run plan:bundles -- --assembly <dir> --stack <name> [...]');
  process.exit(2);
}

const deployedFile = values['deployed-template'];
// No file: the stack has never been deployed. GetTemplate may answer a template as a string.
const deployed =
  deployedFile && existsSync(deployedFile)
    ? ((raw: unknown) => (typeof raw === 'string' ? JSON.parse(raw) : raw))(
        JSON.parse(readFileSync(deployedFile, 'utf8')),
      )
    : undefined;
const sections = [
  bundlesMarkdown(values.stack, bundleRows(values.assembly, values.stack, deployed)),
];

const environment = values['since-deployment'];
if (environment) {
  const repository = process.env.GITHUB_REPOSITORY ?? '';
  const api = gitHubApi();
  const sha = await lastDeployedCommit(api, repository, environment);
  const before =
    sha === undefined
      ? undefined
      : JSON.parse(await api.text(`/repos/${repository}/contents/package-lock.json?ref=${sha}`));
  const after = JSON.parse(readFileSync('package-lock.json', 'utf8'));
  sections.push(
    dependenciesMarkdown(
      sha === undefined ? undefined : { sha, environment },
      before === undefined ? undefined : dependencyChanges(before, after),
    ),
  );
}

const markdown = `${sections.join('\n\n')}\n`;
console.log(markdown);
if (values.summary) appendFileSync(values.summary, markdown);
