/** Queue management, error mapping, fault injection and the in-process API. */
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  InvalidAttributeName,
  InvalidAttributeValue,
  ListQueuesCommand,
  QueueDoesNotExist,
  QueueNameExists,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  SQSServiceException,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { startSqsServer } from './server.ts';
import { createSqsClient, uniqueName, useLocalSqs } from './test-support.ts';

const local = useLocalSqs();

const errorOf = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error('expected the request to fail');
    },
    (error: unknown) => error,
  );

describe('CreateQueue', () => {
  it('returns a URL and ARN in the local account', async () => {
    const name = uniqueName('naming');
    const { QueueUrl } = await local.sqs.send(new CreateQueueCommand({ QueueName: name }));
    const { Attributes } = await local.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    expect(QueueUrl).toBe(`${local.server.endpoint}/000000000000/${name}`);
    expect(Attributes).toEqual({ QueueArn: `arn:aws:sqs:us-east-1:000000000000:${name}` });
  });

  it('is idempotent for the same attributes and refuses different ones', async () => {
    const name = uniqueName('idempotent');
    const create = (attributes: Record<string, string>) =>
      local.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    const first = await create({ VisibilityTimeout: '45' });
    const second = await create({ VisibilityTimeout: '45' });
    expect(second.QueueUrl).toBe(first.QueueUrl);
    expect(await errorOf(create({ VisibilityTimeout: '46' }))).toBeInstanceOf(QueueNameExists);
  });

  it('validates attribute names and values', async () => {
    const create = (attributes: Record<string, string>) =>
      local.sqs.send(
        new CreateQueueCommand({ QueueName: uniqueName('invalid'), Attributes: attributes }),
      );
    expect(await errorOf(create({ VisibilityTimeout: '43201' }))).toBeInstanceOf(
      InvalidAttributeValue,
    );
    expect(await errorOf(create({ MessageRetentionPeriod: 'soon' }))).toBeInstanceOf(
      InvalidAttributeValue,
    );
    expect(await errorOf(create({ Colour: 'blue' }))).toBeInstanceOf(InvalidAttributeName);
    const missingDlq = await errorOf(
      create({
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:nowhere',
          maxReceiveCount: 3,
        }),
      }),
    );
    expect((missingDlq as SQSServiceException).name).toBe('InvalidParameterValue');
  });

  it('reports the redrive policy and settings through GetQueueAttributes', async () => {
    const dlqUrl = await local.createQueue('attrs-dlq');
    const dlqArn = `arn:aws:sqs:us-east-1:000000000000:${dlqUrl.split('/').at(-1) ?? ''}`;
    const queueUrl = await local.createQueue('attrs', {
      VisibilityTimeout: '180',
      MessageRetentionPeriod: '345600',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: '5' }),
    });
    const { Attributes = {} } = await local.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }),
    );
    expect(Attributes).toMatchObject({
      VisibilityTimeout: '180',
      MessageRetentionPeriod: '345600',
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
    expect(JSON.parse(Attributes.RedrivePolicy ?? '{}')).toEqual({
      deadLetterTargetArn: dlqArn,
      maxReceiveCount: 5,
    });
    expect(
      await errorOf(
        local.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: queueUrl,
            AttributeNames: ['NoSuchThing' as 'All'],
          }),
        ),
      ),
    ).toBeInstanceOf(InvalidAttributeName);
  });
});

describe('finding queues', () => {
  it('answers QueueDoesNotExist for an unknown queue, by name and by URL', async () => {
    const name = uniqueName('missing');
    expect(
      await errorOf(local.sqs.send(new GetQueueUrlCommand({ QueueName: name }))),
    ).toBeInstanceOf(QueueDoesNotExist);
    const error = await errorOf(
      local.sqs.send(
        new SendMessageCommand({
          QueueUrl: `${local.server.endpoint}/000000000000/${name}`,
          MessageBody: 'x',
        }),
      ),
    );
    expect(error).toBeInstanceOf(QueueDoesNotExist);
    // The AWS Query code and fault the SDK exposes for code written against the XML API.
    expect(error).toMatchObject({
      Code: 'AWS.SimpleQueueService.NonExistentQueue',
      Type: 'Sender',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('finds a queue URL by name', async () => {
    const queueUrl = await local.createQueue('by-name');
    const name = queueUrl.split('/').at(-1);
    expect((await local.sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl).toBe(
      queueUrl,
    );
  });

  it('lists queues by prefix, page by page', async () => {
    const prefix = uniqueName('list');
    const urls = [];
    for (const suffix of ['a', 'b', 'c']) {
      urls.push(
        (await local.sqs.send(new CreateQueueCommand({ QueueName: `${prefix}-${suffix}` })))
          .QueueUrl,
      );
    }
    const firstPage = await local.sqs.send(
      new ListQueuesCommand({ QueueNamePrefix: prefix, MaxResults: 2 }),
    );
    const secondPage = await local.sqs.send(
      new ListQueuesCommand({
        QueueNamePrefix: prefix,
        MaxResults: 2,
        NextToken: firstPage.NextToken,
      }),
    );
    expect(firstPage.QueueUrls).toEqual(urls.slice(0, 2));
    expect(secondPage.QueueUrls).toEqual(urls.slice(2));
    expect(secondPage.NextToken).toBeUndefined();
  });

  it('serves a client configured only through AWS_ENDPOINT_URL_SQS', async () => {
    const queueUrl = await local.createQueue('env-endpoint');
    const previous = process.env['AWS_ENDPOINT_URL_SQS'];
    process.env['AWS_ENDPOINT_URL_SQS'] = local.server.endpoint;
    const client = new SQSClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      // GetQueueUrl carries no queue URL, so only the configured endpoint can route it.
      const { QueueUrl } = await client.send(
        new GetQueueUrlCommand({ QueueName: queueUrl.split('/').at(-1) }),
      );
      expect(QueueUrl).toBe(queueUrl);
    } finally {
      client.destroy();
      if (previous === undefined) delete process.env['AWS_ENDPOINT_URL_SQS'];
      else process.env['AWS_ENDPOINT_URL_SQS'] = previous;
    }
  });

  it('rejects out-of-range ReceiveMessage parameters', async () => {
    const queueUrl = await local.createQueue('receive-params');
    const error = await errorOf(
      local.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 11 })),
    );
    expect(error).toBeInstanceOf(SQSServiceException);
    expect((error as SQSServiceException).name).toBe('InvalidParameterValue');
  });
});

describe('fault injection', () => {
  it('fails the next SendMessageBatch entries as InternalError without enqueuing them', async () => {
    // Prepare
    const queue = local.server.queues.create(uniqueName('faulty-batch'));
    local.server.faults.failSendBatchEntries({ count: 2 });
    // Act
    const result = await local.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: ['a', 'b', 'c'].map((id) => ({ Id: id, MessageBody: id })),
      }),
    );
    const retry = await local.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: [{ Id: 'a', MessageBody: 'a' }],
      }),
    );
    // Assess
    expect(result.Failed).toEqual([
      expect.objectContaining({ Id: 'a', SenderFault: false, Code: 'InternalError' }),
      expect.objectContaining({ Id: 'b', SenderFault: false, Code: 'InternalError' }),
    ]);
    expect(result.Successful?.map((entry) => entry.Id)).toEqual(['c']);
    expect(retry.Successful?.map((entry) => entry.Id)).toEqual(['a']);
    expect(queue.counts()).toEqual({ visible: 2, inFlight: 0, delayed: 0 });
  });

  it('answers the next requests of an action with a 500 InternalError', async () => {
    const queue = local.server.queues.create(uniqueName('faulty-requests'));
    local.server.faults.failNextRequests('SendMessage', 1);
    const error = await errorOf(
      local.sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'x' })),
    );
    expect(error).toBeInstanceOf(SQSServiceException);
    expect(error).toMatchObject({
      name: 'InternalError',
      $fault: 'server',
      $metadata: { httpStatusCode: 500 },
    });
    await local.sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'x' }));
    expect(queue.counts().visible).toBe(1);
  });
});

describe('in-process API and request counts', () => {
  it('shares queues with the HTTP endpoint and counts requests per action', async () => {
    // Prepare
    const queue = local.server.queues.create(uniqueName('in-process'), { VisibilityTimeout: '60' });
    local.resetRequests();
    // Act
    queue.send({ body: 'from inside' });
    const { Messages = [] } = await local.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.url }),
    );
    await local.sqs.send(
      new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'from outside' }),
    );
    const [inside] = queue.receive({ maxMessages: 10 }).map((message) => message.body);
    // Assess
    expect(Messages.map((m) => m.Body)).toEqual(['from inside']);
    expect(inside).toBe('from outside');
    expect(queue.counts()).toEqual({ visible: 0, inFlight: 2, delayed: 0 });
    expect(local.requests()).toEqual({ ReceiveMessage: 1, SendMessage: 1 });
  });
});

describe('close', () => {
  it('ends pending long polls and stops listening', async () => {
    // Prepare
    const server = await startSqsServer();
    const client = createSqsClient(server.endpoint);
    const queue = server.queues.create(uniqueName('closing'));
    const polling = client.send(
      new ReceiveMessageCommand({ QueueUrl: queue.url, WaitTimeSeconds: 20 }),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Act
    const closingAt = performance.now();
    await server.close();
    const outcome = await polling.then(
      (output) => output.Messages ?? [],
      (error: unknown) => error,
    );
    // Assess
    expect(performance.now() - closingAt).toBeLessThan(1_000);
    expect(outcome).toEqual([]);
    await expect(fetch(server.endpoint, { method: 'POST' })).rejects.toThrow();
    client.destroy();
  });
});
