/**
 * The one-time delivery set-up as a CDK app (entry: app.ts): per stage, the boundary and
 * execution policy, then the GitHub roles and the fences on the stage's bootstrap roles.
 *
 * Both stages in one account is refused unless acknowledged (`-c sharedAccount=acknowledged`):
 * there, the dev deployment can still change what IAM cannot tell apart by name or tag — any
 * Route 53 record, the routes and integrations of prod's HTTP API — and any principal of the
 * account allowed `sts:AssumeRole` on prod's bootstrap roles deploys prod without reviewers
 * (docs/security.md, "One account or two").
 */
import { App, CliCredentialsStackSynthesizer, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { featureFlags } from '../create-app.ts';
import { STAGES } from '../stage-config.ts';
import { GitHubDeployStack } from './github-deploy-role.ts';
import { StagePoliciesStack } from './stage-policies.ts';

/** The context value that accepts one account for both stages. */
export const SHARED_ACCOUNT_ACKNOWLEDGEMENT = { key: 'sharedAccount', value: 'acknowledged' };

export interface BootstrapAppOptions {
  context?: Record<string, string>;
  /** The CLI's credentials (CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION). */
  defaultAccount?: string;
  defaultRegion?: string;
  outdir?: string;
}

export const bootstrapApp = (options: BootstrapAppOptions = {}): App => {
  const app = new App({
    context: { ...featureFlags(), ...options.context },
    outdir: options.outdir,
  });
  const context = (key: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(key);
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
  };
  const repository = context('githubRepository');
  if (repository === undefined) {
    throw new Error('Give the repository: -c githubRepository=owner/name');
  }
  const accountOf = (stage: string) => context(`${stage}Account`) ?? options.defaultAccount;
  const { key, value } = SHARED_ACCOUNT_ACKNOWLEDGEMENT;
  if (accountOf('dev') === accountOf('prod') && context(key) !== value) {
    throw new Error(
      `dev and prod resolve to one account (${accountOf('dev') ?? 'the credentials’ account'}). ` +
        'Give -c devAccount=… -c prodAccount=… for separate accounts (recommended), or accept ' +
        `what a shared account leaves open with -c ${key}=${value}: a dev deployment can change ` +
        "any Route 53 record and the routes of prod's HTTP API, and any principal of the " +
        "account allowed sts:AssumeRole on prod's bootstrap roles deploys prod without " +
        'reviewers (docs/security.md).',
    );
  }
  const accounts = new Set<string | undefined>();
  for (const stage of STAGES) {
    const account = accountOf(stage);
    const env = { account, region: context(`${stage}Region`) ?? options.defaultRegion };
    // Deployed with the administrator's own credentials: the policies exist before any
    // bootstrap does (cdk bootstrap needs the execution policy's ARN).
    new StagePoliciesStack(app, `IotPlayground-${stage}-cdk-policies`, {
      stage,
      env,
      synthesizer: new CliCredentialsStackSynthesizer(),
    });
    // One OIDC provider per account: the first stage of an account creates it.
    const createOidcProvider = context('createOidcProvider') !== 'false' && !accounts.has(account);
    accounts.add(account);
    new GitHubDeployStack(app, `IotPlayground-${stage}-github-deploy`, {
      stage,
      repository,
      createOidcProvider,
      env,
      synthesizer: new CliCredentialsStackSynthesizer(),
    });
  }
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
};
