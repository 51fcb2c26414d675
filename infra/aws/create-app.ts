/**
 * Builds the CDK app: context → deployment configuration → one stack, with cdk-nag's
 * AwsSolutions pack as a validation plugin (a violation fails synthesis). Shared by the CLI
 * entry (app.ts) and the tests, so both synthesize exactly the same thing.
 */
import { readFileSync } from 'node:fs';
import { App, DefaultStackSynthesizer, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { CodeProvider } from './constructs/function-factory.ts';
import { IotPlaygroundStack } from './stack.ts';
import {
  CDK_QUALIFIERS,
  type DeploymentConfig,
  permissionsBoundaryName,
  readDeploymentConfig,
  stackNameFor,
} from './stage-config.ts';

/**
 * Feature flags pinned in cdk.json (the set recommended when the project started). They are
 * applied here too, so running the app from the repository root, where the CLI does not see
 * infra/aws/cdk.json, builds the same template.
 */
export const featureFlags = (): Record<string, unknown> => {
  const cdkJson = JSON.parse(readFileSync(new URL('./cdk.json', import.meta.url), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
};

export interface CreateAppOptions {
  /** Context values as `-c key=value` would give them; CLI context takes precedence. */
  context?: Record<string, string>;
  code?: CodeProvider;
  outdir?: string;
}

export interface CreatedApp {
  app: App;
  stack: IotPlaygroundStack;
  config: DeploymentConfig;
  nag: AwsSolutionsChecks;
}

export const createApp = (options: CreateAppOptions = {}): CreatedApp => {
  const app = new App({
    context: { ...featureFlags(), ...options.context },
    outdir: options.outdir,
  });
  const config = readDeploymentConfig((key) => app.node.tryGetContext(key));
  const stack = new IotPlaygroundStack(app, stackNameFor(config.stage), {
    config,
    code: options.code,
    description: `IoT Playground serverless backend (${config.stage}, ${config.component})`,
    // Account and region come from context or the CLI's credentials, never from the code. With
    // -c <stage>Account the CLI refuses to deploy with another account's credentials.
    env: {
      account: config.account ?? process.env.CDK_DEFAULT_ACCOUNT,
      region: process.env.CDK_DEFAULT_REGION,
    },
    // The stage's own bootstrap: its roles cannot reach the other stage's.
    synthesizer: new DefaultStackSynthesizer({ qualifier: CDK_QUALIFIERS[config.stage] }),
    terminationProtection: config.stage === 'prod',
  });
  // Every role the stack creates, CDK's provider roles included, carries the stage's boundary,
  // without which the execution policy may not create it (bootstrap/stage-policies.ts).
  iam.PermissionsBoundary.of(stack).apply(
    iam.ManagedPolicy.fromManagedPolicyName(
      stack,
      'PermissionsBoundary',
      permissionsBoundaryName(config.stage),
    ),
  );
  const nag = new AwsSolutionsChecks(app);
  Validations.of(app).addPlugins(nag);
  return { app, stack, config, nag };
};
