/**
 * The delivery workflows, read as text: actions pinned by commit, tests apart from deploy
 * credentials, a diff before an approved prod deployment, each job with the least AWS access,
 * and the stage's own bootstrap qualifier everywhere.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './constructs/function-factory.ts';
import { CDK_QUALIFIERS } from './stage-config.ts';

const WORKFLOWS = path.join(REPO_ROOT, '.github/workflows');
const workflow = (name: string) => readFileSync(path.join(WORKFLOWS, name), 'utf8');

/** The jobs of a workflow by id, each with its text (two-space indented keys under `jobs:`). */
const jobs = (text: string): Record<string, string> => {
  const body = text.slice(text.indexOf('\njobs:\n') + 7);
  return Object.fromEntries(
    body
      .split(/\n(?= {2}[\w-]+:\n)/)
      .map((chunk) => [/^ {2}([\w-]+):/.exec(chunk.replace(/^\n/, ''))?.[1] ?? '', chunk]),
  );
};

/** Step names in order, each with the text of the step. */
const steps = (text: string): { name: string; text: string }[] =>
  text
    .split(/\n(?= {6}- )/)
    .slice(1)
    .map((step) => ({ name: /(?:name|uses): (.+)/.exec(step)?.[1] ?? '', text: step }));

const indexOf = (all: { name: string }[], pattern: RegExp): number =>
  all.findIndex((step) => pattern.test(step.name));

/** The workflow's top-level `permissions:` block. */
const topPermissions = (text: string): string =>
  /\npermissions:\n((?: {2}.+\n)+)/.exec(text)?.[1] ?? '';

describe('every workflow', () => {
  const names = readdirSync(WORKFLOWS).filter((name) => /\.ya?ml$/.test(name));

  it('covers all of them, load-test.yml included', () => {
    expect(names).toEqual(
      expect.arrayContaining(['ci.yml', 'deploy.yml', 'destroy.yml', 'load-test.yml']),
    );
  });

  it.each(names)('%s pins every action to a full commit SHA, the version in a comment', (name) => {
    const uses = [...workflow(name).matchAll(/uses: (.+)/g)].map((match) => match[1]!);
    expect(uses.length).toBeGreaterThan(0);
    for (const action of uses) {
      // A tag or branch can be moved to other code; a commit SHA cannot.
      expect(action).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
    }
  });

  it.each(names)('%s gives no id-token to the whole workflow', (name) => {
    expect(topPermissions(workflow(name))).not.toContain('id-token');
  });

  it.each(names)('%s names each stage’s own bootstrap qualifier, never the default', (name) => {
    const text = workflow(name);
    expect(text).not.toContain('hnb659fds');
    if (text.includes('QUALIFIER:')) {
      expect(text).toContain(
        `QUALIFIER: \${{ inputs.stage == 'prod' && '${CDK_QUALIFIERS.prod}' || '${CDK_QUALIFIERS.dev}' }}`,
      );
    }
  });
});

describe('deploy.yml', () => {
  const text = workflow('deploy.yml');
  const { test, plan, deploy } = jobs(text);

  it('tests in a job of its own, without AWS access or an environment', () => {
    expect(test).toBeDefined();
    expect(test).toMatch(/permissions:\n\s+contents: read\n/);
    expect(test).not.toMatch(/id-token|environment:|configure-aws-credentials|secrets\./);
    expect(test).toContain('npm test');
  });

  it('runs no test, lint or dev tooling beside AWS credentials', () => {
    for (const job of [plan!, deploy!]) {
      expect(job).not.toMatch(/npm test|npm run lint|vitest/);
      expect(job).toContain('npm ci --ignore-scripts');
    }
  });

  it('plans after the tests with the read-only plan role, and diffs into the job summary', () => {
    expect(plan).toMatch(/needs: test\n/);
    expect(plan).toContain('environment: ${{ inputs.stage }}\n');
    expect(plan).toContain('secrets.AWS_PLAN_ROLE_ARN');
    expect(plan).not.toContain('AWS_DEPLOY_ROLE_ARN');
    const all = steps(plan!);
    const diff = indexOf(all, /cdk diff to the job summary/);
    expect(diff).toBeGreaterThan(indexOf(all, /^Synthesize$/));
    expect(all[diff]!.text).toMatch(/cdk --app cdk.out .*diff/);
    expect(all[diff]!.text).toContain('$GITHUB_STEP_SUMMARY');
    expect(indexOf(all, /Hand the diffed assembly/)).toBeGreaterThan(diff);
  });

  it('deploys after the plan, in the approval-gated <stage>-deploy environment, exactly what was diffed', () => {
    expect(deploy).toMatch(/needs: plan\n/);
    expect(deploy).toContain('environment: ${{ inputs.stage }}-deploy\n');
    expect(deploy).toContain('secrets.AWS_DEPLOY_ROLE_ARN');
    const all = steps(deploy!);
    const deployStep = indexOf(all, /^Deploy$/);
    expect(indexOf(all, /The assembly the plan job diffed/)).toBeLessThan(deployStep);
    expect(all[deployStep]!.text).toContain('cdk --app cdk.out');
    expect(all[deployStep]!.text).not.toMatch(/ -c /);
  });

  it('checks the plan role against AWS_REGION before synthesizing', () => {
    const all = steps(plan!);
    const check = indexOf(all, /Check the plan role against AWS_REGION/);
    expect(check).toBeGreaterThan(indexOf(all, /AWS credentials/));
    expect(check).toBeLessThan(indexOf(all, /^Synthesize$/));
    expect(all[check]!.text).toContain('cdk-$QUALIFIER-lookup-role-$ACCOUNT-$AWS_REGION');
    expect(all[check]!.text).toContain('exit 1');
  });

  it('smoke-tests the deployed ApiUrl and reports the alarm subscription, failing the job on failure', () => {
    const all = steps(deploy!);
    const smoke = indexOf(all, /Smoke test/);
    expect(smoke).toBeGreaterThan(indexOf(all, /^Deploy$/));
    const step = all[smoke]!.text;
    expect(step).toContain('cdk-outputs.json');
    expect(step).toContain('.ApiUrl');
    expect(step).toContain('--expect-grafana');
    expect(step).toContain('aws sns list-subscriptions-by-topic');
    expect(step).toContain('--alarm-subscriptions');
    expect(step).not.toMatch(/continue-on-error|\|\| true/);
  });
});

describe('deploy.yml for the infrastructure panel (services/infra-api)', () => {
  const text = workflow('deploy.yml');

  it('takes a correlation_id input, optional and free text, beside stage and component', () => {
    const inputs = text.slice(text.indexOf('    inputs:\n'), text.indexOf('\npermissions:'));
    expect(inputs).toMatch(
      / {6}correlation_id:\n {8}description: .+\n {8}type: string\n {8}required: false\n {8}default: ''\n/,
    );
    // The panel dispatches exactly these inputs; the stage and component stay choices.
    expect(inputs).toContain('options: [dev, prod]');
    expect(inputs).toContain('options: [lambdas, full]');
  });

  it('names each run with its correlation_id, so the panel finds its run without guessing', () => {
    expect(text).toMatch(
      /\nrun-name: Deploy \$\{\{ inputs\.stage \}\} \(\$\{\{ inputs\.component \}\}\) \$\{\{ inputs\.correlation_id \}\}\n/,
    );
  });

  it('never lets correlation_id reach a step, a script or the environment', () => {
    const uses = [...text.matchAll(/inputs\.correlation_id/g)].map((match) => match.index);
    expect(uses).toHaveLength(1);
    expect(uses[0]!).toBeLessThan(text.indexOf('\non:'));
  });
});

describe('destroy.yml', () => {
  const text = workflow('destroy.yml');

  it('destroys with npm run destroy and no CORS or other deployment settings', () => {
    const destroy = steps(text).find((step) => step.name === 'Destroy');
    expect(destroy?.text).toContain('npm run destroy --');
    expect(destroy?.text).not.toMatch(/corsOrigins|CORS_ORIGINS/);
  });

  it('uses the deploy role of the approval-gated environment', () => {
    expect(text).toContain('environment: ${{ inputs.stage }}-deploy\n');
    expect(text).toContain('cdk-$QUALIFIER-deploy-role-$ACCOUNT-$AWS_REGION');
  });
});

describe('load-test.yml', () => {
  const text = workflow('load-test.yml');

  it('reads ApiUrl with the plan role alone: no bootstrap lookup role, no role chaining', () => {
    expect(text).toContain('secrets.AWS_PLAN_ROLE_ARN');
    expect(text).not.toMatch(/lookup-role|role-chaining|AWS_DEPLOY_ROLE_ARN/);
    expect(text).toContain(
      'aws cloudformation describe-stacks --stack-name "IotPlayground-$STAGE"',
    );
  });
});
