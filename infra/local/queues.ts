/**
 * SQS for the local stack: the embedded endpoint with the topology's queues and dead-letter
 * queues, and Lambda's event-source mappings polling them into their consumers.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { queueNames, topology, type FunctionName, type QueueName } from '../topology.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './dynamodb.ts';
import { startEventSourceMapping, type EventSourceMapping } from './sqs/index.ts';
import type { Queue } from './sqs/index.ts';
import { startSqsServer, type SqsServer, type SqsServerOptions } from './sqs/index.ts';

/** Settings tests shorten so redelivery takes seconds, not minutes. */
export interface QueueOverrides {
  visibilityTimeoutSeconds?: number;
  maxReceiveCount?: number;
}

export const localQueueName = (name: QueueName): string => `iot-playground-${name}`;
export const localDeadLetterQueueName = (name: QueueName): string => `${localQueueName(name)}-dlq`;

export interface LocalQueues {
  server: SqsServer;
  queues: Record<QueueName, { queue: Queue; deadLetters: Queue }>;
  /** Starts polling each queue into its consumer. */
  startConsumers(
    invoke: (functionName: FunctionName, event: SQSEvent) => Promise<unknown>,
    log: (line: string) => void,
  ): Promise<void>;
  close(): Promise<void>;
}

export const startQueues = async (
  overrides: Partial<Record<QueueName, QueueOverrides>> = {},
  onAction?: SqsServerOptions['onAction'],
  /** Keeps queued messages in this folder across restarts; in memory when absent. */
  dataDir?: string,
): Promise<LocalQueues> => {
  const server = await startSqsServer({
    ...(onAction ? { onAction } : {}),
    ...(dataDir === undefined ? {} : { dataDir }),
  });
  const queues = Object.fromEntries(
    queueNames.map((name) => {
      const spec = topology.queues[name];
      const deadLetters = server.queues.create(localDeadLetterQueueName(name), {
        MessageRetentionPeriod: String(spec.deadLetterRetentionSeconds),
      });
      const queue = server.queues.create(localQueueName(name), {
        VisibilityTimeout: String(
          overrides[name]?.visibilityTimeoutSeconds ?? spec.visibilityTimeoutSeconds,
        ),
        MessageRetentionPeriod: String(spec.retentionSeconds),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: deadLetters.arn,
          maxReceiveCount: overrides[name]?.maxReceiveCount ?? spec.maxReceiveCount,
        }),
      });
      return [name, { queue, deadLetters }];
    }),
  ) as LocalQueues['queues'];

  const client = new SQSClient({
    endpoint: server.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const mappings: EventSourceMapping[] = [];

  return {
    server,
    queues,
    startConsumers: async (invoke, log) => {
      for (const name of queueNames) {
        const { consumer } = topology.queues[name];
        const shortened = overrides[name]?.visibilityTimeoutSeconds !== undefined;
        mappings.push(
          await startEventSourceMapping({
            sqs: client,
            queueUrl: queues[name].queue.url,
            invoke: (event) => invoke(consumer.function, event),
            batchSize: consumer.batchSize,
            maxBatchingWindowMs: consumer.maxBatchingWindowSeconds * 1000,
            maxConcurrency: consumer.maxConcurrency,
            // As CreateEventSourceMapping does, refuse a visibility timeout shorter than the
            // function's; tests that shorten it on purpose skip the check.
            ...(shortened
              ? {}
              : { functionTimeoutSeconds: topology.functions[consumer.function].timeoutSeconds }),
            onError: (error, context) =>
              log(
                `[${name} mapping] ${context.stage} failed for ${context.messageIds.length} record(s): ${error.message}`,
              ),
          }),
        );
      }
    },
    close: async () => {
      // Receives end first, so a poller being stopped is handed nothing it cannot deliver.
      server.stopReceives();
      await Promise.all(mappings.map((mapping) => mapping.stop()));
      client.destroy();
      await server.close();
    },
  };
};
