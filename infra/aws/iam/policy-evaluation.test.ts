/**
 * The evaluator against AWS's documented rules: the evaluation logic
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluationlogic.html) and
 * the condition operators
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
 * Each case is one the bare pbac evaluator gets wrong or cannot express.
 */
import { describe, expect, it } from 'vitest';
import { decide, type PolicyDocument, type PolicyStatement } from './policy-evaluation.ts';

const policy = (...Statement: PolicyStatement[]): PolicyDocument => ({ Statement });
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
