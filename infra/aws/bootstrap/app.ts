/**
 * CDK entry point of the one-time GitHub deploy role (see github-deploy-role.ts), deployed
 * with administrator credentials after `cdk bootstrap`:
 *   npx cdk --app 'npx tsx infra/aws/bootstrap/app.ts' deploy -c githubRepository=owner/name
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { featureFlags } from '../create-app.ts';
import { GitHubDeployRoleStack } from './github-deploy-role.ts';

const app = new App({ context: featureFlags() });
const repository: unknown = app.node.tryGetContext('githubRepository');
if (typeof repository !== 'string' || repository === '') {
  throw new Error('Give the repository: -c githubRepository=owner/name');
}
new GitHubDeployRoleStack(app, 'IotPlayground-github-deploy', {
  repository,
  createOidcProvider: app.node.tryGetContext('createOidcProvider') !== 'false',
  cdkQualifier: (app.node.tryGetContext('cdkQualifier') as string | undefined) ?? undefined,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
