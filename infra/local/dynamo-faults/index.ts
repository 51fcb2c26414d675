/** The DynamoDB fault proxy in front of dynalite: see README.md. */
export {
  startDynamoFaultProxy,
  type DynamoFaultProxy,
  type DynamoFaultProxyOptions,
} from './proxy.ts';
export { DynamoFaults, type DynamoProxyStats } from './faults.ts';
export { inProcessTarget, type DynamoTarget } from './in-process.ts';
