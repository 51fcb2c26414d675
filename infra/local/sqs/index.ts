/** The local SQS endpoint and Lambda's event-source mapping over it: see README.md. */
export { startSqsServer, type SqsServer, type SqsServerOptions } from './server.ts';
export {
  startEventSourceMapping,
  type EventSourceMapping,
  type EventSourceMappingOptions,
} from './event-source-mapping.ts';
export type { Queue } from './queue.ts';
