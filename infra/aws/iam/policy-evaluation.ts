/**
 * Decides whether a principal may make a request, from its policies, the way IAM does:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluationlogic.html
 *
 *  1. an explicit Deny in any policy that applies (identity policies or the permissions
 *     boundary) denies;
 *  2. otherwise an identity policy must Allow;
 *  3. and, when the principal has a permissions boundary, the boundary must Allow too
 *     ("the effective permissions are the intersection"), or the request is implicitly denied;
 *  4. a resource of another account needs that account's resource-based policy to allow too
 *     (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html);
 *     none is modelled, so an identity policy alone never reaches another account.
 *
 * Statement matching (Action/NotAction, Resource/NotResource, wildcards) is pbac's. Conditions
 * are evaluated here, each rule from AWS's reference
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html:
 *  - every key of a condition operator block counts, every block of a statement too;
 *  - a key absent from the request makes a condition false, except for negated operators
 *    (`StringNotEquals`, `ArnNotLike`, …) and `…IfExists`, which are then true; `Null` tests
 *    presence;
 *  - several values for one key: any may match, but a negated operator needs none to match;
 *  - `ForAnyValue:` / `ForAllValues:` with a positive string or ARN operator over a multivalued
 *    key (absent key: ForAnyValue false, ForAllValues true);
 *  - action names and condition key names are case-insensitive.
 *
 * Whatever else a policy may say, the evaluator refuses (throws UnsupportedPolicyConstruct,
 * naming the construct) rather than answer: a policy without `Version: 2012-10-17`, policy
 * variables, numeric, date, IP and binary operators, negated set operators, multivalued request
 * keys under single-valued operators, Principal/NotPrincipal, malformed statements. Resource
 * policies, SCPs and session policies are out of scope: nothing here uses them.
 */
import Pbac from 'pbac';

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

export interface PolicyDocument {
  Version?: string;
  Id?: string;
  Statement: PolicyStatement | PolicyStatement[];
}

export type ContextValue = string | string[] | boolean;

export interface AccessRequest {
  action: string;
  resource: string;
  /** Condition keys of the request, by name (`iam:PermissionsBoundary`, `aws:RequestTag/x`). */
  context?: Record<string, ContextValue>;
  /** The account owning the resource, when its ARN names none (Route 53, API Gateway). */
  resourceAccount?: string;
}

export interface Principal {
  /** The principal's own account; when given, resources of other accounts are out of reach. */
  account?: string;
  identity: PolicyDocument[];
  /** The permissions boundary; absent means none (identity policies alone decide). */
  boundary?: PolicyDocument;
}

export type Decision = 'allow' | 'explicit-deny' | 'implicit-deny';

/** A policy construct the evaluator does not implement: it refuses to answer. */
export class UnsupportedPolicyConstruct extends Error {
  constructor(
    readonly construct: string,
    detail: string,
  ) {
    super(`Cannot evaluate ${construct}: ${detail}`);
    this.name = 'UnsupportedPolicyConstruct';
  }
}

const asArray = <T>(value: T | T[] | undefined): T[] | undefined =>
  value === undefined ? undefined : Array.isArray(value) ? value : [value];

const VERSION = '2012-10-17';
const STATEMENT_ELEMENTS = new Set([
  'Sid',
  'Effect',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);
/** The operators implemented below; `…IfExists` of each but Null is too. */
const STRING_OPERATORS = new Set([
  'StringEquals',
  'StringNotEquals',
  'StringEqualsIgnoreCase',
  'StringNotEqualsIgnoreCase',
  'StringLike',
  'StringNotLike',
  'ArnEquals',
  'ArnLike',
  'ArnNotEquals',
  'ArnNotLike',
]);
const NEGATED = /^(StringNot|ArnNot)/;

const refuse = (construct: string, detail: string): never => {
  throw new UnsupportedPolicyConstruct(construct, detail);
};

/** `${…}` is a policy variable in a 2012-10-17 policy: refused wherever it appears. */
const noVariables = (where: string, values: unknown[]): void => {
  for (const value of values) {
    const variable = typeof value === 'string' ? /\$\{[^}]*\}/.exec(value)?.[0] : undefined;
    if (variable !== undefined) {
      refuse(`policy variable ${variable}`, `in ${where} (variables are not substituted here)`);
    }
  }
};

const checkCondition = (sid: string, condition: Record<string, Record<string, unknown>>) => {
  for (const [operator, block] of Object.entries(condition)) {
    const [set, base] = operator.includes(':') ? operator.split(':', 2) : [undefined, operator];
    if (set !== undefined && set !== 'ForAnyValue' && set !== 'ForAllValues') {
      refuse(`condition operator ${operator}`, `unknown set qualifier in ${sid}`);
    }
    const plain = base!.replace(/IfExists$/, '');
    const known =
      (STRING_OPERATORS.has(plain) || plain === 'Bool' || base === 'Null') &&
      !(set !== undefined && (NEGATED.test(plain) || plain === 'Bool' || base === 'Null'));
    if (!known) refuse(`condition operator ${operator}`, `not implemented (${sid})`);
    if (typeof block !== 'object' || block === null || Array.isArray(block)) {
      refuse(`condition operator ${operator}`, `its block is not an object (${sid})`);
    }
    for (const [key, expected] of Object.entries(block)) {
      noVariables(`the condition key of ${sid}`, [key]);
      const values = asArray(expected)!;
      for (const value of values) {
        if (typeof value !== 'string' && typeof value !== 'boolean') {
          refuse(`condition value of ${key}`, `${JSON.stringify(value)} in ${sid}`);
        }
      }
      noVariables(`a condition value of ${sid}`, values);
      if (base === 'Null' && values.length !== 1) {
        refuse(`condition operator Null`, `${key} needs exactly one value (${sid})`);
      }
    }
  }
};

/** Throws UnsupportedPolicyConstruct for anything the evaluator does not implement. */
export const assertEvaluable = (document: PolicyDocument): void => {
  for (const key of Object.keys(document)) {
    if (!['Version', 'Id', 'Statement'].includes(key)) refuse(`policy element ${key}`, 'unknown');
  }
  if (document.Version !== VERSION) {
    refuse(
      document.Version === undefined ? 'a policy without Version' : `Version ${document.Version}`,
      `only ${VERSION} is evaluated (without it AWS reads the policy as 2008-10-17)`,
    );
  }
  (asArray(document.Statement) ?? []).forEach((statement, index) => {
    const sid = statement.Sid ?? `statement ${index}`;
    for (const element of Object.keys(statement)) {
      if (!STATEMENT_ELEMENTS.has(element)) {
        refuse(
          `statement element ${element}`,
          element.endsWith('Principal')
            ? `${sid}: Principal and NotPrincipal belong to resource-based policies`
            : `${sid}: not part of the IAM policy grammar`,
        );
      }
    }
    if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny') {
      refuse(`Effect ${String(statement.Effect)}`, `${sid}: only Allow and Deny exist`);
    }
    if ((statement.Action === undefined) === (statement.NotAction === undefined)) {
      refuse('Action and NotAction', `${sid} needs exactly one of them`);
    }
    if ((statement.Resource === undefined) === (statement.NotResource === undefined)) {
      refuse('Resource and NotResource', `${sid} needs exactly one of them`);
    }
    noVariables(`the actions of ${sid}`, [
      ...(asArray(statement.Action) ?? []),
      ...(asArray(statement.NotAction) ?? []),
    ]);
    noVariables(`the resources of ${sid}`, [
      ...(asArray(statement.Resource) ?? []),
      ...(asArray(statement.NotResource) ?? []),
    ]);
    if (statement.Condition !== undefined) checkCondition(sid, statement.Condition);
  });
};

/** pbac's schema wants arrays where IAM also takes a single string. */
const normalized = (document: PolicyDocument) => ({
  Version: VERSION,
  Statement: (asArray(document.Statement) ?? []).map((statement) => ({
    Effect: statement.Effect,
    ...(statement.Action !== undefined ? { Action: asArray(statement.Action) } : {}),
    ...(statement.NotAction !== undefined ? { NotAction: asArray(statement.NotAction) } : {}),
    ...(statement.Resource !== undefined ? { Resource: asArray(statement.Resource) } : {}),
    ...(statement.NotResource !== undefined ? { NotResource: asArray(statement.NotResource) } : {}),
    ...(statement.Condition !== undefined ? { Condition: statement.Condition } : {}),
  })),
});

const lookup = (context: Record<string, unknown>, key: string): unknown => {
  const wanted = key.toLowerCase();
  const found = Object.keys(context).find((name) => name.toLowerCase() === wanted);
  return found === undefined ? undefined : context[found];
};

/** One value of the request against one value of the policy, for a positive operator. */
const compareOne = (pbac: Pbac, operator: string, actual: unknown, expected: unknown): boolean => {
  const positive = operator.replace(/^(String|Arn)Not/, '$1');
  if (operator === 'Bool') {
    return String(actual).toLowerCase() === String(expected).toLowerCase();
  }
  return Boolean(pbac.conditions[positive]!.call(pbac, String(actual), String(expected)));
};

const evaluateBlock = (
  pbac: Pbac,
  operator: string,
  key: string,
  expected: unknown,
  context: Record<string, unknown>,
): boolean => {
  const values = asArray(expected)!;
  const actual = lookup(context, key);
  if (operator === 'Null') return (actual === undefined) === (String(values[0]) === 'true');
  const [set, base] = operator.includes(':') ? operator.split(':', 2) : [undefined, operator];
  if (set !== undefined) {
    if (actual === undefined) return set === 'ForAllValues';
    const actuals = asArray(actual) as unknown[];
    const matches = (value: unknown) => values.some((v) => compareOne(pbac, base!, value, v));
    return set === 'ForAnyValue' ? actuals.some(matches) : actuals.every(matches);
  }
  const plain = operator.replace(/IfExists$/, '');
  if (actual === undefined) return operator.endsWith('IfExists') || NEGATED.test(plain);
  if (Array.isArray(actual)) {
    if (actual.length !== 1) {
      refuse(`${key} with several values`, `under the single-valued operator ${operator}`);
    }
  }
  const single = Array.isArray(actual) ? actual[0] : actual;
  const anyMatches = values.some((value) => compareOne(pbac, plain, single, value));
  return NEGATED.test(plain) ? !anyMatches : anyMatches;
};

/** A pbac engine over `documents`, with the condition and action rules above. */
const engine = (documents: PolicyDocument[]): Pbac => {
  documents.forEach(assertEvaluable);
  const pbac = new Pbac(documents.map(normalized) as never);
  const compare = pbac.conditions;
  pbac.evaluateAction = (actions, action) =>
    actions.find((pattern) =>
      compare.StringLike!.call(pbac, action.toLowerCase(), pattern.toLowerCase()),
    );
  pbac.evaluateCondition = (condition, context) =>
    Object.entries(condition ?? {}).every(([operator, block]) =>
      Object.entries(block).every(([key, expected]) =>
        evaluateBlock(pbac, operator, key, expected, context),
      ),
    );
  return pbac;
};

const matching = (pbac: Pbac, effect: 'Allow' | 'Deny', request: AccessRequest): boolean =>
  pbac.filterPoliciesBy({
    effect,
    action: request.action,
    resource: request.resource,
    context: request.context ?? {},
    principal: {},
  }) !== undefined;

/** The account an ARN names (its fifth field), or undefined (S3, Route 53, API Gateway, `*`). */
export const accountOf = (arn: string): string | undefined => {
  const account = arn.split(':')[4];
  return account !== undefined && /^\d{12}$/.test(account) ? account : undefined;
};

/** IAM's decision for one request by `principal`. */
export const decide = (principal: Principal, request: AccessRequest): Decision => {
  const identity = engine(principal.identity);
  const boundary = principal.boundary ? engine([principal.boundary]) : undefined;
  if (matching(identity, 'Deny', request) || (boundary && matching(boundary, 'Deny', request))) {
    return 'explicit-deny';
  }
  if (!matching(identity, 'Allow', request)) return 'implicit-deny';
  if (boundary && !matching(boundary, 'Allow', request)) return 'implicit-deny';
  const owner = request.resourceAccount ?? accountOf(request.resource);
  if (principal.account !== undefined && owner !== undefined && owner !== principal.account) {
    return 'implicit-deny';
  }
  return 'allow';
};

export const isAllowed = (principal: Principal, request: AccessRequest): boolean =>
  decide(principal, request) === 'allow';
