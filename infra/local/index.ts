/**
 * The local stack's front door: `npm start` and the tests, the benchmark and the chaos soak
 * start and read it through this file alone (see README.md for the stand-ins inside).
 */
export {
  LOCAL_GITHUB,
  LOCAL_OPERATOR,
  startLocalStack,
  type LocalFaults,
  type LocalStack,
  type LocalStackOptions,
} from './stack.ts';
export {
  createTableInput,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  startDynamoDb,
  type LocalDynamoDb,
} from './dynamodb.ts';
export { bundleFunction } from './bundle.ts';
export type { FunctionUsage, UsageTotals } from './meter/index.ts';
export { startLocalGitHub, type LocalGitHub } from './github/index.ts';
export { startLocalSecretsManager } from './secrets-manager/index.ts';
export { startLocalSns } from './sns/index.ts';
