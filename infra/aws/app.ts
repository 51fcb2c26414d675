/**
 * CDK entry point. From the repository root:
 *   npx cdk --app 'npx tsx infra/aws/app.ts' synth -c stage=dev -c component=lambdas
 * Context keys are documented in docs/deploying.md and read in stage-config.ts.
 */
import { createApp } from './create-app.ts';
import { ConfigurationError } from './stage-config.ts';

try {
  createApp().app.synth();
} catch (error) {
  if (!(error instanceof ConfigurationError)) throw error;
  // A configuration mistake is the user's to fix: the message, not a stack trace.
  console.error(`Configuration error: ${error.message}`);
  process.exitCode = 1;
}
