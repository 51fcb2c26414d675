/** Time-driven behaviour on the injected clock: visibility, redrive, long polls, retention. */
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  MessageNotInflight,
  PurgeQueueCommand,
  PurgeQueueInProgress,
  ReceiptHandleIsInvalid,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { useLocalSqs } from './test-support.ts';

const local = useLocalSqs();

const send = (queueUrl: string, body = 'payload') =>
  local.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));

const receive = async (
  queueUrl: string,
  extra: { WaitTimeSeconds?: number; VisibilityTimeout?: number } = {},
) => {
  const { Messages = [] } = await local.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      MessageSystemAttributeNames: ['All'],
      ...extra,
    }),
  );
  return Messages;
};

const attributesOf = async (queueUrl: string, names: string[]) => {
  const { Attributes = {} } = await local.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: names as never }),
  );
  return Attributes;
};

describe('visibility timeout', () => {
  it('hides a received message until its timeout, then redelivers it with a higher receive count', async () => {
    // Prepare
    const queueUrl = await local.createQueue('visibility', { VisibilityTimeout: '30' });
    await send(queueUrl);
    // Act
    const first = await receive(queueUrl);
    const whileHidden = await receive(queueUrl);
    local.clock.advance(29_999);
    const justBefore = await receive(queueUrl);
    local.clock.advance(1);
    const second = await receive(queueUrl);
    // Assess
    expect(first).toHaveLength(1);
    expect(whileHidden).toEqual([]);
    expect(justBefore).toEqual([]);
    expect(second).toHaveLength(1);
    expect(second[0]?.MessageId).toBe(first[0]?.MessageId);
    expect(first[0]?.Attributes?.ApproximateReceiveCount).toBe('1');
    expect(second[0]?.Attributes?.ApproximateReceiveCount).toBe('2');
    expect(second[0]?.Attributes?.ApproximateFirstReceiveTimestamp).toBe(
      first[0]?.Attributes?.ApproximateFirstReceiveTimestamp,
    );
    expect(second[0]?.ReceiptHandle).not.toBe(first[0]?.ReceiptHandle);
  });

  it('honours a VisibilityTimeout given on ReceiveMessage', async () => {
    const queueUrl = await local.createQueue('visibility-override', { VisibilityTimeout: '30' });
    await send(queueUrl);
    await receive(queueUrl, { VisibilityTimeout: 5 });
    local.clock.advance(5_000);
    expect(await receive(queueUrl)).toHaveLength(1);
  });

  it('accepts an earlier receipt handle for delete after a redelivery (as standard queues do)', async () => {
    const queueUrl = await local.createQueue('stale-handle', { VisibilityTimeout: '10' });
    await send(queueUrl);
    const [first] = await receive(queueUrl);
    local.clock.advance(10_000);
    expect(await receive(queueUrl)).toHaveLength(1);

    await local.sqs.send(
      new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: first?.ReceiptHandle }),
    );
    local.clock.advance(10_000);
    expect(await receive(queueUrl)).toEqual([]);
    // Deleting again is not an error either.
    await local.sqs.send(
      new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: first?.ReceiptHandle }),
    );
  });

  it('rejects a receipt handle it never issued', async () => {
    const queueUrl = await local.createQueue('bad-handle');
    const error = await local.sqs
      .send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: 'garbage' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReceiptHandleIsInvalid);
  });
});

describe('ChangeMessageVisibility', () => {
  it('makes a message visible at once with 0 and extends it with a larger value', async () => {
    const queueUrl = await local.createQueue('change-visibility', { VisibilityTimeout: '30' });
    await send(queueUrl, 'a');
    await send(queueUrl, 'b');
    const received = await receive(queueUrl);
    const [a, b] = [...received].sort((x, y) => (x.Body ?? '').localeCompare(y.Body ?? ''));

    await local.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: a?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    await local.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: b?.ReceiptHandle,
        VisibilityTimeout: 120,
      }),
    );

    const again = await receive(queueUrl);
    expect(again.map((m) => m.Body)).toEqual(['a']);
    await local.sqs.send(
      new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: again[0]?.ReceiptHandle }),
    );
    local.clock.advance(119_999);
    expect(await receive(queueUrl)).toEqual([]);
    local.clock.advance(1);
    expect((await receive(queueUrl)).map((m) => m.Body)).toEqual(['b']);
  });

  it('refuses a message that is not in flight', async () => {
    const queueUrl = await local.createQueue('not-inflight', { VisibilityTimeout: '5' });
    await send(queueUrl);
    const [message] = await receive(queueUrl);
    local.clock.advance(5_000);
    const error = await local.sqs
      .send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: message?.ReceiptHandle,
          VisibilityTimeout: 10,
        }),
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MessageNotInflight);
  });

  it('reports each batch entry on its own', async () => {
    const queueUrl = await local.createQueue('change-batch');
    await send(queueUrl);
    const [message] = await receive(queueUrl);
    const result = await local.sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: 'ok', ReceiptHandle: message?.ReceiptHandle, VisibilityTimeout: 0 },
          { Id: 'bad', ReceiptHandle: 'garbage', VisibilityTimeout: 0 },
        ],
      }),
    );
    expect(result.Successful?.map((entry) => entry.Id)).toEqual(['ok']);
    expect(result.Failed).toEqual([
      expect.objectContaining({ Id: 'bad', Code: 'ReceiptHandleIsInvalid' }),
    ]);
    expect(await receive(queueUrl)).toHaveLength(1);
  });
});

describe('redrive to the dead-letter queue', () => {
  it('moves a message on the receive that would exceed maxReceiveCount', async () => {
    // Prepare
    const dlqUrl = await local.createQueue('dlq');
    const { QueueArn: dlqArn } = await attributesOf(dlqUrl, ['QueueArn']);
    const queueUrl = await local.createQueue('source', {
      VisibilityTimeout: '10',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }),
    });
    const { QueueArn: sourceArn } = await attributesOf(queueUrl, ['QueueArn']);
    const sent = await send(queueUrl, 'poison');
    // Act
    const receiveCounts: string[] = [];
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const messages = await receive(queueUrl);
      receiveCounts.push(...messages.map((m) => m.Attributes?.ApproximateReceiveCount ?? '?'));
      local.clock.advance(10_000);
    }
    // Assess
    expect(receiveCounts).toEqual(['1', '2']);
    expect(
      await attributesOf(queueUrl, [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
      ]),
    ).toEqual({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
    const [dead] = await receive(dlqUrl);
    expect(dead).toMatchObject({
      MessageId: sent.MessageId,
      Body: 'poison',
      Attributes: { DeadLetterQueueSourceArn: sourceArn, ApproximateReceiveCount: '3' },
    });
  });
});

describe('long polling', () => {
  it('answers as soon as a message arrives instead of waiting the full 20 s', async () => {
    const queueUrl = await local.createQueue('long-poll');
    const started = performance.now();
    const polling = receive(queueUrl, { WaitTimeSeconds: 20 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await send(queueUrl, 'late');

    const messages = await polling;
    expect(messages.map((m) => m.Body)).toEqual(['late']);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('delivers a message whose visibility timeout ends during the wait', async () => {
    const queueUrl = await local.createQueue('long-poll-visibility', { VisibilityTimeout: '30' });
    await send(queueUrl, 'again');
    await receive(queueUrl);
    const polling = receive(queueUrl, { WaitTimeSeconds: 20 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    local.clock.advance(30_000);
    expect((await polling).map((m) => m.Attributes?.ApproximateReceiveCount)).toEqual(['2']);
  });

  it('ends an empty wait when the clock passes WaitTimeSeconds', async () => {
    const queueUrl = await local.createQueue('long-poll-empty');
    const started = performance.now();
    const polling = receive(queueUrl, { WaitTimeSeconds: 20 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    local.clock.advance(20_000);
    expect(await polling).toEqual([]);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('delays, retention and purge', () => {
  it('keeps a delayed message out of reach until its delay passed', async () => {
    const queueUrl = await local.createQueue('delay');
    await local.sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'later', DelaySeconds: 60 }),
    );
    expect(await receive(queueUrl)).toEqual([]);
    expect(await attributesOf(queueUrl, ['ApproximateNumberOfMessagesDelayed'])).toEqual({
      ApproximateNumberOfMessagesDelayed: '1',
    });
    local.clock.advance(60_000);
    expect((await receive(queueUrl)).map((m) => m.Body)).toEqual(['later']);
  });

  it('counts a delayed message apart from the backlog, and refuses a delay above 15 minutes', async () => {
    // SQS API Reference, GetQueueAttributes: ApproximateNumberOfMessages is "the approximate
    // number of messages available for retrieval", ApproximateNumberOfMessagesDelayed those
    // "delayed and not available for reading immediately" (the sweeper's backlog reads the
    // first, and puts its own report requests off with a delay). SendMessage: DelaySeconds
    // "Valid values: 0 to 900. Maximum: 15 minutes".
    const queueUrl = await local.createQueue('delay-apart');
    await send(queueUrl, 'now');
    await local.sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'later', DelaySeconds: 2 }),
    );
    expect(
      await attributesOf(queueUrl, [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesDelayed',
      ]),
    ).toEqual({ ApproximateNumberOfMessages: '1', ApproximateNumberOfMessagesDelayed: '1' });
    await expect(
      local.sqs.send(
        new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'too late', DelaySeconds: 901 }),
      ),
    ).rejects.toThrow(/DelaySeconds is invalid/);
  });

  it('drops messages older than MessageRetentionPeriod, received or not', async () => {
    const queueUrl = await local.createQueue('retention', {
      MessageRetentionPeriod: '60',
      VisibilityTimeout: '10',
    });
    await send(queueUrl, 'old');
    await receive(queueUrl);
    local.clock.advance(30_000);
    await send(queueUrl, 'young');
    local.clock.advance(30_000);
    expect((await receive(queueUrl)).map((m) => m.Body)).toEqual(['young']);
  });

  it('purges every message, once per minute', async () => {
    const queueUrl = await local.createQueue('purge');
    await send(queueUrl, 'a');
    await send(queueUrl, 'b');
    await receive(queueUrl, { VisibilityTimeout: 0 });
    await local.sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
    expect(
      await attributesOf(queueUrl, [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
      ]),
    ).toEqual({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });

    const again = await local.sqs
      .send(new PurgeQueueCommand({ QueueUrl: queueUrl }))
      .catch((e: unknown) => e);
    expect(again).toBeInstanceOf(PurgeQueueInProgress);
    local.clock.advance(60_000);
    await expect(
      local.sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl })),
    ).resolves.toBeDefined();
  });
});
