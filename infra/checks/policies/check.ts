/**
 * `check:policies`: the catalogue's questions (infra/aws/iam/policy-catalogue.ts) about one
 * stage's synthesized stack and the set-up's policies, answered by the local evaluator and,
 * online, by AWS beside it. A question fails when the answer is not what the design says, or
 * when AWS and the evaluator disagree (both answers are kept); a policy fails on an Access
 * Analyzer error or security warning (suggestions and warnings are kept as notes).
 */
import { type AccountEnvironment, bootstrapPolicies } from '#infra/aws/iam/bootstrap-policies.ts';
import {
  type AccessQuestion,
  answerLocally,
  type LocalAnswer,
  type NotGrantedQuestion,
  PROPERTIES,
  type PropertyId,
  policyCatalogue,
  type Question,
} from '#infra/aws/iam/policy-catalogue.ts';
import { STAGES, type StageName, stackNameFor } from '#infra/aws/stage-config.ts';
import { readAssemblyStack, UsageError } from './assembly.ts';
import {
  type AnalyzerClientLike,
  checkNotGranted,
  type IamClientLike,
  simulate,
  validatePolicies,
} from './aws-checks.ts';

/** Placeholders for an assembly synthesized without credentials (offline only). */
export const OFFLINE_ACCOUNT = '111111111111';
export const OFFLINE_REGION = 'eu-west-1';

export interface CheckOptions {
  stage: StageName;
  /** The cloud assembly directory (cdk.out). */
  assembly: string;
  /** AWS's clients; absent means offline (the local evaluator only). */
  clients?: { iam: IamClientLike; analyzer: AnalyzerClientLike };
  /** Each stage's account when they differ (DEV_ACCOUNT / PROD_ACCOUNT): separate accounts. */
  accounts?: Partial<Record<StageName, string>>;
  /** owner/name the GitHub roles trust (GITHUB_REPOSITORY in Actions). */
  repository?: string;
}

export interface QuestionRow {
  property: PropertyId;
  question: string;
  expected: string;
  local: string;
  /** AWS's answer, or why it was not asked. */
  aws: string;
  ok: boolean;
}

export interface PolicyRow {
  policy: string;
  errors: string[];
  notes: string[];
  ok: boolean;
}

export interface CheckResult {
  stage: StageName;
  stackName: string;
  account: string;
  region: string;
  layout: string;
  online: boolean;
  questions: QuestionRow[];
  policies: PolicyRow[];
  ok: boolean;
}

const expectedOf = (question: Question): string =>
  question.kind === 'access' ? question.expect : question.kind === 'not-granted' ? 'PASS' : 'holds';

const safeLocal = (answer: () => LocalAnswer): LocalAnswer => {
  try {
    return answer();
  } catch (error) {
    return { answer: `cannot evaluate: ${(error as Error).message}`, holds: false };
  }
};

const message = (error: unknown): string =>
  `${(error as Error).name ?? 'Error'}: ${(error as Error).message ?? String(error)}`;

export const checkPolicies = async (options: CheckOptions): Promise<CheckResult> => {
  const { stage } = options;
  const online = options.clients !== undefined;
  const stack = readAssemblyStack(options.assembly, stackNameFor(stage));
  if (online && (stack.account === undefined || stack.region === undefined)) {
    throw new UsageError(
      `${stack.stackName} was synthesized without an account and region: synthesize with the ` +
        'stage’s credentials so the policies are asked about for the real account',
    );
  }
  const account = stack.account ?? options.accounts?.[stage] ?? OFFLINE_ACCOUNT;
  const region = stack.region ?? OFFLINE_REGION;
  const [other] = STAGES.filter((s) => s !== stage) as [StageName];
  const otherAccount =
    options.accounts?.[stage] === account && options.accounts[other] !== undefined
      ? options.accounts[other]!
      : account;
  const envs = {
    [stage]: { account, region },
    [other]: { account: otherAccount, region },
  } as Record<StageName, AccountEnvironment>;
  const catalogue = policyCatalogue({
    stage,
    bootstrap: bootstrapPolicies(envs, options.repository),
    app: { template: stack.template, stackName: stack.stackName },
  });

  const local = new Map(
    catalogue.questions.map((q) => [q.id, safeLocal(() => answerLocally(catalogue, q))]),
  );
  const aws = new Map<string, string>();
  let policyRows: PolicyRow[] = [];
  if (options.clients !== undefined) {
    const { iam, analyzer } = options.clients;
    const simulated = catalogue.questions.filter(
      (q): q is AccessQuestion => q.kind === 'access' && q.localOnly === undefined,
    );
    try {
      for (const [id, decision] of await simulate(iam, catalogue, simulated)) aws.set(id, decision);
    } catch (error) {
      for (const q of simulated) aws.set(q.id, `simulator failed: ${message(error)}`);
    }
    for (const q of catalogue.questions.filter(
      (q): q is NotGrantedQuestion => q.kind === 'not-granted',
    )) {
      try {
        aws.set(q.id, await checkNotGranted(analyzer, catalogue, q));
      } catch (error) {
        aws.set(q.id, `CheckAccessNotGranted failed: ${message(error)}`);
      }
    }
    try {
      policyRows = (await validatePolicies(analyzer, catalogue.policies)).map(
        ({ policy, findings }) => {
          const line = (f: (typeof findings)[number]) =>
            `${f.findingType} ${f.issueCode}: ${f.findingDetails}${f.learnMoreLink ? ` (${f.learnMoreLink})` : ''}`;
          const errors = findings
            .filter((f) => f.findingType === 'ERROR' || f.findingType === 'SECURITY_WARNING')
            .map(line);
          const notes = findings
            .filter((f) => f.findingType !== 'ERROR' && f.findingType !== 'SECURITY_WARNING')
            .map(line);
          return { policy, errors, notes, ok: errors.length === 0 };
        },
      );
    } catch (error) {
      policyRows = [{ policy: 'ValidatePolicy', errors: [message(error)], notes: [], ok: false }];
    }
  }

  const questions = catalogue.questions.map((q): QuestionRow => {
    const mine = local.get(q.id)!;
    const theirs = aws.get(q.id);
    const agrees =
      theirs === undefined ||
      (q.kind === 'not-granted'
        ? theirs.split(':')[0] === mine.answer.split(':')[0]
        : theirs === mine.answer);
    return {
      property: q.property,
      question: q.id,
      expected: expectedOf(q),
      local: mine.answer,
      aws:
        theirs ??
        (!online
          ? 'offline'
          : q.kind === 'template'
            ? 'local only (template)'
            : q.kind === 'access' && q.localOnly
              ? `local only (${q.localOnly})`
              : 'not asked'),
      ok: mine.holds && agrees,
    };
  });
  return {
    stage,
    stackName: stack.stackName,
    account,
    region,
    layout: catalogue.layout,
    online,
    questions,
    policies: policyRows,
    ok: questions.every((row) => row.ok) && policyRows.every((row) => row.ok),
  };
};

export const propertyTitle = (property: PropertyId): string => PROPERTIES[property];
