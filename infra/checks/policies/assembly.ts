/**
 * The stage's stack in a synthesized cloud assembly (`cdk synth` output, cdk.out): its
 * template and the environment CDK resolved (`aws://<account>/<region>` when synthesized with
 * credentials, `unknown-account` / `unknown-region` otherwise).
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { TemplateJson } from '#infra/aws/iam/deployment-requests.ts';

export interface AssemblyStack {
  stackName: string;
  template: TemplateJson;
  account?: string;
  region?: string;
}

interface Manifest {
  artifacts?: Record<
    string,
    {
      type: string;
      environment?: string;
      properties?: { templateFile?: string; stackName?: string };
    }
  >;
}

export class UsageError extends Error {}

export const readAssemblyStack = (directory: string, stackName: string): AssemblyStack => {
  const manifestFile = path.join(directory, 'manifest.json');
  if (!existsSync(manifestFile)) {
    throw new UsageError(`No cloud assembly at ${directory} (run npm run synth first)`);
  }
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
  const entry = Object.entries(manifest.artifacts ?? {}).find(
    ([id, artifact]) =>
      artifact.type === 'aws:cloudformation:stack' &&
      (artifact.properties?.stackName ?? id) === stackName,
  );
  if (entry === undefined) {
    throw new UsageError(`The assembly at ${directory} has no stack ${stackName}`);
  }
  const [id, artifact] = entry;
  const template = JSON.parse(
    readFileSync(
      path.join(directory, artifact.properties?.templateFile ?? `${id}.template.json`),
      'utf8',
    ),
  ) as TemplateJson;
  const [, account, region] = /^aws:\/\/([^/]+)\/(.+)$/.exec(artifact.environment ?? '') ?? [];
  return {
    stackName,
    template,
    ...(account !== undefined && /^\d{12}$/.test(account) ? { account } : {}),
    ...(region !== undefined && region !== 'unknown-region' ? { region } : {}),
  };
};
