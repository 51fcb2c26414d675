/**
 * CDK entry point of the one-time delivery set-up, per stage, with administrator credentials of
 * the stage's account (docs/deploying.md, "One-time set-up"):
 *   1. npm run bootstrap:github -- IotPlayground-<stage>-cdk-policies -c githubRepository=owner/name
 *   2. cdk bootstrap --qualifier … --cloudformation-execution-policies … (printed by step 1)
 *   3. npm run bootstrap:github -- IotPlayground-<stage>-github-deploy -c githubRepository=owner/name
 * Context: githubRepository, devAccount / prodAccount (separate accounts, recommended; one
 * account for both needs sharedAccount=acknowledged), devRegion / prodRegion,
 * createOidcProvider=false when the account already has GitHub's.
 */
import { bootstrapApp } from './bootstrap-app.ts';

bootstrapApp({
  defaultAccount: process.env.CDK_DEFAULT_ACCOUNT,
  defaultRegion: process.env.CDK_DEFAULT_REGION,
}).synth();
