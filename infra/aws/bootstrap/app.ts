/**
 * CDK entry point of the one-time delivery set-up, per stage, with administrator credentials of
 * the stage's account (README, "Deploying from GitHub Actions"):
 *   1. npm run bootstrap:github -- IotPlayground-<stage>-cdk-policies -c githubRepository=owner/name
 *   2. cdk bootstrap --qualifier … --cloudformation-execution-policies … (printed by step 1)
 *   3. npm run bootstrap:github -- IotPlayground-<stage>-github-deploy -c githubRepository=owner/name
 * Context: githubRepository, devAccount / prodAccount (separate accounts, recommended),
 * devRegion / prodRegion, createOidcProvider=false when the account already has GitHub's.
 */
import { App, CliCredentialsStackSynthesizer, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { featureFlags } from '../create-app.ts';
import { STAGES } from '../stage-config.ts';
import { GitHubDeployStack } from './github-deploy-role.ts';
import { StagePoliciesStack } from './stage-policies.ts';

const app = new App({ context: featureFlags() });
const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
};
const repository = context('githubRepository');
if (repository === undefined) {
  throw new Error('Give the repository: -c githubRepository=owner/name');
}
const accounts = new Set<string | undefined>();
for (const stage of STAGES) {
  const account = context(`${stage}Account`) ?? process.env.CDK_DEFAULT_ACCOUNT;
  const env = { account, region: context(`${stage}Region`) ?? process.env.CDK_DEFAULT_REGION };
  // Deployed with the administrator's own credentials: the policies exist before any
  // bootstrap does (cdk bootstrap needs the execution policy's ARN).
  const synthesizer = () => new CliCredentialsStackSynthesizer();
  new StagePoliciesStack(app, `IotPlayground-${stage}-cdk-policies`, {
    stage,
    env,
    synthesizer: synthesizer(),
  });
  // One OIDC provider per account: the first stage of an account creates it.
  const createOidcProvider = context('createOidcProvider') !== 'false' && !accounts.has(account);
  accounts.add(account);
  new GitHubDeployStack(app, `IotPlayground-${stage}-github-deploy`, {
    stage,
    repository,
    createOidcProvider,
    env,
    synthesizer: synthesizer(),
  });
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
