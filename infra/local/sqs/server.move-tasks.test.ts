/** Dead-letter queue redrive: StartMessageMoveTask, ListMessageMoveTasks, CancelMessageMoveTask. */
import {
  CancelMessageMoveTaskCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  ResourceNotFoundException,
  SendMessageBatchCommand,
  StartMessageMoveTaskCommand,
  UnsupportedOperation,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { eventually, queueCounts, useLocalSqs } from './test-support.ts';

const local = useLocalSqs();

const arnOf = async (queueUrl: string): Promise<string> => {
  const { Attributes = {} } = await local.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  return Attributes.QueueArn ?? '';
};

/** A queue whose dead-letter queue holds `count` messages that failed once each. */
const deadLettered = async (count: number) => {
  const dlqUrl = await local.createQueue('moves-dlq');
  const dlqArn = await arnOf(dlqUrl);
  const queueUrl = await local.createQueue('moves', {
    VisibilityTimeout: '30',
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 1 }),
  });
  for (let start = 0; start < count; start += 10) {
    await local.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Array.from({ length: Math.min(10, count - start) }, (_, index) => ({
          Id: `e${index}`,
          MessageBody: `m${start + index}`,
        })),
      }),
    );
  }
  const receiveAll = () =>
    local.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
  for (let received = 0; received < count;) {
    received += (await receiveAll()).Messages?.length ?? 0;
  }
  local.clock.advance(31_000);
  // Receives past maxReceiveCount move every message to the dead-letter queue
  while ((await queueCounts(local.sqs, queueUrl)).visible > 0) await receiveAll();
  expect(await queueCounts(local.sqs, dlqUrl)).toEqual({ visible: count, inFlight: 0 });
  return { queueUrl, queueArn: await arnOf(queueUrl), dlqUrl, dlqArn };
};

const latestTask = async (sourceArn: string) =>
  (await local.sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn }))).Results?.[0];

describe('StartMessageMoveTask', () => {
  it('moves every dead letter back to its source queue, received afresh', async () => {
    // Prepare
    const { queueUrl, dlqUrl, dlqArn } = await deadLettered(3);
    // Act
    const { TaskHandle } = await local.sqs.send(
      new StartMessageMoveTaskCommand({ SourceArn: dlqArn }),
    );
    // Assess
    const task = await eventually(
      async () => {
        const latest = await latestTask(dlqArn);
        return latest?.Status === 'COMPLETED' ? latest : undefined;
      },
      3_000,
      'the task to complete',
    );
    expect(task).toMatchObject({
      TaskHandle,
      SourceArn: dlqArn,
      ApproximateNumberOfMessagesMoved: 3,
      ApproximateNumberOfMessagesToMove: 3,
    });
    expect(task.DestinationArn).toBeUndefined();
    expect(typeof task.StartedTimestamp).toBe('number');
    expect(await queueCounts(local.sqs, dlqUrl)).toEqual({ visible: 0, inFlight: 0 });
    const { Messages = [] } = await local.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    expect(Messages.map((m) => m.Body).sort()).toEqual(['m0', 'm1', 'm2']);
    // Received afresh: the count starts over, or the next receive would dead-letter it again
    expect(Messages.map((m) => m.Attributes?.ApproximateReceiveCount)).toEqual(['1', '1', '1']);
  });

  it('moves to DestinationArn at MaxNumberOfMessagesPerSecond, and can be cancelled', async () => {
    const { dlqUrl, dlqArn } = await deadLettered(20);
    const elsewhereUrl = await local.createQueue('moves-elsewhere');
    const elsewhereArn = await arnOf(elsewhereUrl);
    const { TaskHandle } = await local.sqs.send(
      new StartMessageMoveTaskCommand({
        SourceArn: dlqArn,
        DestinationArn: elsewhereArn,
        MaxNumberOfMessagesPerSecond: 10,
      }),
    );
    await eventually(
      async () => ((await queueCounts(local.sqs, elsewhereUrl)).visible >= 3 ? true : undefined),
      3_000,
      'a few messages moved',
    );
    // One active task per source queue
    await expect(
      local.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn })),
    ).rejects.toBeInstanceOf(UnsupportedOperation);
    expect(await latestTask(dlqArn)).toMatchObject({
      Status: 'RUNNING',
      DestinationArn: elsewhereArn,
      MaxNumberOfMessagesPerSecond: 10,
      ApproximateNumberOfMessagesToMove: 20,
    });

    const { ApproximateNumberOfMessagesMoved } = await local.sqs.send(
      new CancelMessageMoveTaskCommand({ TaskHandle }),
    );
    const moved = (await queueCounts(local.sqs, elsewhereUrl)).visible;
    expect(ApproximateNumberOfMessagesMoved).toBe(moved);
    // At 10 per second, 20 messages take two seconds: the cancel came before the end
    expect(moved).toBeLessThan(20);
    expect((await queueCounts(local.sqs, dlqUrl)).visible).toBe(20 - moved);
    expect(await latestTask(dlqArn)).toMatchObject({ Status: 'CANCELLED' });
    await expect(
      local.sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle })),
    ).rejects.toBeInstanceOf(UnsupportedOperation);
  });

  it('refuses what AWS refuses', async () => {
    const { queueArn, dlqArn } = await deadLettered(1);
    const missing = `${dlqArn}-missing`;
    await expect(
      local.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: missing })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(
      local.sqs.send(
        new StartMessageMoveTaskCommand({ SourceArn: dlqArn, DestinationArn: missing }),
      ),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    // Not a dead-letter queue of any queue
    await expect(
      local.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: queueArn })),
    ).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(
      local.sqs.send(
        new StartMessageMoveTaskCommand({ SourceArn: dlqArn, MaxNumberOfMessagesPerSecond: 501 }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(
      local.sqs.send(new ListMessageMoveTasksCommand({ SourceArn: missing })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(
      local.sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle: 'bm90LWEtdGFzaw==' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    // Nothing was started by the refused requests
    expect(
      (await local.sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn, MaxResults: 10 })))
        .Results,
    ).toEqual([]);
  });
});
