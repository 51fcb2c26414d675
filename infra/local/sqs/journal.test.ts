/** The local SQS endpoint with a data folder: what it accepted survives a restart. */
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { startSqsServer, type SqsServer } from './server.ts';
import { createSqsClient, queueCounts } from './test-support.ts';

const folders: string[] = [];
afterAll(async () => {
  await Promise.all(folders.map((dir) => rm(dir, { recursive: true, force: true })));
});

const newFolder = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sqs-journal-'));
  folders.push(dir);
  return dir;
};

/** An endpoint on `dataDir` with a frozen clock and the queue `q` (and its dead-letter queue). */
const start = async (dataDir: string, time: { now: number }) => {
  const server = await startSqsServer({ dataDir, now: () => time.now });
  const deadLetters = server.queues.create('q-dlq');
  const queue = server.queues.create('q', {
    VisibilityTimeout: '60',
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetters.arn, maxReceiveCount: 2 }),
  });
  const sqs = createSqsClient(server.endpoint);
  return { server, sqs, queueUrl: queue.url, dlqUrl: deadLetters.url };
};

const stop = async ({ server, sqs }: { server: SqsServer; sqs: SQSClient }) => {
  sqs.destroy();
  await server.close();
};

const sendBodies = (sqs: SQSClient, queueUrl: string, bodies: string[]) =>
  sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: bodies.map((body, index) => ({
        Id: `e${index}`,
        MessageBody: body,
        MessageAttributes: { kind: { DataType: 'Binary', BinaryValue: Uint8Array.of(1, 2, 3) } },
      })),
    }),
  );

const receive = async (sqs: SQSClient, queueUrl: string, max: number) =>
  (
    await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: max,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    )
  ).Messages ?? [];

describe('a data folder', () => {
  it('keeps queued and in-flight messages, receive counts and deadlines across a restart', async () => {
    // Prepare
    const dataDir = await newFolder();
    const time = { now: Date.UTC(2030, 0, 1) };
    const first = await start(dataDir, time);
    const bodies = Array.from({ length: 10 }, (_, index) => `m${index}`);
    await sendBodies(first.sqs, first.queueUrl, bodies);
    const inFlight = await receive(first.sqs, first.queueUrl, 3);
    await stop(first);
    // Act
    const second = await start(dataDir, time);
    try {
      // Assess: 7 visible, 3 still invisible until their deadline
      expect(await queueCounts(second.sqs, second.queueUrl)).toEqual({ visible: 7, inFlight: 3 });
      const rest = await receive(second.sqs, second.queueUrl, 10);
      expect(rest.map((m) => m.Body).sort()).toEqual(
        bodies.filter((body) => !inFlight.some((m) => m.Body === body)).sort(),
      );
      expect(rest[0]?.MessageAttributes?.['kind']?.BinaryValue).toEqual(Uint8Array.of(1, 2, 3));
      // A receipt handle from before the restart still deletes its message
      await second.sqs.send(
        new DeleteMessageCommand({
          QueueUrl: second.queueUrl,
          ReceiptHandle: inFlight[0]?.ReceiptHandle,
        }),
      );
      time.now += 61_000;
      second.server.wakeLongPolls();
      const again = await receive(second.sqs, second.queueUrl, 10);
      // The two other in-flight ones and the seven received after the restart come back, the
      // in-flight ones received for the second time
      expect(again).toHaveLength(9);
      const counts = again
        .filter((m) => inFlight.some((old) => old.MessageId === m.MessageId))
        .map((m) => m.Attributes?.ApproximateReceiveCount);
      expect(counts).toEqual(['2', '2']);
    } finally {
      await stop(second);
    }
  });

  it('keeps what redrive moved to the dead-letter queue', async () => {
    const dataDir = await newFolder();
    const time = { now: Date.UTC(2030, 0, 1) };
    const first = await start(dataDir, time);
    await sendBodies(first.sqs, first.queueUrl, ['poison']);
    for (let attempt = 0; attempt < 2; attempt++) {
      expect(await receive(first.sqs, first.queueUrl, 1)).toHaveLength(1);
      time.now += 61_000;
    }
    // The third receive moves it to the dead-letter queue instead of delivering it
    expect(await receive(first.sqs, first.queueUrl, 1)).toHaveLength(0);
    await stop(first);

    const second = await start(dataDir, time);
    try {
      expect(await queueCounts(second.sqs, second.queueUrl)).toEqual({ visible: 0, inFlight: 0 });
      const [dead] = await receive(second.sqs, second.dlqUrl, 1);
      expect(dead?.Body).toBe('poison');
      expect(dead?.Attributes?.DeadLetterQueueSourceArn).toMatch(/:q$/);
    } finally {
      await stop(second);
    }
  });

  it('recovers from a torn last line and starts the journal afresh', async () => {
    const dataDir = await newFolder();
    const time = { now: Date.UTC(2030, 0, 1) };
    const first = await start(dataDir, time);
    await sendBodies(first.sqs, first.queueUrl, ['a', 'b']);
    const [taken] = await receive(first.sqs, first.queueUrl, 1);
    await first.sqs.send(
      new DeleteMessageCommand({ QueueUrl: first.queueUrl, ReceiptHandle: taken?.ReceiptHandle }),
    );
    await stop(first);
    const journal = join(dataDir, 'messages.journal');
    // A write cut short by a crash
    await appendFile(journal, '{"op":"put","q":"q","m":{"messageId":"x');

    const second = await start(dataDir, time);
    try {
      // The journal now holds exactly the one live message
      const lines = (await readFile(journal, 'utf8')).split('\n').filter(Boolean);
      expect(lines).toHaveLength(1);
      const left = await receive(second.sqs, second.queueUrl, 10);
      expect(left.map((m) => m.Body)).toEqual([taken?.Body === 'a' ? 'b' : 'a']);
    } finally {
      await stop(second);
    }
  });

  it('keeps messages of a queue not created again after the restart', async () => {
    const dataDir = await newFolder();
    const time = { now: Date.UTC(2030, 0, 1) };
    const first = await start(dataDir, time);
    await sendBodies(first.sqs, first.queueUrl, ['kept']);
    await stop(first);
    // A restart that does not create `q`, then one that does
    const bare = await startSqsServer({ dataDir, now: () => time.now });
    await bare.close();
    const third = await start(dataDir, time);
    try {
      expect((await receive(third.sqs, third.queueUrl, 1))[0]?.Body).toBe('kept');
    } finally {
      await stop(third);
    }
  });
});
