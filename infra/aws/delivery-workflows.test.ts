/**
 * The delivery workflows, read as text: a deployment checks its region before deploying and
 * proves itself afterwards; destroying needs no deployment settings; actions stay pinned.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './constructs/function-factory.ts';

const workflow = (name: string) =>
  readFileSync(path.join(REPO_ROOT, '.github/workflows', name), 'utf8');

/** Step names in order, each with the text of the step. */
const steps = (text: string): { name: string; text: string }[] =>
  text
    .split(/\n(?= {6}- )/)
    .slice(1)
    .map((step) => ({ name: /(?:name|uses): (.+)/.exec(step)?.[1] ?? '', text: step }));

const indexOf = (all: { name: string }[], pattern: RegExp): number =>
  all.findIndex((step) => pattern.test(step.name));

describe('deploy.yml', () => {
  const all = steps(workflow('deploy.yml'));

  it('checks the deploy role against AWS_REGION before deploying', () => {
    const check = indexOf(all, /Check the deploy role against AWS_REGION/);
    expect(check).toBeGreaterThan(indexOf(all, /configure-aws-credentials/));
    expect(check).toBeLessThan(indexOf(all, /^Deploy$/));
    expect(all[check]!.text).toContain('cdk-hnb659fds-deploy-role-$ACCOUNT-$AWS_REGION');
    expect(all[check]!.text).toContain('exit 1');
  });

  it('smoke-tests the deployed ApiUrl after cdk deploy, failing the job when it fails', () => {
    const smoke = indexOf(all, /Smoke test/);
    expect(smoke).toBeGreaterThan(indexOf(all, /^Deploy$/));
    const { text } = all[smoke]!;
    expect(text).toContain('cdk-outputs.json');
    expect(text).toContain('.ApiUrl');
    expect(text).toMatch(/npm run smoke -- --url "\$API_URL" --expect-grafana/);
    expect(text).not.toMatch(/continue-on-error|\|\| true/);
  });
});

describe('destroy.yml', () => {
  it('destroys with npm run destroy and no CORS or other deployment settings', () => {
    const destroy = steps(workflow('destroy.yml')).find((step) => step.name === 'Destroy');
    expect(destroy?.text).toContain('npm run destroy --');
    expect(destroy?.text).not.toMatch(/corsOrigins|CORS_ORIGINS/);
  });
});

describe('every workflow', () => {
  it.each(['ci.yml', 'deploy.yml', 'destroy.yml'])('%s pins actions to exact versions', (name) => {
    const uses = [...workflow(name).matchAll(/uses: (\S+)/g)].map((match) => match[1]);
    expect(uses.length).toBeGreaterThan(0);
    for (const action of uses) expect(action).toMatch(/^[\w.-]+\/[\w.-]+@v\d+\.\d+\.\d+$/);
  });
});
