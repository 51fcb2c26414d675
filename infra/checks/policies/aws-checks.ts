/**
 * The catalogue's questions asked of AWS itself:
 *  - IAM's policy simulator, `SimulateCustomPolicy`
 *    (https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulateCustomPolicy.html): the
 *    principal's identity policies and its permissions boundary
 *    (`PermissionsBoundaryPolicyInputList`), the request's action, resource and condition keys;
 *    one call per principal, resource and context, the actions together;
 *  - IAM Access Analyzer `ValidatePolicy` on every policy (grammar, errors, security warnings)
 *    and `CheckAccessNotGranted` for what it can express
 *    (https://docs.aws.amazon.com/access-analyzer/latest/APIReference/API_CheckAccessNotGranted.html).
 * The clients are injected: the tests pass stubs, nothing here builds one.
 */
import {
  type EvaluationResult,
  SimulateCustomPolicyCommand,
  type SimulateCustomPolicyCommandInput,
  type SimulateCustomPolicyCommandOutput,
} from '@aws-sdk/client-iam';
import {
  CheckAccessNotGrantedCommand,
  type CheckAccessNotGrantedCommandOutput,
  ValidatePolicyCommand,
  type ValidatePolicyCommandOutput,
  type ValidatePolicyFinding,
} from '@aws-sdk/client-accessanalyzer';
import type {
  AccessQuestion,
  NamedPolicy,
  NotGrantedQuestion,
  PolicyCatalogue,
} from '#infra/aws/iam/policy-catalogue.ts';
import type { ContextValue, Decision } from '#infra/aws/iam/policy-evaluation.ts';

/** The part of an SDK v3 client these checks use. */
export interface Client<Input, Output> {
  send(command: { input: Input }): Promise<Output>;
}
export type IamClientLike = Client<
  SimulateCustomPolicyCommandInput,
  SimulateCustomPolicyCommandOutput
>;
export type AnalyzerClientLike = Client<
  unknown,
  ValidatePolicyCommandOutput | CheckAccessNotGrantedCommandOutput
>;

const DECISIONS: Record<string, Decision> = {
  allowed: 'allow',
  explicitDeny: 'explicit-deny',
  implicitDeny: 'implicit-deny',
};

const contextEntries = (context: Record<string, ContextValue> = {}) =>
  Object.entries(context).map(([name, value]) => ({
    ContextKeyName: name,
    ContextKeyValues: [value].flat().map(String),
    ContextKeyType: Array.isArray(value)
      ? ('stringList' as const)
      : typeof value === 'boolean'
        ? ('boolean' as const)
        : ('string' as const),
  }));

/** The simulator's decision for each question, by question id. */
export const simulate = async (
  iam: IamClientLike,
  catalogue: PolicyCatalogue,
  questions: AccessQuestion[],
): Promise<Map<string, Decision | string>> => {
  const groups = new Map<string, AccessQuestion[]>();
  for (const question of questions) {
    const key = JSON.stringify([
      question.principal,
      question.request.resource,
      question.request.context ?? {},
    ]);
    groups.set(key, [...(groups.get(key) ?? []), question]);
  }
  const answers = new Map<string, Decision | string>();
  for (const group of groups.values()) {
    const [first] = group as [AccessQuestion];
    const principal = catalogue.principals[first.principal]!;
    const actions = [...new Set(group.map((q) => q.request.action))];
    const results: EvaluationResult[] = [];
    let marker: string | undefined;
    do {
      const output = await iam.send(
        new SimulateCustomPolicyCommand({
          PolicyInputList: principal.identity.map((document) => JSON.stringify(document)),
          ...(principal.boundary
            ? { PermissionsBoundaryPolicyInputList: [JSON.stringify(principal.boundary)] }
            : {}),
          ActionNames: actions,
          ResourceArns: [first.request.resource],
          ...(first.request.context
            ? { ContextEntries: contextEntries(first.request.context) }
            : {}),
          ...(marker ? { Marker: marker } : {}),
        }),
      );
      results.push(...(output.EvaluationResults ?? []));
      marker = output.IsTruncated ? output.Marker : undefined;
    } while (marker !== undefined);
    for (const question of group) {
      const result = results.find(
        (r) => r.EvalActionName?.toLowerCase() === question.request.action.toLowerCase(),
      );
      answers.set(
        question.id,
        result?.EvalDecision === undefined
          ? 'no answer'
          : (DECISIONS[result.EvalDecision] ?? result.EvalDecision),
      );
    }
  }
  return answers;
};

export interface Validation {
  policy: string;
  findings: ValidatePolicyFinding[];
}

/** Access Analyzer's findings on every policy. */
export const validatePolicies = async (
  analyzer: AnalyzerClientLike,
  policies: NamedPolicy[],
): Promise<Validation[]> => {
  const validations: Validation[] = [];
  for (const policy of policies) {
    const findings: ValidatePolicyFinding[] = [];
    let nextToken: string | undefined;
    do {
      const output = (await analyzer.send(
        new ValidatePolicyCommand({
          policyDocument: JSON.stringify(policy.document),
          policyType: policy.type,
          ...(policy.resourceType ? { validatePolicyResourceType: policy.resourceType } : {}),
          ...(nextToken ? { nextToken } : {}),
        }),
      )) as ValidatePolicyCommandOutput;
      findings.push(...(output.findings ?? []));
      nextToken = output.nextToken;
    } while (nextToken !== undefined);
    validations.push({ policy: policy.name, findings });
  }
  return validations;
};

/** Access Analyzer's PASS or FAIL (with its reasons) for a not-granted question. */
export const checkNotGranted = async (
  analyzer: AnalyzerClientLike,
  catalogue: PolicyCatalogue,
  question: NotGrantedQuestion,
): Promise<string> => {
  const policy = catalogue.policies.find((p) => p.name === question.policy);
  if (policy === undefined) throw new Error(`No policy ${question.policy}`);
  const output = (await analyzer.send(
    new CheckAccessNotGrantedCommand({
      policyDocument: JSON.stringify(policy.document),
      policyType: policy.type,
      access: [question.access],
    }),
  )) as CheckAccessNotGrantedCommandOutput;
  const reasons = (output.reasons ?? []).map((reason) => reason.description).join('; ');
  return `${output.result ?? 'no answer'}${reasons ? `: ${reasons}` : ''}`;
};
