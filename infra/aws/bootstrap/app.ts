/**
 * CDK entry point of the one-time GitHub deploy roles and CDK execution policy (see
 * github-deploy-role.ts), deployed with administrator credentials after `cdk bootstrap`:
 *   npm run bootstrap:github -- -c githubRepository=owner/name [-c devRegion=…] [-c prodRegion=…]
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { featureFlags } from '../create-app.ts';
import { GitHubDeployRoleStack } from './github-deploy-role.ts';

const app = new App({ context: featureFlags() });
const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
};
const repository = context('githubRepository');
if (repository === undefined) {
  throw new Error('Give the repository: -c githubRepository=owner/name');
}
new GitHubDeployRoleStack(app, 'IotPlayground-github-deploy', {
  repository,
  createOidcProvider: context('createOidcProvider') !== 'false',
  cdkQualifier: context('cdkQualifier'),
  regions: { dev: context('devRegion'), prod: context('prodRegion') },
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
