/**
 * The policies of the one-time set-up, as IAM will hold them once deployed, for one account and
 * region: each stage's execution policy and permissions boundary (bootstrap/stage-policies.ts),
 * its GitHub roles and the fences on its bootstrap roles (bootstrap/github-deploy-role.ts),
 * and the bootstrap deploy role's own policy as the installed CDK CLI's bootstrap template
 * defines it (node_modules/aws-cdk/lib/api/bootstrap/bootstrap-template.yaml). Synthesized in
 * process, intrinsics resolved (intrinsics.ts), for the evaluator and for AWS's own checks.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { CfnInclude } from 'aws-cdk-lib/cloudformation-include';
import {
  bootstrapFenceName,
  bootstrapRoleName,
  deployRoleName,
  GitHubDeployStack,
  lookupFenceName,
  planRoleName,
} from '../bootstrap/github-deploy-role.ts';
import { StagePoliciesStack } from '../bootstrap/stage-policies.ts';
import { featureFlags } from '../create-app.ts';
import {
  CDK_QUALIFIERS,
  executionPolicyName,
  permissionsBoundaryName,
  STAGES,
  type StageName,
} from '../stage-config.ts';
import type { TemplateJson } from './deployment-requests.ts';
import { type DeploymentEnvironment, resolveIntrinsics } from './intrinsics.ts';
import type { PolicyDocument } from './policy-evaluation.ts';

export interface AccountEnvironment {
  account: string;
  region: string;
}

export interface StagePolicies {
  env: AccountEnvironment;
  execution: PolicyDocument;
  boundary: PolicyDocument;
  githubDeploy: PolicyDocument[];
  githubPlan: PolicyDocument[];
  /** On the bootstrap deploy and lookup roles. */
  fence: PolicyDocument;
  /** On the bootstrap lookup role only. */
  lookupFence: PolicyDocument;
  /** The bootstrap deploy role's own inline policy (CDK CLI template). */
  bootstrapDeploy: PolicyDocument[];
  /** The trust policies of the GitHub roles (resource policies, for Access Analyzer). */
  trust: Record<string, PolicyDocument>;
}

interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
}

const resources = (template: TemplateJson): [string, Resource][] =>
  Object.entries(template.Resources);

/** The bootstrap deploy role's inline policy, from the installed CLI's bootstrap template. */
export const cliBootstrapDeployPolicy = (
  stage: StageName,
  env: AccountEnvironment,
): PolicyDocument[] => {
  const qualifier = CDK_QUALIFIERS[stage];
  const cli = path.dirname(createRequire(import.meta.url).resolve('aws-cdk/package.json'));
  const stack = new Stack(new App(), 'Bootstrap');
  const include = new CfnInclude(stack, 'Template', {
    templateFile: path.join(cli, 'lib/api/bootstrap/bootstrap-template.yaml'),
  });
  const role = include.getResource('DeploymentActionRole') as iam.CfnRole;
  const policies = stack.resolve(role.policies) as { policyDocument: unknown }[];
  const bootstrapEnv: DeploymentEnvironment = {
    ...env,
    refs: { Qualifier: qualifier, CdkBootstrapVersion: `/cdk-bootstrap/${qualifier}/version` },
    attributes: {
      'CloudFormationExecutionRole.Arn': `arn:aws:iam::${env.account}:role/${bootstrapRoleName(qualifier, 'cfn-exec', env.account, env.region)}`,
      'StagingBucket.Arn': `arn:aws:s3:::cdk-${qualifier}-assets-${env.account}-${env.region}`,
    },
  };
  return policies.map(
    (policy) => resolveIntrinsics(policy.policyDocument, bootstrapEnv) as PolicyDocument,
  );
};

/** Synthesizes the set-up stacks of both stages and reads their policies. */
export const bootstrapPolicies = (
  envs: Record<StageName, AccountEnvironment>,
  repository = 'owner/iot-playground',
): Record<StageName, StagePolicies> => {
  const app = new App({ context: featureFlags() });
  const stacks = STAGES.map((stage) => ({
    stage,
    policies: new StagePoliciesStack(app, `IotPlayground-${stage}-cdk-policies`, {
      stage,
      env: envs[stage],
    }),
    github: new GitHubDeployStack(app, `IotPlayground-${stage}-github-deploy`, {
      stage,
      repository,
      createOidcProvider: true,
      env: envs[stage],
    }),
  }));
  const assembly = app.synth();
  const entries = stacks.map(({ stage, policies, github }) => {
    const env = envs[stage];
    const oidcProvider = `arn:aws:iam::${env.account}:oidc-provider/token.actions.githubusercontent.com`;
    const resolve = (value: unknown) =>
      resolveIntrinsics(value, {
        ...env,
        fallback: (name) => (name.startsWith('GitHubOidc') ? oidcProvider : undefined),
      }) as PolicyDocument;
    const templateOf = (stack: Stack) =>
      assembly.getStackByName(stack.stackName).template as TemplateJson;
    const managed = (template: TemplateJson, name: string): PolicyDocument => {
      const found = resources(template).find(
        ([, r]) => r.Type === 'AWS::IAM::ManagedPolicy' && r.Properties?.ManagedPolicyName === name,
      );
      if (found === undefined) throw new Error(`No managed policy ${name}`);
      return resolve(found[1].Properties!.PolicyDocument);
    };
    const githubTemplate = templateOf(github);
    const roleId = (name: string): string => {
      const found = resources(githubTemplate).find(
        ([, r]) => r.Type === 'AWS::IAM::Role' && r.Properties?.RoleName === name,
      );
      if (found === undefined) throw new Error(`No role ${name}`);
      return found[0];
    };
    const inline = (name: string): PolicyDocument[] => {
      const id = roleId(name);
      return resources(githubTemplate)
        .filter(
          ([, r]) =>
            r.Type === 'AWS::IAM::Policy' &&
            (r.Properties?.Roles as { Ref?: string }[]).some((role) => role.Ref === id),
        )
        .map(([, r]) => resolve(r.Properties!.PolicyDocument));
    };
    const trustOf = (name: string) =>
      resolve(githubTemplate.Resources[roleId(name)]!.Properties!.AssumeRolePolicyDocument);
    const policiesTemplate = templateOf(policies);
    const result: StagePolicies = {
      env,
      execution: managed(policiesTemplate, executionPolicyName(stage)),
      boundary: managed(policiesTemplate, permissionsBoundaryName(stage)),
      githubDeploy: inline(deployRoleName(stage)),
      githubPlan: inline(planRoleName(stage)),
      fence: managed(githubTemplate, bootstrapFenceName(stage)),
      lookupFence: managed(githubTemplate, lookupFenceName(stage)),
      bootstrapDeploy: cliBootstrapDeployPolicy(stage, env),
      trust: {
        [deployRoleName(stage)]: trustOf(deployRoleName(stage)),
        [planRoleName(stage)]: trustOf(planRoleName(stage)),
      },
    };
    return [stage, result] as const;
  });
  return Object.fromEntries(entries) as Record<StageName, StagePolicies>;
};
