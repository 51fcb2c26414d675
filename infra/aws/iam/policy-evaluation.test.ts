/**
 * The evaluator against AWS's documented rules: the evaluation logic
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluationlogic.html) and
 * the condition operators
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
 * Each case is one the bare pbac evaluator gets wrong or cannot express.
 */
import { describe, expect, it } from 'vitest';
import {
  decide,
  type PolicyDocument,
  type PolicyStatement,
  UnsupportedPolicyConstruct,
} from './policy-evaluation.ts';

const policy = (...Statement: PolicyStatement[]): PolicyDocument => ({
  Version: '2012-10-17',
  Statement,
});
const allowAll = policy({ Effect: 'Allow', Action: '*', Resource: '*' });
const TABLE = 'arn:aws:dynamodb:eu-west-1:111111111111:table/Runs';

describe('evaluation logic', () => {
  it('denies what no policy allows (implicit deny)', () => {
    const only = policy({ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*' });
    expect(decide({ identity: [only] }, { action: 'dynamodb:GetItem', resource: TABLE })).toBe(
      'implicit-deny',
    );
  });

  it('an explicit deny wins over any allow, in whichever policy it is', () => {
    const deny = policy({ Effect: 'Deny', Action: 'dynamodb:*', Resource: TABLE });
    expect(
      decide({ identity: [allowAll, deny] }, { action: 'dynamodb:GetItem', resource: TABLE }),
    ).toBe('explicit-deny');
    expect(
      decide(
        { identity: [allowAll], boundary: deny },
        { action: 'dynamodb:GetItem', resource: TABLE },
      ),
    ).toBe('explicit-deny');
  });

  it('a permissions boundary intersects: both it and an identity policy must allow', () => {
    const boundary = policy({ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: '*' });
    const principal = { identity: [allowAll], boundary };
    expect(decide(principal, { action: 'dynamodb:GetItem', resource: TABLE })).toBe('allow');
    // The identity allows *, the boundary does not: implicit deny.
    expect(decide(principal, { action: 'iam:CreateRole', resource: '*' })).toBe('implicit-deny');
    // The boundary allows, but grants nothing by itself.
    const narrow = policy({ Effect: 'Allow', Action: 'sqs:*', Resource: '*' });
    expect(
      decide({ identity: [narrow], boundary }, { action: 'dynamodb:GetItem', resource: TABLE }),
    ).toBe('implicit-deny');
  });

  it('matches action names case-insensitively, resources with wildcards', () => {
    const lower = policy({
      Effect: 'Allow',
      Action: 'dynamodb:getitem',
      Resource: 'arn:aws:dynamodb:*:111111111111:table/R*',
    });
    expect(decide({ identity: [lower] }, { action: 'dynamodb:GetItem', resource: TABLE })).toBe(
      'allow',
    );
    expect(
      decide(
        { identity: [lower] },
        { action: 'dynamodb:GetItem', resource: TABLE.replace('Runs', 'Other') },
      ),
    ).toBe('implicit-deny');
  });

  it('honours NotAction and NotResource', () => {
    const denyOthers = policy({
      Effect: 'Deny',
      NotAction: 'cloudformation:Describe*',
      NotResource: 'arn:aws:cloudformation:*:*:stack/Mine/*',
    });
    const principal = { identity: [allowAll, denyOthers] };
    const other = 'arn:aws:cloudformation:eu-west-1:111111111111:stack/Other/1';
    expect(decide(principal, { action: 'cloudformation:DeleteStack', resource: other })).toBe(
      'explicit-deny',
    );
    expect(decide(principal, { action: 'cloudformation:DescribeStacks', resource: other })).toBe(
      'allow',
    );
    expect(
      decide(principal, {
        action: 'cloudformation:DeleteStack',
        resource: other.replace('Other', 'Mine'),
      }),
    ).toBe('allow');
  });
});

describe('conditions', () => {
  const BOUNDARY = 'arn:aws:iam::111111111111:policy/Boundary';
  const withBoundary = policy({
    Effect: 'Allow',
    Action: 'iam:CreateRole',
    Resource: '*',
    Condition: { StringEquals: { 'iam:PermissionsBoundary': BOUNDARY } },
  });
  const createRole = (context?: Record<string, string>) => ({
    action: 'iam:CreateRole',
    resource: '*',
    context,
  });

  it('a positive operator is false when the key is absent (pbac compared the key name)', () => {
    expect(decide({ identity: [withBoundary] }, createRole())).toBe('implicit-deny');
    expect(
      decide({ identity: [withBoundary] }, createRole({ 'iam:PermissionsBoundary': BOUNDARY })),
    ).toBe('allow');
    expect(
      decide(
        { identity: [withBoundary] },
        createRole({ 'iam:PermissionsBoundary': `${BOUNDARY}2` }),
      ),
    ).toBe('implicit-deny');
  });

  it('condition key names are case-insensitive', () => {
    expect(
      decide({ identity: [withBoundary] }, createRole({ 'IAM:permissionsboundary': BOUNDARY })),
    ).toBe('allow');
  });

  it('a negated operator is true when the key is absent, and needs no value to match', () => {
    const denyOtherBoundary = policy({
      Effect: 'Deny',
      Action: 'iam:CreateRole',
      Resource: '*',
      Condition: { StringNotEquals: { 'iam:PermissionsBoundary': [BOUNDARY, `${BOUNDARY}Alt`] } },
    });
    const principal = { identity: [allowAll, denyOtherBoundary] };
    expect(decide(principal, createRole())).toBe('explicit-deny');
    expect(
      decide(principal, createRole({ 'iam:PermissionsBoundary': 'arn:aws:iam::1:policy/X' })),
    ).toBe('explicit-deny');
    // pbac ORed the values: BOUNDARY differs from `…Alt`, so it denied this too.
    expect(decide(principal, createRole({ 'iam:PermissionsBoundary': BOUNDARY }))).toBe('allow');
  });

  it('every key of an operator block must hold (pbac read only the first)', () => {
    const both = policy({
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: '*',
      Condition: {
        StringEquals: {
          'iam:PassedToService': 'lambda.amazonaws.com',
          'aws:RequestedRegion': 'eu-west-1',
        },
      },
    });
    const pass = (context: Record<string, string>) => ({
      action: 'iam:PassRole',
      resource: '*',
      context,
    });
    expect(
      decide(
        { identity: [both] },
        pass({ 'iam:PassedToService': 'lambda.amazonaws.com', 'aws:RequestedRegion': 'eu-west-1' }),
      ),
    ).toBe('allow');
    expect(
      decide(
        { identity: [both] },
        pass({ 'iam:PassedToService': 'lambda.amazonaws.com', 'aws:RequestedRegion': 'us-east-1' }),
      ),
    ).toBe('implicit-deny');
  });

  it('several values for a key: any may match', () => {
    const services = policy({
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: '*',
      Condition: {
        StringEquals: {
          'iam:PassedToService': ['lambda.amazonaws.com', 'ecs-tasks.amazonaws.com'],
        },
      },
    });
    const pass = (service: string) => ({
      action: 'iam:PassRole',
      resource: '*',
      context: { 'iam:PassedToService': service },
    });
    expect(decide({ identity: [services] }, pass('ecs-tasks.amazonaws.com'))).toBe('allow');
    expect(decide({ identity: [services] }, pass('ec2.amazonaws.com'))).toBe('implicit-deny');
  });

  it('IfExists passes an absent key; Null tests presence', () => {
    const ifExists = policy({
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: '*',
      Condition: { StringEqualsIfExists: { 'aws:RequestTag/stage': 'dev' } },
    });
    const get = (context?: Record<string, string>) => ({
      action: 's3:GetObject',
      resource: '*',
      context,
    });
    expect(decide({ identity: [ifExists] }, get())).toBe('allow');
    expect(decide({ identity: [ifExists] }, get({ 'aws:RequestTag/stage': 'prod' }))).toBe(
      'implicit-deny',
    );
    const mustBeAbsent = policy({
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: '*',
      Condition: { Null: { 'aws:RequestTag/stage': 'true' } },
    });
    expect(decide({ identity: [mustBeAbsent] }, get())).toBe('allow');
    expect(decide({ identity: [mustBeAbsent] }, get({ 'aws:RequestTag/stage': 'dev' }))).toBe(
      'implicit-deny',
    );
  });

  it('ArnLike matches ARN patterns', () => {
    const arn = policy({
      Effect: 'Allow',
      Action: 'lambda:CreateEventSourceMapping',
      Resource: '*',
      Condition: {
        ArnLike: { 'lambda:FunctionArn': 'arn:aws:lambda:*:111111111111:function:App-dev-*' },
      },
    });
    const create = (fn: string) => ({
      action: 'lambda:CreateEventSourceMapping',
      resource: '*',
      context: { 'lambda:FunctionArn': `arn:aws:lambda:eu-west-1:111111111111:function:${fn}` },
    });
    expect(decide({ identity: [arn] }, create('App-dev-ingest'))).toBe('allow');
    expect(decide({ identity: [arn] }, create('App-prod-ingest'))).toBe('implicit-deny');
  });

  it('refuses an operator it does not know instead of guessing', () => {
    const unknown = policy({
      Effect: 'Allow',
      Action: '*',
      Resource: '*',
      Condition: { StringSoundsLike: { 'aws:x': 'y' } },
    });
    expect(() =>
      decide(
        { identity: [unknown] },
        { action: 'sqs:SendMessage', resource: '*', context: { 'aws:x': 'y' } },
      ),
    ).toThrow(/StringSoundsLike/);
  });
});

/**
 * What the evaluator does not implement it refuses, naming the construct, instead of answering:
 * an answer it cannot justify would become a wrong proof the day a policy uses the construct.
 * Each case says what AWS does, from the IAM JSON policy reference.
 */
describe('refuses what it does not implement', () => {
  const allowAll = policy({ Effect: 'Allow', Action: '*', Resource: '*' });
  const request = { action: 'sqs:SendMessage', resource: '*', context: { 'aws:x': 'y' } };
  const refuses = (
    document: PolicyDocument,
    construct: RegExp,
    context?: Record<string, unknown>,
  ) => {
    const act = () =>
      decide(
        { identity: [allowAll, document] },
        { ...request, context: (context ?? request.context) as Record<string, string> },
      );
    expect(act).toThrow(UnsupportedPolicyConstruct);
    expect(act).toThrow(construct);
  };
  const withCondition = (Condition: Record<string, Record<string, unknown>>): PolicyDocument =>
    policy({ Effect: 'Deny', Action: 'sqs:*', Resource: '*', Condition });

  it('a policy without Version (AWS then reads it as 2008-10-17, where ${…} is literal text)', () => {
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html
    refuses({ Statement: [{ Effect: 'Deny', Action: 'sqs:*', Resource: '*' }] }, /Version/);
    refuses(
      { Version: '2008-10-17', Statement: [{ Effect: 'Deny', Action: 'sqs:*', Resource: '*' }] },
      /Version 2008-10-17/,
    );
  });

  it('policy variables in resources and condition values (${aws:username}, ${*})', () => {
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
    refuses(
      policy({ Effect: 'Deny', Action: 'sqs:*', Resource: 'arn:aws:sqs:*:*:${aws:username}-*' }),
      /policy variable \$\{aws:username\}/,
    );
    refuses(
      policy({
        Effect: 'Deny',
        Action: 'sqs:*',
        NotResource: 'arn:aws:sqs:*:*:${aws:PrincipalTag/team}',
      }),
      /policy variable/,
    );
    refuses(withCondition({ StringLike: { 'aws:x': 'a${*}b' } }), /policy variable \$\{\*\}/);
  });

  it('numeric and date operators (AWS compares numbers and ISO 8601 dates, not strings)', () => {
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Numeric
    refuses(withCondition({ NumericLessThan: { 'aws:x': 'ten' } }), /NumericLessThan/);
    refuses(withCondition({ NumericEquals: { 'aws:x': '10' } }), /NumericEquals/);
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Date
    refuses(withCondition({ DateGreaterThan: { 'aws:CurrentTime': 'soon' } }), /DateGreaterThan/);
    refuses(
      withCondition({ DateLessThanIfExists: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } }),
      /DateLessThanIfExists/,
    );
  });

  it('IP address and binary operators', () => {
    refuses(withCondition({ IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }), /IpAddress/);
    refuses(withCondition({ NotIpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }), /NotIpAddress/);
    refuses(withCondition({ BinaryEquals: { 'aws:x': 'QmluYXJ5' } }), /BinaryEquals/);
  });

  it('ForAllValues / ForAnyValue with a negated operator, e.g. ForAllValues:StringNotLike with several values', () => {
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
    refuses(
      withCondition({ 'ForAllValues:StringNotLike': { 'aws:TagKeys': ['a*', 'b*'] } }),
      /ForAllValues:StringNotLike/,
      { 'aws:TagKeys': ['apple'] },
    );
    refuses(
      withCondition({ 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': 'a' } }),
      /ForAnyValue:StringNotEquals/,
    );
  });

  it('a multivalued request key under a single-valued operator', () => {
    // AWS: use ForAllValues/ForAnyValue with multivalued keys; otherwise the result is undefined.
    refuses(
      withCondition({ StringEquals: { 'aws:TagKeys': 'a' } }),
      /aws:TagKeys.*several values/,
      {
        'aws:TagKeys': ['a', 'b'],
      },
    );
  });

  it('Null with IfExists, or with several values', () => {
    refuses(withCondition({ NullIfExists: { 'aws:x': 'true' } }), /NullIfExists/);
    refuses(withCondition({ Null: { 'aws:x': ['true', 'false'] } }), /Null/);
  });

  it('elements of resource-based policies (Principal, NotPrincipal) in an identity policy', () => {
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
    refuses(
      policy({ Effect: 'Deny', Action: 'sqs:*', Resource: '*', Principal: { AWS: '*' } } as never),
      /Principal/,
    );
    refuses(
      policy({
        Effect: 'Deny',
        Action: 'sqs:*',
        Resource: '*',
        NotPrincipal: { AWS: '*' },
      } as never),
      /NotPrincipal/,
    );
  });

  it('malformed statements: unknown elements, Action and NotAction together, no Resource', () => {
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
    refuses(policy({ Effect: 'Deny', Actions: 'sqs:*', Resource: '*' } as never), /Actions/);
    refuses(
      policy({ Effect: 'Deny', Action: 'sqs:*', NotAction: 'sqs:Get*', Resource: '*' }),
      /Action and NotAction/,
    );
    refuses(policy({ Effect: 'Deny', Action: 'sqs:*' }), /Resource/);
    refuses(policy({ Effect: 'Maybe', Action: 'sqs:*', Resource: '*' } as never), /Effect Maybe/);
  });

  it('condition values that are neither strings nor booleans', () => {
    refuses(withCondition({ StringEquals: { 'aws:x': { nested: 'y' } } }), /aws:x/);
  });

  it('still answers the positive set operators it implements', () => {
    const anyTag = policy({
      Effect: 'Allow',
      Action: 'ec2:CreateTags',
      Resource: '*',
      Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['stage', 'project'] } },
    });
    const allTags = policy({
      Effect: 'Allow',
      Action: 'ec2:DeleteTags',
      Resource: '*',
      Condition: { 'ForAllValues:StringLike': { 'aws:TagKeys': ['iot-*', 'stage'] } },
    });
    const principal = { identity: [anyTag, allTags] };
    const tags = (action: string, keys?: string[]) =>
      decide(principal, { action, resource: '*', context: keys ? { 'aws:TagKeys': keys } : {} });
    expect(tags('ec2:CreateTags', ['owner', 'stage'])).toBe('allow');
    expect(tags('ec2:CreateTags', ['owner'])).toBe('implicit-deny');
    // ForAnyValue with the key absent is false; ForAllValues with the key absent is true.
    expect(tags('ec2:CreateTags')).toBe('implicit-deny');
    expect(tags('ec2:DeleteTags')).toBe('allow');
    expect(tags('ec2:DeleteTags', ['iot-playground:stage', 'stage'])).toBe('allow');
    expect(tags('ec2:DeleteTags', ['iot-playground:stage', 'owner'])).toBe('implicit-deny');
  });
});

describe('cross-account requests', () => {
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
  const everything = policy({ Effect: 'Allow', Action: '*', Resource: '*' });

  it('an identity policy alone reaches only its own account: another account needs a resource policy', () => {
    const principal = { account: '111111111111', identity: [everything] };
    const other = 'arn:aws:dynamodb:eu-west-1:222222222222:table/Runs';
    expect(decide(principal, { action: 'dynamodb:GetItem', resource: other })).toBe(
      'implicit-deny',
    );
    expect(decide(principal, { action: 'dynamodb:GetItem', resource: TABLE })).toBe('allow');
    // ARNs without an account (Route 53 zones, API Gateway) name their owner explicitly.
    const zone = 'arn:aws:route53:::hostedzone/Z0123456789';
    expect(
      decide(principal, {
        action: 'route53:ChangeResourceRecordSets',
        resource: zone,
        resourceAccount: '222222222222',
      }),
    ).toBe('implicit-deny');
    expect(decide(principal, { action: 'route53:ChangeResourceRecordSets', resource: zone })).toBe(
      'allow',
    );
  });
});
