/**
 * The policy questions, asked once: every property the security design claims
 * (docs/security.md), as concrete questions about the synthesized policies. The tests ask them
 * of the local evaluator (policy-evaluation.ts); `npm run check:policies` asks the same ones of
 * the evaluator and, online, of IAM's policy simulator and IAM Access Analyzer.
 *
 * Three kinds of question:
 *  - access: may this principal make this request? (evaluator; IAM SimulateCustomPolicy)
 *  - not-granted: does this policy grant none of these actions on these resources, whatever
 *    the request's condition keys? (evaluator without conditions; Access Analyzer
 *    CheckAccessNotGranted)
 *  - template: a property of the synthesized template itself (local only).
 *
 * Questions are asked of one stage S and its account; "the other stage" O is in the same
 * account (one account, two qualifiers) or another one (separate accounts), as the set-up's
 * environments say.
 */
import {
  BOOTSTRAP_ROLE_KINDS,
  bootstrapRoleName,
  DATA_READS,
  LOOKUP_READS,
  POLICY_CHECKS,
  STACK_CHANGES,
} from '../bootstrap/github-deploy-role.ts';
import {
  ATTACHABLE_MANAGED_POLICIES,
  INVOKING_SERVICES,
  ROLE_SERVICES,
} from '../bootstrap/stage-policies.ts';
import {
  CDK_QUALIFIERS,
  executionPolicyName,
  permissionsBoundaryName,
  STAGES,
  type StageName,
  stackNameFor,
} from '../stage-config.ts';
import type { StagePolicies } from './bootstrap-policies.ts';
import { deploymentEnvironment, requestsOf, type TemplateJson } from './deployment-requests.ts';
import { resolveIntrinsics } from './intrinsics.ts';
import {
  type AccessRequest,
  accountOf,
  type Decision,
  decide,
  type PolicyDocument,
  type PolicyStatement,
  type Principal,
} from './policy-evaluation.ts';
import { targetRequests } from './stage-resources.ts';

export const PROPERTIES = {
  'stage-boundary': 'No role without the stage boundary',
  'boundary-kept': 'No boundary removed or changed',
  'pass-role': "PassRole only to the stage's Lambda functions and ECS tasks",
  'data-scope': "Data services only on the stage's resources",
  'never-public': 'No trust change, no data made public',
  'stages-apart': 'The other stage cannot reach this one',
  'shared-account': 'What one account for both stages leaves open (acknowledged at set-up)',
  deploys: 'Every request of a real deployment is allowed',
  'boundary-contains': 'A role under the boundary reaches nothing outside the stage',
  'app-roles': "Every permission of the app's roles survives the boundary",
  'github-roles': 'The GitHub roles reach only their stage',
  'bootstrap-fence': "The bootstrap deploy role changes only its stage's stack, reads no data",
  'lookup-scope': 'The lookup role reads only what plans read',
} as const;
export type PropertyId = keyof typeof PROPERTIES;

/** `deny` accepts either kind of denial. */
export type Expectation = Decision | 'deny';

interface QuestionBase {
  property: PropertyId;
  /** Unique, readable: what is asked. */
  id: string;
}

export interface AccessQuestion extends QuestionBase {
  kind: 'access';
  principal: string;
  request: AccessRequest;
  expect: Expectation;
  /** Why IAM's simulator is not asked this one (it evaluates within one account). */
  localOnly?: string;
}

export interface NotGrantedQuestion extends QuestionBase {
  kind: 'not-granted';
  policy: string;
  access: { actions: string[]; resources: string[] };
}

export interface TemplateQuestion extends QuestionBase {
  kind: 'template';
  /** What breaks the property, one line each; empty when it holds. */
  failures: string[];
}

export type Question = AccessQuestion | NotGrantedQuestion | TemplateQuestion;

export interface NamedPolicy {
  name: string;
  document: PolicyDocument;
  type: 'IDENTITY_POLICY' | 'RESOURCE_POLICY';
  /** For Access Analyzer's resource-specific checks of trust policies. */
  resourceType?: 'AWS::IAM::AssumeRolePolicyDocument';
}

export interface PolicyCatalogue {
  stage: StageName;
  layout: 'one account' | 'separate accounts';
  principals: Record<string, Principal>;
  policies: NamedPolicy[];
  questions: Question[];
}

export interface AppTemplate {
  template: TemplateJson;
  stackName: string;
}

export interface CatalogueInput {
  stage: StageName;
  /** Both stages' set-up policies (bootstrap-policies.ts), each for its account. */
  bootstrap: Record<StageName, StagePolicies>;
  /** The stage's synthesized stack; without it, only the set-up's questions are asked. */
  app?: AppTemplate;
}

const ALLOW_ALL: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
};

const statementsOf = (document: PolicyDocument): PolicyStatement[] => [document.Statement].flat();

/** Principal names, as the report prints them. */
export const principalName = {
  execution: (stage: StageName) => `${stage} execution policy`,
  underBoundary: (stage: StageName) => `${stage} role granted *:* under the boundary`,
  githubDeploy: (stage: StageName) => `${stage} GitHub deploy role`,
  githubPlan: (stage: StageName) => `${stage} GitHub plan role`,
  bootstrapDeploy: (stage: StageName) => `${stage} bootstrap deploy role`,
  bootstrapLookup: (stage: StageName) => `${stage} bootstrap lookup role (ReadOnlyAccess as *)`,
  appRole: (stage: StageName, id: string) => `${stage} app role ${id}`,
};

const principalsOf = (stage: StageName, policies: StagePolicies): Record<string, Principal> => {
  const { account } = policies.env;
  return {
    [principalName.execution(stage)]: { account, identity: [policies.execution] },
    [principalName.underBoundary(stage)]: {
      account,
      identity: [ALLOW_ALL],
      boundary: policies.boundary,
    },
    [principalName.githubDeploy(stage)]: { account, identity: policies.githubDeploy },
    [principalName.githubPlan(stage)]: { account, identity: policies.githubPlan },
    [principalName.bootstrapDeploy(stage)]: {
      account,
      identity: [...policies.bootstrapDeploy, policies.fence],
    },
    // ReadOnlyAccess (CDK's bootstrap attaches it) stood for by Allow *: whatever the fences
    // deny under *, they deny under ReadOnlyAccess.
    [principalName.bootstrapLookup(stage)]: {
      account,
      identity: [ALLOW_ALL, policies.fence, policies.lookupFence],
    },
  };
};

/** The app's roles with their inline policies, resolved for the deployment. */
const appRoles = (app: AppTemplate, account: string, region: string) => {
  const { template } = app;
  const environment = deploymentEnvironment(template, app.stackName, account, region);
  const roles = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Role');
  return {
    environment,
    roles: roles.map(([id, role]) => {
      const inline = Object.values(template.Resources)
        .filter(
          (r) =>
            r.Type === 'AWS::IAM::Policy' &&
            JSON.stringify(r.Properties?.Roles).includes(`"${id}"`),
        )
        .map((r) => r.Properties!.PolicyDocument);
      const own = ((role.Properties?.Policies ?? []) as { PolicyDocument: unknown }[]).map(
        (p) => p.PolicyDocument,
      );
      return {
        id,
        documents: [...inline, ...own].map(
          (document) => resolveIntrinsics(document, environment) as PolicyDocument,
        ),
        trust: resolveIntrinsics(
          role.Properties?.AssumeRolePolicyDocument,
          environment,
        ) as PolicyDocument,
      };
    }),
  };
};

type Ask = (
  property: PropertyId,
  principal: string,
  action: string,
  resource: string,
  expect: Expectation,
  context?: AccessRequest['context'],
  extra?: { resourceAccount?: string; note?: string },
) => void;

/** The catalogue for one stage: principals, policies and questions. */
export const policyCatalogue = (input: CatalogueInput): PolicyCatalogue => {
  const S = input.stage;
  const O = STAGES.find((stage) => stage !== S)!;
  const own = input.bootstrap[S];
  const other = input.bootstrap[O];
  const { account, region } = own.env;
  const separate = other.env.account !== account;
  const questions: Question[] = [];
  const principals: Record<string, Principal> = {
    ...principalsOf(S, own),
    ...principalsOf(O, other),
  };
  const ids = new Set<string>();
  const ask: Ask = (property, principal, action, resource, expect, context, extra = {}) => {
    const request: AccessRequest = {
      action,
      resource,
      ...(context && Object.keys(context).length > 0 ? { context } : {}),
      ...(extra.resourceAccount ? { resourceAccount: extra.resourceAccount } : {}),
    };
    const contextText = context
      ? Object.entries(context)
          .map(([key, value]) => ` ${key}=${String(value)}`)
          .join('')
      : '';
    let id = `${principal}: ${action} on ${resource}${contextText}${extra.note ? ` (${extra.note})` : ''}`;
    for (let n = 2; ids.has(id); n += 1) id = `${id} #${n}`;
    ids.add(id);
    const owner = extra.resourceAccount ?? accountOf(resource);
    const from = principals[principal]?.account;
    questions.push({
      kind: 'access',
      property,
      id,
      principal,
      request,
      expect,
      ...(owner !== undefined && from !== undefined && owner !== from
        ? { localOnly: 'cross-account: the simulator evaluates within one account' }
        : {}),
    });
  };

  const arn = (service: string, rest: string, acct = account) =>
    `arn:aws:${service}:${region}:${acct}:${rest}`;
  const role = (name: string, acct = account) => `arn:aws:iam::${acct}:role/${name}`;
  const boundaryOf = (stage: StageName) =>
    `arn:aws:iam::${input.bootstrap[stage].env.account}:policy/${permissionsBoundaryName(stage)}`;
  const stackArn = (name: string, acct = account) =>
    `arn:aws:cloudformation:${region}:${acct}:stack/${name}/8f0e-41a2`;
  const bootstrapRole = (
    stage: StageName,
    kind: string,
    acct = input.bootstrap[stage].env.account,
  ) => role(bootstrapRoleName(CDK_QUALIFIERS[stage], kind, acct, region), acct);
  const prefix = (stage: StageName) => `${stackNameFor(stage)}-`;
  const execution = principalName.execution(S);

  // -- No role without the stage boundary ------------------------------------------------------
  const stageRole = role(`${prefix(S)}ingestRole-X`);
  for (const action of ['iam:CreateRole', 'iam:PutRolePolicy', 'iam:PutRolePermissionsBoundary']) {
    ask('stage-boundary', execution, action, stageRole, 'explicit-deny');
    ask('stage-boundary', execution, action, stageRole, 'explicit-deny', {
      'iam:PermissionsBoundary': boundaryOf(O),
    });
    ask('stage-boundary', execution, action, stageRole, 'allow', {
      'iam:PermissionsBoundary': boundaryOf(S),
    });
  }
  for (const name of ['Admin', `${prefix(O)}x`]) {
    ask('stage-boundary', execution, 'iam:CreateRole', role(name), 'implicit-deny', {
      'iam:PermissionsBoundary': boundaryOf(S),
    });
  }
  ask('stage-boundary', execution, 'iam:AttachRolePolicy', stageRole, 'implicit-deny', {
    'iam:PermissionsBoundary': boundaryOf(S),
    'iam:PolicyARN': 'arn:aws:iam::aws:policy/AdministratorAccess',
  });
  for (const policy of ATTACHABLE_MANAGED_POLICIES) {
    ask('stage-boundary', execution, 'iam:AttachRolePolicy', stageRole, 'allow', {
      'iam:PermissionsBoundary': boundaryOf(S),
      'iam:PolicyARN': `arn:aws:iam::aws:policy/${policy}`,
    });
  }

  // -- No boundary removed or changed ----------------------------------------------------------
  ask('boundary-kept', execution, 'iam:DeleteRolePermissionsBoundary', stageRole, 'explicit-deny');
  const executionPolicyArn = `arn:aws:iam::${account}:policy/${executionPolicyName(S)}`;
  for (const action of [
    'iam:CreatePolicyVersion',
    'iam:SetDefaultPolicyVersion',
    'iam:DeletePolicy',
    'iam:DeletePolicyVersion',
  ]) {
    ask('boundary-kept', execution, action, boundaryOf(S), 'explicit-deny');
    ask('boundary-kept', execution, action, executionPolicyArn, 'explicit-deny');
  }

  // -- PassRole only to the stage's services ---------------------------------------------------
  for (const service of ROLE_SERVICES) {
    ask('pass-role', execution, 'iam:PassRole', stageRole, 'allow', {
      'iam:PassedToService': service,
    });
  }
  for (const service of [
    'ec2.amazonaws.com',
    'ecs.amazonaws.com',
    'codebuild.amazonaws.com',
    'glue.amazonaws.com',
    'cloudformation.amazonaws.com',
  ]) {
    ask('pass-role', execution, 'iam:PassRole', stageRole, 'implicit-deny', {
      'iam:PassedToService': service,
    });
  }
  ask('pass-role', execution, 'iam:PassRole', stageRole, 'implicit-deny');
  for (const name of [
    'Admin',
    `${prefix(O)}ingestRole-X`,
    bootstrapRoleName(CDK_QUALIFIERS[S], 'cfn-exec', account, region),
  ]) {
    ask('pass-role', execution, 'iam:PassRole', role(name), 'implicit-deny', {
      'iam:PassedToService': 'lambda.amazonaws.com',
    });
  }

  // -- Data services only on the stage's resources ---------------------------------------------
  const secret = (name: string) => arn('secretsmanager', `secret:${name}-AbCdEf`);
  ask(
    'data-scope',
    execution,
    'secretsmanager:GetSecretValue',
    secret('prod/db-password'),
    'implicit-deny',
  );
  ask(
    'data-scope',
    execution,
    'secretsmanager:GetSecretValue',
    secret(`${prefix(O)}grafana-admin`),
    'implicit-deny',
  );
  ask(
    'data-scope',
    execution,
    'secretsmanager:GetSecretValue',
    secret(`${prefix(S)}grafana-admin`),
    'allow',
  );
  for (const name of ['billing-export', `${prefix(O)}ingestFunction-X`]) {
    for (const action of ['lambda:UpdateFunctionCode', 'lambda:AddPermission']) {
      ask('data-scope', execution, action, arn('lambda', `function:${name}`), 'implicit-deny', {
        ...(action === 'lambda:AddPermission' ? { 'lambda:Principal': INVOKING_SERVICES[0]! } : {}),
      });
    }
  }
  ask(
    'data-scope',
    execution,
    'lambda:UpdateFunctionCode',
    arn('lambda', `function:${prefix(S)}ingestFunction-X`),
    'allow',
  );
  ask('data-scope', execution, 'lambda:CreateEventSourceMapping', '*', 'implicit-deny', {
    'lambda:FunctionArn': arn('lambda', 'function:billing-export'),
  });
  for (const [action, resource] of [
    ['dynamodb:PutResourcePolicy', arn('dynamodb', 'table/Customers')],
    ['dynamodb:Scan', arn('dynamodb', 'table/Customers')],
    ['dynamodb:DeleteTable', arn('dynamodb', `table/${prefix(O)}TablesRuns-X`)],
    ['sqs:SetQueueAttributes', arn('sqs', 'payments')],
    ['sqs:AddPermission', arn('sqs', 'payments')],
    ['sqs:ReceiveMessage', arn('sqs', 'payments')],
    ['ec2:RunInstances', '*'],
    ['ec2:ModifySnapshotAttribute', '*'],
    ['ec2:CreateSnapshot', '*'],
    ['ec2:GetPasswordData', '*'],
    ['iam:CreateUser', '*'],
    ['iam:CreateAccessKey', '*'],
    ['iam:CreatePolicy', '*'],
    ['organizations:LeaveOrganization', '*'],
    ['kms:Decrypt', '*'],
    ['s3:GetObject', 'arn:aws:s3:::customer-exports/x'],
    ['s3:GetObject', `arn:aws:s3:::cdk-${CDK_QUALIFIERS[O]}-assets-${account}-${region}/a.zip`],
  ] as const) {
    ask(
      'data-scope',
      execution,
      action,
      resource,
      action === 'sqs:AddPermission' || action === 'dynamodb:PutResourcePolicy'
        ? 'explicit-deny'
        : 'implicit-deny',
    );
  }
  ask(
    'data-scope',
    execution,
    'dynamodb:UpdateTable',
    arn('dynamodb', `table/${prefix(S)}TablesRuns-X`),
    'allow',
  );
  ask(
    'data-scope',
    execution,
    'sqs:SetQueueAttributes',
    arn('sqs', `${prefix(S)}measurementsQueue-X`),
    'allow',
  );

  // What Access Analyzer can judge with no request at hand: the execution policy grants nothing
  // on the other stage's named resources, under any condition.
  const otherAccount = other.env.account;
  const otherNamed = [
    arn('dynamodb', `table/${prefix(O)}TablesRuns-X`, otherAccount),
    arn('sqs', `${prefix(O)}measurementsQueue-X`, otherAccount),
    arn('lambda', `function:${prefix(O)}ingestFunction-X`, otherAccount),
    arn('secretsmanager', `secret:${prefix(O)}grafana-admin-AbCdEf`, otherAccount),
    arn('logs', `log-group:/aws/lambda/${prefix(O)}ingestFunction-X`, otherAccount),
    arn('sns', `${prefix(O)}AlarmsTopic-X`, otherAccount),
    role(`${prefix(O)}ingestRole-X`, otherAccount),
  ];
  questions.push({
    kind: 'not-granted',
    property: 'data-scope',
    id: `${execution} grants nothing on ${O}'s tables, queues, functions, secrets, logs, topics and roles`,
    policy: execution,
    access: {
      actions: [
        'dynamodb:GetItem',
        'dynamodb:Scan',
        'dynamodb:DeleteTable',
        'dynamodb:PutResourcePolicy',
        'sqs:ReceiveMessage',
        'sqs:SetQueueAttributes',
        'lambda:UpdateFunctionCode',
        'lambda:AddPermission',
        'lambda:InvokeFunction',
        'secretsmanager:GetSecretValue',
        'logs:GetLogEvents',
        'sns:Subscribe',
        'iam:PassRole',
        'iam:PutRolePolicy',
      ],
      resources: otherNamed,
    },
  });

  // -- No trust change, no data made public (issue 27, finding 5) -----------------------------
  const fn = arn('lambda', `function:${prefix(S)}ingestFunction-X`);
  ask('never-public', execution, 'iam:UpdateAssumeRolePolicy', stageRole, 'explicit-deny');
  ask(
    'never-public',
    execution,
    'dynamodb:PutResourcePolicy',
    arn('dynamodb', `table/${prefix(S)}TablesRuns-X`),
    'explicit-deny',
  );
  // A secret's policy only with Secrets Manager's check against broad access turned on (the
  // infrastructure panel's credential carries one that denies every other principal).
  for (const [block, expected] of [
    [undefined, 'explicit-deny'],
    ['false', 'explicit-deny'],
    ['true', 'allow'],
  ] as const) {
    ask(
      'never-public',
      execution,
      'secretsmanager:PutResourcePolicy',
      secret(`${prefix(S)}infra-panel-github`),
      expected,
      block === undefined ? undefined : { 'secretsmanager:BlockPublicPolicy': block },
    );
  }
  ask('never-public', execution, 'lambda:CreateFunctionUrlConfig', fn, 'explicit-deny', {
    'lambda:FunctionUrlAuthType': 'NONE',
  });
  ask('never-public', execution, 'lambda:UpdateFunctionUrlConfig', fn, 'explicit-deny');
  ask(
    'never-public',
    execution,
    'sqs:AddPermission',
    arn('sqs', `${prefix(S)}measurementsQueue-X`),
    'explicit-deny',
  );
  ask(
    'never-public',
    execution,
    'sns:AddPermission',
    arn('sns', `${prefix(S)}AlarmsTopic-X`),
    'explicit-deny',
  );
  for (const principal of ['*', '999999999999', 's3.amazonaws.com']) {
    ask('never-public', execution, 'lambda:AddPermission', fn, 'explicit-deny', {
      'lambda:Principal': principal,
    });
  }
  for (const service of INVOKING_SERVICES) {
    ask('never-public', execution, 'lambda:AddPermission', fn, 'allow', {
      'lambda:Principal': service,
    });
  }

  // -- The GitHub roles reach only their stage -------------------------------------------------
  const deploy = principalName.githubDeploy(S);
  const plan = principalName.githubPlan(S);
  for (const kind of BOOTSTRAP_ROLE_KINDS) {
    ask('github-roles', deploy, 'sts:AssumeRole', bootstrapRole(S, kind), 'allow');
    ask(
      'github-roles',
      deploy,
      'sts:AssumeRole',
      bootstrapRole(S, kind, '999999999999'),
      'implicit-deny',
      undefined,
      { note: 'another account' },
    );
  }
  ask('github-roles', deploy, 'sts:AssumeRole', bootstrapRole(S, 'cfn-exec'), 'implicit-deny');
  ask(
    'github-roles',
    deploy,
    'sts:AssumeRole',
    role(`cdk-hnb659fds-deploy-role-${account}-${region}`),
    'implicit-deny',
  );
  for (const action of [
    'cloudformation:UpdateStack',
    'cloudformation:DeleteStack',
    'cloudformation:UpdateTerminationProtection',
    'cloudformation:DescribeStacks',
  ]) {
    ask('github-roles', deploy, action, stackArn(stackNameFor(S)), 'implicit-deny');
  }
  for (const action of ['cloudformation:DescribeStacks', 'cloudformation:GetTemplate']) {
    ask('github-roles', plan, action, stackArn(stackNameFor(S)), 'allow');
  }
  ask(
    'github-roles',
    plan,
    'cloudformation:UpdateStack',
    stackArn(stackNameFor(S)),
    'implicit-deny',
  );
  ask('github-roles', plan, 'sts:AssumeRole', bootstrapRole(S, 'lookup'), 'allow');
  for (const kind of ['deploy', 'file-publishing', 'image-publishing']) {
    ask('github-roles', plan, 'sts:AssumeRole', bootstrapRole(S, kind), 'implicit-deny');
  }
  for (const action of POLICY_CHECKS) ask('github-roles', plan, action, '*', 'allow');
  for (const action of ['iam:CreateRole', 'iam:PutRolePolicy', 'access-analyzer:CreateAnalyzer']) {
    ask('github-roles', plan, action, '*', 'implicit-deny');
  }

  // -- The bootstrap deploy role changes only its stage's stack, reads no data ----------------
  const bootstrapDeploy = principalName.bootstrapDeploy(S);
  for (const action of [
    'cloudformation:UpdateStack',
    'cloudformation:DeleteStack',
    'cloudformation:UpdateTerminationProtection',
    'cloudformation:CreateChangeSet',
    'cloudformation:ExecuteChangeSet',
  ]) {
    ask('bootstrap-fence', bootstrapDeploy, action, stackArn(stackNameFor(S)), 'allow');
  }
  const granted = own.bootstrapDeploy
    .flatMap(statementsOf)
    .filter((statement) => statement.Effect === 'Allow')
    .flatMap((statement) => [statement.Action ?? []].flat())
    .filter((action) => action.startsWith('cloudformation:'));
  for (const action of new Set([...granted, ...STACK_CHANGES])) {
    ask('bootstrap-fence', bootstrapDeploy, action, stackArn('CustomerBilling'), 'explicit-deny');
  }
  const lookup = principalName.bootstrapLookup(S);
  for (const principal of [bootstrapDeploy, lookup]) {
    const dataOf: Record<string, string> = {
      dynamodb: arn('dynamodb', `table/${prefix(S)}TablesSensorData-X`),
      sqs: arn('sqs', `${prefix(S)}measurementsQueue-X`),
      logs: arn('logs', 'log-group:/aws/lambda/billing'),
      secretsmanager: secret(`${prefix(S)}grafana-admin`),
    };
    for (const action of DATA_READS) {
      ask('bootstrap-fence', principal, action, dataOf[action.split(':')[0]!]!, 'explicit-deny');
    }
  }
  // Only S's GitHub deploy role, of the roles this project creates, may use S's bootstrap
  // deploy role (CDK's bootstrap trusts the whole account: docs/security.md).
  const stageDeployRole = bootstrapRole(S, 'deploy');
  for (const principal of [
    plan,
    principalName.githubDeploy(O),
    principalName.githubPlan(O),
    principalName.underBoundary(S),
    principalName.underBoundary(O),
  ]) {
    ask('bootstrap-fence', principal, 'sts:AssumeRole', stageDeployRole, 'implicit-deny');
  }

  // -- The lookup role reads only what plans read ----------------------------------------------
  const version = arn('ssm', `parameter/cdk-bootstrap/${CDK_QUALIFIERS[S]}/version`);
  for (const action of LOOKUP_READS.stack) {
    ask('lookup-scope', lookup, action, stackArn(stackNameFor(S)), 'allow');
    ask('lookup-scope', lookup, action, stackArn(stackNameFor(O)), 'explicit-deny');
  }
  ask('lookup-scope', lookup, 'ssm:GetParameter', version, 'allow');
  ask(
    'lookup-scope',
    lookup,
    'ssm:GetParameter',
    arn('ssm', 'parameter/prod/db-password'),
    'explicit-deny',
  );
  for (const action of LOOKUP_READS.context) ask('lookup-scope', lookup, action, '*', 'allow');
  for (const [action, resource] of [
    ['s3:GetObject', `arn:aws:s3:::cdk-${CDK_QUALIFIERS[S]}-assets-${account}-${region}/a.zip`],
    ['lambda:GetFunction', arn('lambda', `function:${prefix(S)}ingestFunction-X`)],
    ['ssm:GetParameters', arn('ssm', 'parameter/prod/db-password')],
    ['ec2:DescribeInstances', '*'],
    ['iam:GetRolePolicy', role(`${prefix(S)}ingestRole-X`)],
    ['cloudformation:GetTemplate', stackArn('CustomerBilling')],
    ['ecr:BatchGetImage', arn('ecr', `repository/cdk-${CDK_QUALIFIERS[S]}-container-assets`)],
  ] as const) {
    ask('lookup-scope', lookup, action, resource, 'explicit-deny');
  }

  // -- A role under the boundary reaches nothing outside the stage -----------------------------
  const underBoundary = principalName.underBoundary(S);
  for (const [action, resource] of [
    ['iam:CreateUser', '*'],
    ['iam:AttachRolePolicy', role('Admin')],
    ['sts:AssumeRole', role('OrganizationAccountAccessRole')],
    ['dynamodb:GetItem', arn('dynamodb', 'table/Customers')],
    ['dynamodb:Scan', arn('dynamodb', `table/${prefix(O)}TablesSensorData-X`)],
    ['sqs:ReceiveMessage', arn('sqs', `${prefix(O)}measurementsQueue-X`)],
    ['secretsmanager:GetSecretValue', arn('secretsmanager', 'secret:prod/db-AbCdEf')],
    ['s3:GetObject', 'arn:aws:s3:::customer-exports/x'],
    ['lambda:UpdateFunctionCode', arn('lambda', `function:${prefix(S)}ingest-X`)],
    ['ec2:RunInstances', '*'],
    ['logs:GetLogEvents', arn('logs', 'log-group:/aws/lambda/billing:*')],
  ] as const) {
    ask('boundary-contains', underBoundary, action, resource, 'implicit-deny');
  }
  for (const [action, resource] of [
    ['dynamodb:Query', arn('dynamodb', `table/${prefix(S)}TablesSensorData-X/index/byRun`)],
    ['sqs:SendMessage', arn('sqs', `${prefix(S)}measurementsQueue-X`)],
    ['logs:PutLogEvents', arn('logs', `log-group:${prefix(S)}ingestLogGroup-X:*`)],
    [
      'logs:PutLogEvents',
      arn('logs', `log-group:/aws/lambda/${prefix(S)}CustomVpcRestrictDefaultSG-X:*`),
    ],
    ['secretsmanager:GetSecretValue', secret(`${prefix(S)}grafana-admin`)],
  ] as const) {
    ask('boundary-contains', underBoundary, action, resource, 'allow');
  }

  const policies: NamedPolicy[] = [
    { name: principalName.execution(S), document: own.execution, type: 'IDENTITY_POLICY' },
    { name: `${S} permissions boundary`, document: own.boundary, type: 'IDENTITY_POLICY' },
    ...own.githubDeploy.map((document, index) => ({
      name: `${deploy} policy ${index + 1}`,
      document,
      type: 'IDENTITY_POLICY' as const,
    })),
    ...own.githubPlan.map((document, index) => ({
      name: `${plan} policy ${index + 1}`,
      document,
      type: 'IDENTITY_POLICY' as const,
    })),
    { name: `${S} bootstrap fence`, document: own.fence, type: 'IDENTITY_POLICY' },
    { name: `${S} lookup fence`, document: own.lookupFence, type: 'IDENTITY_POLICY' },
    ...Object.entries(own.trust).map(([name, document]) => ({
      name: `${name} trust policy`,
      document,
      type: 'RESOURCE_POLICY' as const,
      resourceType: 'AWS::IAM::AssumeRolePolicyDocument' as const,
    })),
  ];

  if (input.app !== undefined) {
    appQuestions(
      input.app,
      { S, O, account, region, separate },
      principals,
      policies,
      ask,
      questions,
    );
  }
  return {
    stage: S,
    layout: separate ? 'separate accounts' : 'one account',
    principals,
    policies,
    questions,
  };
};

/** The roles of a template that do not carry the stage's permissions boundary, one line each. */
export const rolesWithoutBoundary = (template: TemplateJson, stage: StageName): string[] =>
  Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::IAM::Role')
    .filter(
      ([, resource]) =>
        !JSON.stringify(resource.Properties?.PermissionsBoundary ?? null).includes(
          `:policy/${permissionsBoundaryName(stage)}`,
        ),
    )
    .map(([id]) => `${id} has no ${stage} boundary`);

/** The questions about the synthesized app: its deployment, its roles, its reach. */
const appQuestions = (
  app: AppTemplate,
  where: { S: StageName; O: StageName; account: string; region: string; separate: boolean },
  principals: Record<string, Principal>,
  policies: NamedPolicy[],
  ask: Ask,
  questions: Question[],
) => {
  const { S, O, account, region, separate } = where;
  const { template } = app;
  const { environment, roles } = appRoles(app, account, region);
  const boundary = principals[principalName.underBoundary(S)]!.boundary!;

  // Every request a real deployment makes, allowed by the stage's own execution policy; the
  // data ones refused by the other stage's.
  const requests = requestsOf(template, environment);
  for (const request of requests) {
    ask(
      'deploys',
      principalName.execution(S),
      request.action,
      request.resource,
      'allow',
      request.context,
      { note: request.for },
    );
  }
  for (const request of requests.filter(
    (r) =>
      /^(dynamodb|sqs|lambda|secretsmanager|iam:CreateRole|iam:PassRole)/.test(r.action) &&
      r.resource !== '*',
  )) {
    ask(
      'stages-apart',
      principalName.execution(O),
      request.action,
      request.resource,
      'deny',
      request.context,
      { note: request.for },
    );
  }
  // Resources whose ids AWS assigns: told apart by the stage tag, or exposed in one account.
  for (const target of targetRequests(template, { account, region })) {
    if (target.exposure === undefined) {
      ask(
        'stages-apart',
        principalName.execution(O),
        target.action,
        target.resource,
        separate ? 'deny' : 'explicit-deny',
        target.context,
        { resourceAccount: target.resourceAccount, note: target.for },
      );
    } else {
      ask(
        'shared-account',
        principalName.execution(O),
        target.action,
        target.resource,
        separate ? 'implicit-deny' : 'allow',
        target.context,
        {
          resourceAccount: target.resourceAccount,
          note: `${target.type} ${target.for}: ${target.exposure}`,
        },
      );
    }
  }

  // Every permission of the app's roles on the app's resources survives the boundary.
  for (const appRole of roles) {
    const name = principalName.appRole(S, appRole.id);
    principals[name] = { account, identity: appRole.documents, boundary };
    appRole.documents.forEach((document, index) =>
      policies.push({ name: `${name} policy ${index + 1}`, document, type: 'IDENTITY_POLICY' }),
    );
    policies.push({
      name: `${name} trust policy`,
      document: appRole.trust,
      type: 'RESOURCE_POLICY',
      resourceType: 'AWS::IAM::AssumeRolePolicyDocument',
    });
    for (const statement of appRole.documents.flatMap(statementsOf)) {
      if (statement.Effect !== 'Allow') continue;
      for (const action of [statement.Action ?? []].flat()) {
        for (const resource of [statement.Resource ?? []].flat()) {
          ask('app-roles', name, action, resource, 'allow');
        }
      }
    }
    ask(
      'bootstrap-fence',
      name,
      'sts:AssumeRole',
      `arn:aws:iam::${account}:role/${bootstrapRoleName(CDK_QUALIFIERS[S], 'deploy', account, region)}`,
      'implicit-deny',
    );
  }

  questions.push({
    kind: 'template',
    property: 'stage-boundary',
    id: `every role of ${app.stackName} carries the ${S} boundary`,
    failures: rolesWithoutBoundary(template, S),
  });
  questions.push({
    kind: 'template',
    property: 'never-public',
    id: `every role of ${app.stackName} is assumable only by the stage's services`,
    failures: roles.flatMap((r) =>
      statementsOf(r.trust).flatMap((statement) => {
        const principal = (statement as { Principal?: { Service?: unknown } }).Principal;
        const services = [principal?.Service ?? []].flat() as string[];
        const onlyServices =
          principal !== undefined && Object.keys(principal).every((key) => key === 'Service');
        return onlyServices && services.every((service) => ROLE_SERVICES.includes(service))
          ? []
          : [`${r.id} trusts ${JSON.stringify(principal)}`];
      }),
    ),
  });
  // Queue, topic and invoke permissions: who else they admit.
  const outsiders: string[] = [];
  for (const [id, resource] of Object.entries(template.Resources)) {
    const props = resource.Properties ?? {};
    if (resource.Type === 'AWS::Lambda::Permission') {
      const principal = String(props.Principal);
      if (!INVOKING_SERVICES.includes(principal)) outsiders.push(`${id} lets ${principal} invoke`);
    }
    if (resource.Type === 'AWS::SQS::QueuePolicy' || resource.Type === 'AWS::SNS::TopicPolicy') {
      const document = resolveIntrinsics(props.PolicyDocument, environment) as PolicyDocument;
      policies.push({ name: `${S} ${id}`, document, type: 'RESOURCE_POLICY' });
      for (const statement of statementsOf(document)) {
        if (statement.Effect !== 'Allow') continue;
        const principal = (statement as { Principal?: unknown }).Principal;
        const aws = [(principal as { AWS?: unknown } | undefined)?.AWS ?? []].flat() as string[];
        if (principal === '*' || aws.some((p) => !p.includes(`:${account}:`) && p !== account)) {
          outsiders.push(`${id} allows ${JSON.stringify(principal)}`);
        }
      }
    }
  }
  questions.push({
    kind: 'template',
    property: 'never-public',
    id: `no queue, topic or function of ${app.stackName} admits anyone outside the stage`,
    failures: outsiders,
  });
};

// -- Answering locally -----------------------------------------------------------------------

export const meets = (decision: Decision, expect: Expectation): boolean =>
  expect === 'deny' ? decision !== 'allow' : decision === expect;

/** A policy without its conditions: what it could allow under some request context. */
const unconditioned = (document: PolicyDocument): PolicyDocument => ({
  Version: document.Version,
  Statement: statementsOf(document)
    .filter((statement) => statement.Effect === 'Allow' || statement.Condition === undefined)
    .map(({ Condition: _condition, ...statement }) => statement),
});

export interface LocalAnswer {
  /** The evaluator's answer: a decision, PASS/FAIL, or the template's failures. */
  answer: string;
  holds: boolean;
}

/** The local evaluator's answer to a question. */
export const answerLocally = (catalogue: PolicyCatalogue, question: Question): LocalAnswer => {
  if (question.kind === 'template') {
    return {
      answer: question.failures.length === 0 ? 'holds' : question.failures.join('; '),
      holds: question.failures.length === 0,
    };
  }
  if (question.kind === 'not-granted') {
    const policy = catalogue.policies.find((p) => p.name === question.policy) ?? {
      document: catalogue.principals[question.policy]!.identity[0]!,
    };
    const principal: Principal = { identity: [unconditioned(policy.document)] };
    const granted = question.access.actions.flatMap((action) =>
      question.access.resources
        .filter((resource) => decide(principal, { action, resource }) === 'allow')
        .map((resource) => `${action} on ${resource}`),
    );
    return {
      answer: granted.length === 0 ? 'PASS' : `FAIL: ${granted.join(', ')}`,
      holds: granted.length === 0,
    };
  }
  const principal = catalogue.principals[question.principal];
  if (principal === undefined) throw new Error(`No principal ${question.principal}`);
  const decision = decide(principal, question.request);
  return { answer: decision, holds: meets(decision, question.expect) };
};
