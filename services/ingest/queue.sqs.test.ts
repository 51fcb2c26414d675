import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSqs, type LocalSqs } from '#infra/local/sqs/test-support.ts';
import { SqsMeasurementQueue } from './queue.ts';

let sqs: LocalSqs;
beforeAll(async () => {
  sqs = await startLocalSqs();
});
afterAll(async () => {
  await sqs?.close();
});

describe('SqsMeasurementQueue (local SQS endpoint)', () => {
  it('sends a batch with one SendMessageBatch call and the bodies arrive unchanged', async () => {
    const queueUrl = await sqs.createQueue('measurements');
    const queue = new SqsMeasurementQueue(sqs.sqs, queueUrl);
    const entries = [0, 1, 2].map((i) => ({
      id: `m${i}`,
      body: JSON.stringify({ batchId: `t.${i}`, n: 'é' }),
    }));
    expect(await queue.sendBatch(entries)).toEqual({ failed: [] });
    const received = await sqs.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }),
    );
    expect((received.Messages ?? []).map((m) => m.Body).sort()).toEqual(
      entries.map((e) => e.body).sort(),
    );
  });
});
