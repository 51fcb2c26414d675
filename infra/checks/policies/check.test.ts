/**
 * check:policies against synthesized stacks: offline it answers every catalogue question with
 * the local evaluator; online, a simulator or Access Analyzer that answers otherwise fails the
 * check, naming the question or policy with both answers. The AWS clients are stubs (their
 * answers computed from the same policies), and the one test that builds the real SDK clients
 * points them at 127.0.0.1 with fake credentials: no test reaches AWS.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type {
  SimulateCustomPolicyCommandInput,
  SimulateCustomPolicyCommandOutput,
} from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ContextValue,
  decide,
  type PolicyDocument,
} from '#infra/aws/iam/policy-evaluation.ts';
import { synthesize, type Synthesized } from '#infra/aws/test-support.ts';
import type { AnalyzerClientLike, IamClientLike } from './aws-checks.ts';
import { main, realClients } from './cli.ts';

const PROD_FULL = {
  stage: 'prod',
  component: 'full',
  corsOrigins: 'https://play.example.com',
  alarmEmail: 'ops@example.com',
  domainName: 'api.example.com',
  grafanaDomainName: 'grafana.example.com',
  hostedZoneName: 'example.com',
  hostedZoneId: 'Z0123456789ABCDEFGHIJ',
};

const synths: Record<string, Synthesized> = {};
const scratch = mkdtempSync(path.join(tmpdir(), 'iot-playground-check-policies-'));
beforeAll(() => {
  synths.dev = synthesize({ stage: 'dev', component: 'full' });
  synths.prod = synthesize(PROD_FULL);
  // An assembly with a real account and region, as the plan job synthesizes with credentials.
  const region = process.env.CDK_DEFAULT_REGION;
  process.env.CDK_DEFAULT_REGION = 'eu-west-1';
  try {
    synths.pinned = synthesize({ stage: 'dev', component: 'lambdas', devAccount: '111111111111' });
  } finally {
    if (region === undefined) delete process.env.CDK_DEFAULT_REGION;
    else process.env.CDK_DEFAULT_REGION = region;
  }
});
afterAll(() => {
  Object.values(synths).forEach((synth) => synth.dispose());
  rmSync(scratch, { recursive: true, force: true });
});
const assemblyOf = (name: string) => synths[name]!.app.synth().directory;

/** Runs the CLI in process; output captured. */
const run = async (
  argv: string[],
  clients?: Awaited<ReturnType<typeof realClients>>,
  env: NodeJS.ProcessEnv = {},
) => {
  let out = '';
  let err = '';
  const code = await main(argv, {
    clients: async () => {
      if (clients === undefined) throw new Error('no AWS client in this test');
      return clients;
    },
    out: (text) => (out += text),
    err: (text) => (err += text),
    env,
  });
  return { code, out, err };
};

/** IAM's simulator, stubbed: IAM's decision computed from the policies it is given. */
const simulator = (
  lie?: (action: string, resource: string) => string | undefined,
): IamClientLike & { calls: SimulateCustomPolicyCommandInput[] } => {
  const calls: SimulateCustomPolicyCommandInput[] = [];
  return {
    calls,
    send: async ({ input }) => {
      calls.push(input);
      const identity = input.PolicyInputList!.map((text) => JSON.parse(text) as PolicyDocument);
      const [boundaryText] = input.PermissionsBoundaryPolicyInputList ?? [];
      const boundary = boundaryText ? (JSON.parse(boundaryText) as PolicyDocument) : undefined;
      const context = Object.fromEntries(
        (input.ContextEntries ?? []).map((entry) => [
          entry.ContextKeyName!,
          (entry.ContextKeyType === 'stringList'
            ? entry.ContextKeyValues
            : entry.ContextKeyValues![0]) as ContextValue,
        ]),
      );
      const resource = input.ResourceArns?.[0] ?? '*';
      const names = {
        allow: 'allowed',
        'explicit-deny': 'explicitDeny',
        'implicit-deny': 'implicitDeny',
      };
      return {
        EvaluationResults: input.ActionNames!.map((action) => ({
          EvalActionName: action,
          EvalResourceName: resource,
          EvalDecision: (lie?.(action, resource) ??
            names[decide({ identity, boundary }, { action, resource, context })]) as never,
        })),
        IsTruncated: false,
      } satisfies Partial<SimulateCustomPolicyCommandOutput> as unknown as SimulateCustomPolicyCommandOutput;
    },
  };
};

/** Access Analyzer, stubbed: no finding, PASS, unless told otherwise. */
const analyzer = (
  findingFor?: (document: string) => { findingType: string; issueCode: string } | undefined,
): AnalyzerClientLike => ({
  send: async (command) => {
    const input = command.input as { policyDocument: string; access?: unknown };
    if (input.access !== undefined)
      return { result: 'PASS', message: 'ok', reasons: [], $metadata: {} };
    const finding = findingFor?.(input.policyDocument);
    return {
      findings: finding
        ? [
            {
              ...finding,
              findingDetails: 'stubbed finding',
              learnMoreLink: 'https://example.com',
              locations: [],
            },
          ]
        : [],
      $metadata: {},
    } as never;
  },
});

describe('check:policies --offline', () => {
  it.each(['dev', 'prod'])(
    '%s: every question of the catalogue answered as designed; exit 0 and a Markdown summary',
    async (stage) => {
      const summary = path.join(scratch, `${stage}-summary.md`);
      const { code, out } = await run([
        '--stage',
        stage,
        '--offline',
        '--assembly',
        assemblyOf(stage),
        '--summary',
        summary,
      ]);
      expect(out).toMatch(new RegExp(`IotPlayground-${stage} \\(offline: evaluator only`));
      expect(out).toContain('all as designed');
      expect(out).toMatch(/The other stage cannot reach this one\s+\d{3}\s+\d{3}\s+–\s+pass/);
      expect(code).toBe(0);
      const markdown = readFileSync(summary, 'utf8');
      expect(markdown).toMatch(/^### check:policies IotPlayground-/);
      expect(markdown).toContain('| property | questions | evaluator | AWS | verdict |');
      expect(markdown).toContain('| No role without the stage boundary |');
    },
  );
});

describe('check:policies --offline, separate accounts', () => {
  it('asks the cross-stage questions with the other stage in its own account', async () => {
    const { code, out } = await run(
      ['--stage', 'prod', '--offline', '--assembly', assemblyOf('prod')],
      undefined,
      { DEV_ACCOUNT: '111111111111', PROD_ACCOUNT: '222222222222' },
    );
    expect(out).toContain('account 222222222222');
    expect(out).toContain('separate accounts');
    expect(code).toBe(0);
  });
});

describe('check:policies online (stubbed AWS)', () => {
  it('passes when the simulator and Access Analyzer agree with the evaluator', async () => {
    const iam = simulator();
    const { code, out } = await run(['--stage', 'dev', '--assembly', assemblyOf('pinned')], {
      iam,
      analyzer: analyzer(),
    });
    expect(out).toContain('(evaluator and AWS; account 111111111111');
    expect(code).toBe(0);
    // The boundary travels as a permissions boundary, not as one more identity policy.
    expect(iam.calls.some((call) => call.PermissionsBoundaryPolicyInputList?.length === 1)).toBe(
      true,
    );
    expect(iam.calls.some((call) => (call.ContextEntries ?? []).length > 0)).toBe(true);
  });

  it('fails on a wrong answer of the simulator, naming the question and printing both answers', async () => {
    const iam = simulator((action) =>
      action === 'iam:UpdateAssumeRolePolicy' ? 'allowed' : undefined,
    );
    const { code, out } = await run(['--stage', 'dev', '--assembly', assemblyOf('pinned')], {
      iam,
      analyzer: analyzer(),
    });
    expect(code).toBe(1);
    expect(out).toContain('FAILED');
    const line = out
      .split('\n')
      .find((l) =>
        l.includes(
          'dev execution policy: iam:UpdateAssumeRolePolicy on arn:aws:iam::111111111111:role/IotPlayground-dev-ingestRole-X',
        ),
      );
    expect(line, out).toBeDefined();
    expect(line).toMatch(/explicit-deny\s+explicit-deny\s+allow/); // expected, evaluator, AWS
  });

  it('fails on an Access Analyzer security warning, naming the policy; prints suggestions without failing', async () => {
    const { code, out } = await run(['--stage', 'dev', '--assembly', assemblyOf('pinned')], {
      iam: simulator(),
      analyzer: analyzer((document) =>
        document.includes('NoOtherStagesResources')
          ? { findingType: 'SECURITY_WARNING', issueCode: 'PASS_ROLE_WITH_STAR_IN_RESOURCE' }
          : document.includes('AskAwsAboutThePolicies')
            ? { findingType: 'SUGGESTION', issueCode: 'EMPTY_ARRAY_ACTION' }
            : undefined,
      ),
    });
    expect(code).toBe(1);
    expect(out).toMatch(
      /Access Analyzer ValidatePolicy\s+dev execution policy\s+no error\s+–\s+SECURITY_WARNING PASS_ROLE_WITH_STAR_IN_RESOURCE/,
    );
    expect(out).toMatch(/dev GitHub plan role policy 1: SUGGESTION EMPTY_ARRAY_ACTION/);
  });

  it('refuses an assembly synthesized without an account: AWS must be asked about the real one', async () => {
    const { code, err } = await run(['--stage', 'dev', '--assembly', assemblyOf('dev')], {
      iam: simulator(),
      analyzer: analyzer(),
    });
    expect(code).toBe(2);
    expect(err).toMatch(/synthesized without an account/);
  });

  it('reports a call AWS did not answer as a failure (real SDK clients, endpoint 127.0.0.1)', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_ACCESS_KEY_ID: 'AKIDTESTONLY',
      AWS_SECRET_ACCESS_KEY: 'test-only',
      AWS_REGION: 'eu-west-1',
      AWS_MAX_ATTEMPTS: '1',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    try {
      const { code, out } = await run(
        ['--stage', 'dev', '--assembly', assemblyOf('pinned')],
        await realClients(),
      );
      expect(code).toBe(1);
      expect(out).toMatch(/simulator failed: .*(ECONNREFUSED|connect)/);
      expect(out).toMatch(/ValidatePolicy\s+ValidatePolicy\s+no error\s+–\s+\S+/);
    } finally {
      process.env = saved;
    }
  });
});

describe('usage', () => {
  it.each([
    [[], /--stage must be dev or prod/],
    [['--stage', 'qa'], /--stage must be dev or prod/],
    [['--stage', 'dev', '--verbose'], /Unknown option/],
    [['--stage', 'dev', '--offline', '--assembly', '/nonexistent'], /No cloud assembly/],
  ])('%j exits 2', async (argv, message) => {
    const { code, err } = await run(argv as string[]);
    expect(code).toBe(2);
    expect(err).toMatch(message);
    expect(err).toContain('Usage: npm run check:policies');
  });
});
