/** Fixtures for the tests of the local SQS endpoint and the event-source mapping. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startSqsServer, type SqsServer } from './server.ts';

export interface TestClock {
  now: () => number;
  /** Moves time forward and lets waiting long polls see it. */
  advance: (ms: number) => void;
}

export interface LocalSqs {
  server: SqsServer;
  sqs: SQSClient;
  clock: TestClock;
  /** Requests the endpoint answered per action (as its `onAction` tells them), since `resetRequests`. */
  requests: () => Record<string, number>;
  resetRequests: () => void;
  /** Creates a queue with a unique name through the SDK and returns its URL. */
  createQueue: (prefix: string, attributes?: Record<string, string>) => Promise<string>;
  close: () => Promise<void>;
}

export const uniqueName = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;

export const createSqsClient = (endpoint: string): SQSClient =>
  new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    // One attempt: an error must surface in the test, not be retried away.
    maxAttempts: 1,
  });

/** An endpoint on a manual clock starting at a fixed instant, with an SDK client for it. */
export const startLocalSqs = async (): Promise<LocalSqs> => {
  let time = Date.UTC(2030, 0, 1);
  let wakeLongPolls = (): void => undefined;
  const clock: TestClock = {
    now: () => time,
    advance: (ms) => {
      time += ms;
      wakeLongPolls();
    },
  };
  let requests: Record<string, number> = {};
  const server = await startSqsServer({
    now: clock.now,
    onAction: (action) => {
      requests[action] = (requests[action] ?? 0) + 1;
    },
  });
  wakeLongPolls = () => server.wakeLongPolls();
  const sqs = createSqsClient(server.endpoint);
  return {
    server,
    sqs,
    clock,
    requests: () => ({ ...requests }),
    resetRequests: () => {
      requests = {};
    },
    createQueue: async (prefix, attributes) => {
      const { QueueUrl } = await sqs.send(
        new CreateQueueCommand({ QueueName: uniqueName(prefix), Attributes: attributes }),
      );
      if (QueueUrl === undefined) throw new Error('CreateQueue returned no QueueUrl');
      return QueueUrl;
    },
    close: async () => {
      sqs.destroy();
      await server.close();
    },
  };
};

/** A local endpoint for the enclosing test file, started before its tests and closed after. */
export const useLocalSqs = (): LocalSqs => {
  const local = {} as LocalSqs;
  beforeAll(async () => {
    Object.assign(local, await startLocalSqs());
  });
  afterAll(async () => {
    await local.close?.();
  });
  return local;
};

export { eventually } from '#test/support/eventually.ts';

/** Visible and in-flight message counts, as a client reads them through the API. */
export const queueCounts = async (sqs: SQSClient, queueUrl: string) => {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
  };
};
