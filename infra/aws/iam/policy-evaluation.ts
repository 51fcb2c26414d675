/**
 * Decides whether a principal may make a request, from its policies, the way IAM does within
 * one account: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluationlogic.html
 *
 *  1. an explicit Deny in any policy that applies (identity policies or the permissions
 *     boundary) denies;
 *  2. otherwise an identity policy must Allow;
 *  3. and, when the principal has a permissions boundary, the boundary must Allow too
 *     ("the effective permissions are the intersection"), or the request is implicitly denied.
 *
 * Statement matching (Action/NotAction, Resource/NotResource, wildcards, Deny before Allow)
 * is pbac's. What pbac gets wrong or lacks is replaced here, each rule from AWS's reference
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html:
 *  - every key of a condition operator block counts (pbac reads only the first);
 *  - a key absent from the request makes a condition false, except for negated operators
 *    (`StringNotEquals`, `ArnNotLike`, …) and `…IfExists`, which are then true; `Null` tests
 *    presence; pbac compares the key's *name* instead;
 *  - several values for one key: any may match, but a negated operator needs none to match;
 *  - action names are case-insensitive; condition key names too.
 * Resource policies, SCPs and session policies are out of scope: nothing here uses them.
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
  Statement: PolicyStatement | PolicyStatement[];
}

export interface AccessRequest {
  action: string;
  resource: string;
  /** Condition keys of the request, by name (`iam:PermissionsBoundary`, `aws:RequestTag/x`). */
  context?: Record<string, string | string[] | boolean>;
}

export interface Principal {
  identity: PolicyDocument[];
  /** The permissions boundary; absent means none (identity policies alone decide). */
  boundary?: PolicyDocument;
}

export type Decision = 'allow' | 'explicit-deny' | 'implicit-deny';

const asArray = <T>(value: T | T[] | undefined): T[] | undefined =>
  value === undefined ? undefined : Array.isArray(value) ? value : [value];

/** pbac's schema wants arrays where IAM also takes a single string. */
const normalized = (document: PolicyDocument) => ({
  Version: document.Version ?? '2012-10-17',
  Statement: (asArray(document.Statement) ?? []).map((statement) => ({
    Effect: statement.Effect,
    ...(statement.Action !== undefined ? { Action: asArray(statement.Action) } : {}),
    ...(statement.NotAction !== undefined ? { NotAction: asArray(statement.NotAction) } : {}),
    ...(statement.Resource !== undefined ? { Resource: asArray(statement.Resource) } : {}),
    ...(statement.NotResource !== undefined ? { NotResource: asArray(statement.NotResource) } : {}),
    ...(statement.Condition !== undefined ? { Condition: statement.Condition } : {}),
  })),
});

const NEGATED = /^(StringNot|ArnNot|NumericNotEquals|DateNotEquals|NotIpAddress)/;

const lookup = (context: Record<string, unknown>, key: string): unknown => {
  const wanted = key.toLowerCase();
  const found = Object.keys(context).find((name) => name.toLowerCase() === wanted);
  return found === undefined ? undefined : context[found];
};

/** A pbac engine over `documents`, with the condition and action rules above. */
const engine = (documents: PolicyDocument[]): Pbac => {
  const pbac = new Pbac(documents.map(normalized) as never);
  const compare = pbac.conditions;
  pbac.evaluateAction = (actions, action) =>
    actions.find((pattern) =>
      compare.StringLike!.call(pbac, action.toLowerCase(), pattern.toLowerCase()),
    );
  pbac.evaluateCondition = (condition, context) =>
    Object.entries(condition ?? {}).every(([operator, block]) =>
      Object.entries(block).every(([key, expected]) => {
        const values = asArray(expected)!;
        const actual = lookup(context, key);
        if (operator === 'Null') return (actual === undefined) === (String(values[0]) === 'true');
        const setOperator = /^(ForAnyValue|ForAllValues):/.exec(operator)?.[1];
        if (setOperator !== undefined) {
          if (actual === undefined) return setOperator === 'ForAllValues';
          return Boolean(compare[operator]?.call(pbac, asArray(actual), values));
        }
        const base = operator.replace(/IfExists$/, '');
        const comparison = compare[base];
        if (comparison === undefined) throw new Error(`Condition operator ${operator} unknown`);
        if (actual === undefined) return operator.endsWith('IfExists') || NEGATED.test(base);
        const matches = (value: unknown) => comparison.call(pbac, actual, value);
        return NEGATED.test(base) ? values.every(matches) : values.some(matches);
      }),
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

/** IAM's decision for one request by `principal`. */
export const decide = (principal: Principal, request: AccessRequest): Decision => {
  const identity = engine(principal.identity);
  const boundary = principal.boundary ? engine([principal.boundary]) : undefined;
  if (matching(identity, 'Deny', request) || (boundary && matching(boundary, 'Deny', request))) {
    return 'explicit-deny';
  }
  if (!matching(identity, 'Allow', request)) return 'implicit-deny';
  if (boundary && !matching(boundary, 'Allow', request)) return 'implicit-deny';
  return 'allow';
};

export const isAllowed = (principal: Principal, request: AccessRequest): boolean =>
  decide(principal, request) === 'allow';
