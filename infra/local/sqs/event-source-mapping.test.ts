/** The Lambda SQS poller against the local endpoint, through the real SDK client. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  GetQueueAttributesCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import {
  startEventSourceMapping,
  type EventSourceMapping,
  type EventSourceMappingOptions,
  type EventSourceMappingStage,
} from './event-source-mapping.ts';
import { eventually, useLocalSqs } from './test-support.ts';
import { queueCounts } from './test-support.ts';

const local = useLocalSqs();

const running: EventSourceMapping[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((mapping) => mapping.stop()));
});

type MappingOptions = Omit<EventSourceMappingOptions, 'sqs' | 'queueUrl'> & {
  queueUrl: string;
  sqs?: SQSClient;
};

/** Starts a mapping that is stopped after the test; errors are collected, not printed. */
const startMapping = async (options: MappingOptions) => {
  const errors: { stage: EventSourceMappingStage; messageIds: string[]; message: string }[] = [];
  const mapping = await startEventSourceMapping({
    sqs: local.sqs,
    onError: (error, context) => errors.push({ ...context, message: error.message }),
    ...options,
  });
  running.push(mapping);
  return { mapping, errors };
};

const sendBodies = async (queueUrl: string, bodies: string[]) => {
  for (let start = 0; start < bodies.length; start += 10) {
    const chunk = bodies.slice(start, start + 10);
    await local.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((body, index) => ({ Id: `m${index}`, MessageBody: body })),
      }),
    );
  }
};

const countsOf = (queueUrl: string) => queueCounts(local.sqs, queueUrl);

const emptied = (queueUrl: string) =>
  eventually(
    async () => {
      const counts = await countsOf(queueUrl);
      return counts.visible === 0 && counts.inFlight === 0 ? counts : undefined;
    },
    5_000,
    'the queue to be empty',
  );

const bodiesOf = (event: SQSEvent) => event.Records.map((record) => record.body);

describe('batching', () => {
  it('invokes with at most batchSize records and deletes what was processed', async () => {
    // Prepare
    const queueUrl = await local.createQueue('esm-size');
    const bodies = Array.from({ length: 12 }, (_, index) => `m${index}`);
    await sendBodies(queueUrl, bodies);
    const events: SQSEvent[] = [];
    // Act
    await startMapping({
      queueUrl,
      batchSize: 5,
      invoke: async (event) => void events.push(event),
    });
    // Assess
    await eventually(
      () => (events.flatMap(bodiesOf).length >= 12 ? true : undefined),
      5_000,
      '12 records',
    );
    expect(
      events.map((event) => event.Records.length).every((size) => size >= 1 && size <= 5),
    ).toBe(true);
    expect(events.flatMap(bodiesOf).sort()).toEqual([...bodies].sort());
    await emptied(queueUrl);
  });

  it('gathers records arriving within the batching window into one invocation', async () => {
    // Prepare
    const queueUrl = await local.createQueue('esm-window');
    const invokedAt: number[] = [];
    const events: SQSEvent[] = [];
    await startMapping({
      queueUrl,
      batchSize: 10,
      maxBatchingWindowMs: 600,
      invoke: async (event) => {
        invokedAt.push(performance.now());
        events.push(event);
      },
    });
    // Act
    const firstSentAt = performance.now();
    await sendBodies(queueUrl, ['first']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await sendBodies(queueUrl, ['second']);
    // Assess
    await eventually(() => events[0], 5_000, 'an invocation');
    expect(events.map(bodiesOf)).toEqual([['first', 'second']]);
    const waited = (invokedAt[0] ?? 0) - firstSentAt;
    expect(waited).toBeGreaterThanOrEqual(550);
    expect(waited).toBeLessThan(1_500);
  });

  it('never strands a message handed to a receive still open when the window ends', async () => {
    // Prepare: a client whose aborted requests still reach the endpoint, as on a real network
    // (the answer is lost, the messages in it were handed out); the clock is frozen, so a
    // stranded message would stay invisible for the rest of the test.
    const queueUrl = await local.createQueue('esm-strand', { VisibilityTimeout: '600' });
    const network = {
      send: (command: never, options?: { abortSignal?: AbortSignal }) => {
        const answered = local.sqs.send(command);
        const signal = options?.abortSignal;
        if (signal === undefined) return answered;
        const dropped = new Promise<never>((_, reject) =>
          signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }),
        );
        return Promise.race([answered, dropped]);
      },
    } as unknown as SQSClient;
    const events: SQSEvent[] = [];
    await startMapping({
      sqs: network,
      queueUrl,
      batchSize: 10,
      maxBatchingWindowMs: 1_200,
      invoke: async (event) => void events.push(event),
    });
    // Act: the first record opens a 1.2 s window; the second arrives after the window ended —
    // once the first batch is invoked, not after a fixed sleep, which a loaded machine can
    // outlast (the second then joins the first batch and the case is not tested).
    await sendBodies(queueUrl, ['first']);
    await eventually(() => events[0], 4_000, 'the first window to end');
    await sendBodies(queueUrl, ['second']);
    // Assess
    await eventually(() => events[1], 4_000, 'the second record to be invoked');
    expect(events.flatMap(bodiesOf)).toEqual(['first', 'second']);
  });

  it("fills a batch over ten from what is waiting at once, ten a receive, as Lambda's pollers read until the batch is full", async () => {
    // "Lambda continues to read until … the batching window expires, the batch size is reached,
    // or the payload limit" (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html):
    // with records waiting, a window is no pause.
    const queueUrl = await local.createQueue('esm-fill');
    for (let chunk = 0; chunk < 6; chunk++) {
      await sendBodies(
        queueUrl,
        Array.from({ length: 10 }, (_, i) => `r${chunk * 10 + i}`),
      );
    }
    const events: SQSEvent[] = [];
    const startedAt = performance.now();
    await startMapping({
      queueUrl,
      batchSize: 50,
      maxBatchingWindowMs: 1_000,
      invoke: async (event) => void events.push(event),
    });
    await eventually(() => events[0], 5_000, 'an invocation');
    expect(events[0]!.Records).toHaveLength(50);
    expect(performance.now() - startedAt).toBeLessThan(900);
    await eventually(() => events[1], 5_000, 'the rest');
    expect(events[1]!.Records).toHaveLength(10);
  });

  it('invokes as soon as the batch is full, without waiting out the window', async () => {
    const queueUrl = await local.createQueue('esm-full');
    const events: SQSEvent[] = [];
    await startMapping({
      queueUrl,
      batchSize: 3,
      maxBatchingWindowMs: 10_000,
      invoke: async (event) => void events.push(event),
    });
    const sentAt = performance.now();
    await sendBodies(queueUrl, ['a', 'b', 'c']);
    await eventually(() => events[0], 3_000, 'an invocation');
    expect(performance.now() - sentAt).toBeLessThan(2_000);
    expect(bodiesOf(events[0] ?? { Records: [] }).sort()).toEqual(['a', 'b', 'c']);
  });
});

describe('the SQS event', () => {
  it('carries Lambda-shaped records', async () => {
    // Prepare
    const queueUrl = await local.createQueue('esm-shape');
    const { Attributes = {} } = await local.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    const sent = await local.sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: '{"reading":21.5}',
        MessageAttributes: {
          batchId: { DataType: 'String', StringValue: 'b-1' },
          raw: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2, 3]) },
        },
      }),
    );
    const records: SQSRecord[] = [];
    // Act
    await startMapping({ queueUrl, invoke: async (event) => void records.push(...event.Records) });
    const [record] = await eventually(
      () => (records.length > 0 ? records : undefined),
      5_000,
      'a record',
    );
    // Assess
    expect(record).toEqual({
      messageId: sent.MessageId,
      receiptHandle: expect.any(String),
      body: '{"reading":21.5}',
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(local.clock.now()),
        SenderId: 'local',
        ApproximateFirstReceiveTimestamp: String(local.clock.now()),
      },
      messageAttributes: {
        batchId: {
          stringValue: 'b-1',
          stringListValues: [],
          binaryListValues: [],
          dataType: 'String',
        },
        raw: {
          binaryValue: 'AQID',
          stringListValues: [],
          binaryListValues: [],
          dataType: 'Binary',
        },
      },
      md5OfBody: sent.MD5OfMessageBody,
      md5OfMessageAttributes: sent.MD5OfMessageAttributes,
      eventSource: 'aws:sqs',
      eventSourceARN: Attributes.QueueArn,
      awsRegion: 'us-east-1',
    });
  });
});

describe('batch responses', () => {
  it('deletes all but the reported failures, which come back after the visibility timeout', async () => {
    // Prepare
    const queueUrl = await local.createQueue('esm-partial', { VisibilityTimeout: '30' });
    await sendBodies(queueUrl, ['ok-1', 'fail', 'ok-2']);
    const events: SQSEvent[] = [];
    await startMapping({
      queueUrl,
      maxBatchingWindowMs: 300,
      invoke: async (event) => {
        events.push(event);
        const failed = event.Records.filter(
          (record) => record.body === 'fail' && events.length === 1,
        );
        return {
          batchItemFailures: failed.map((record) => ({ itemIdentifier: record.messageId })),
        };
      },
    });
    // Act
    await eventually(() => events[0], 5_000, 'the first invocation');
    await eventually(
      async () => ((await countsOf(queueUrl)).inFlight === 1 ? true : undefined),
      5_000,
      'only the failed record left',
    );
    local.clock.advance(30_000);
    await eventually(() => events[1], 5_000, 'the redelivery');
    // Assess
    expect(bodiesOf(events[0] ?? { Records: [] }).sort()).toEqual(['fail', 'ok-1', 'ok-2']);
    expect(events[1]?.Records.map((r) => [r.body, r.attributes.ApproximateReceiveCount])).toEqual([
      ['fail', '2'],
    ]);
    await emptied(queueUrl);
  });

  it('fails the whole batch on an invalid response', async () => {
    const queueUrl = await local.createQueue('esm-invalid', { VisibilityTimeout: '30' });
    await sendBodies(queueUrl, ['a', 'b']);
    const events: SQSEvent[] = [];
    const { errors } = await startMapping({
      queueUrl,
      maxBatchingWindowMs: 300,
      invoke: async (event) => {
        events.push(event);
        return events.length === 1
          ? { batchItemFailures: [{ itemIdentifier: 'not-in-batch' }] }
          : undefined;
      },
    });

    await eventually(() => errors[0], 5_000, 'the response error');
    expect(errors[0]?.stage).toBe('response');
    expect(await countsOf(queueUrl)).toEqual({ visible: 0, inFlight: 2 });
    local.clock.advance(30_000);
    await eventually(() => events[1], 5_000, 'the redelivery');
    expect(bodiesOf(events[1] ?? { Records: [] }).sort()).toEqual(['a', 'b']);
    await emptied(queueUrl);
  });

  it('deletes nothing when the invocation fails', async () => {
    const queueUrl = await local.createQueue('esm-throw', { VisibilityTimeout: '30' });
    await sendBodies(queueUrl, ['boom']);
    let calls = 0;
    const { errors } = await startMapping({
      queueUrl,
      invoke: async () => {
        calls += 1;
        if (calls === 1) throw new Error('Task timed out after 30.00 seconds');
      },
    });

    await eventually(() => errors[0], 5_000, 'the invoke error');
    expect(errors[0]).toMatchObject({
      stage: 'invoke',
      message: 'Task timed out after 30.00 seconds',
    });
    expect(await countsOf(queueUrl)).toEqual({ visible: 0, inFlight: 1 });
    local.clock.advance(30_000);
    await emptied(queueUrl);
    expect(calls).toBe(2);
  });

  it('redelivers processed records whose delete failed (at least once)', async () => {
    const queueUrl = await local.createQueue('esm-delete-fails', { VisibilityTimeout: '30' });
    await sendBodies(queueUrl, ['twice']);
    local.server.faults.failNextRequests('DeleteMessageBatch', 1);
    const bodies: string[] = [];
    const { errors } = await startMapping({
      queueUrl,
      invoke: async (event) => void bodies.push(...bodiesOf(event)),
    });

    await eventually(() => errors[0], 5_000, 'the delete error');
    expect(errors[0]).toMatchObject({ stage: 'delete' });
    local.clock.advance(30_000);
    await emptied(queueUrl);
    expect(bodies).toEqual(['twice', 'twice']);
  });

  it('lands a message that keeps failing in the dead-letter queue', async () => {
    // Prepare
    const dlqUrl = await local.createQueue('esm-dlq');
    const { Attributes = {} } = await local.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }),
    );
    const queueUrl = await local.createQueue('esm-poison', {
      VisibilityTimeout: '30',
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: Attributes.QueueArn,
        maxReceiveCount: 2,
      }),
    });
    await sendBodies(queueUrl, ['poison']);
    let calls = 0;
    await startMapping({
      queueUrl,
      invoke: async (event) => {
        calls += 1;
        return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
      },
    });
    // Act
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      await eventually(() => (calls >= attempt ? true : undefined), 5_000, `attempt ${attempt}`);
      local.clock.advance(30_000);
    }
    // Assess
    const { Messages = [] } = await local.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlqUrl, WaitTimeSeconds: 2 }),
    );
    expect(Messages.map((m) => m.Body)).toEqual(['poison']);
    expect(calls).toBe(2);
  });
});

describe('concurrency and lifecycle', () => {
  it('keeps at most maxConcurrency invocations in flight', async () => {
    // Prepare
    const queueUrl = await local.createQueue('esm-concurrency');
    await sendBodies(queueUrl, ['1', '2', '3', '4', '5', '6']);
    let inFlight = 0;
    let peak = 0;
    let completed = 0;
    const releases: (() => void)[] = [];
    await startMapping({
      queueUrl,
      batchSize: 1,
      maxConcurrency: 2,
      invoke: async () => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise<void>((resolve) => releases.push(resolve));
        inFlight -= 1;
        completed += 1;
      },
    });
    // Act
    await eventually(() => (inFlight === 2 ? true : undefined), 5_000, 'two invocations');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const heldAtCap = inFlight;
    while (completed < 6) {
      releases.splice(0).forEach((release) => release());
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Assess
    expect(heldAtCap).toBe(2);
    expect(peak).toBe(2);
    await emptied(queueUrl);
  });

  it('stop() waits for the invocation in flight and then stops polling', async () => {
    // Prepare
    const queueUrl = await local.createQueue('esm-stop');
    await sendBodies(queueUrl, ['slow']);
    let finished = false;
    let started = false;
    const { mapping } = await startMapping({
      queueUrl,
      invoke: async () => {
        started = true;
        await new Promise((resolve) => setTimeout(resolve, 300));
        finished = true;
      },
    });
    await eventually(() => (started ? true : undefined), 5_000, 'the invocation');
    // Act
    await mapping.stop();
    // Assess
    expect(finished).toBe(true);
    expect(await countsOf(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    await sendBodies(queueUrl, ['after stop']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await countsOf(queueUrl)).toEqual({ visible: 1, inFlight: 0 });
  });

  it('stop() ends an idle long poll at once', async () => {
    const queueUrl = await local.createQueue('esm-idle');
    const { mapping } = await startMapping({ queueUrl, invoke: async () => undefined });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stoppingAt = performance.now();
    await mapping.stop();
    expect(performance.now() - stoppingAt).toBeLessThan(1_000);
  });

  it('does not keep the process alive after stop()', async () => {
    const queueUrl = await local.createQueue('esm-exit');
    await sendBodies(queueUrl, ['one']);
    const fixture = fileURLToPath(
      new URL('./event-source-mapping.exit-fixture.ts', import.meta.url),
    );
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fixture, local.server.endpoint, queueUrl],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    let stoppedAt = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (stoppedAt === 0 && output.includes('stopped')) stoppedAt = performance.now();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exitCode = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill();
        resolve(null);
      }, 15_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
    expect(output).toContain('invoked 1');
    expect(output).toContain('stopped');
    expect(exitCode).toBe(0);
    expect(performance.now() - stoppedAt).toBeLessThan(3_000);
  });
});

describe('starting a mapping', () => {
  it('refuses a missing queue, a queue shorter than the function timeout and bad settings', async () => {
    const queueUrl = await local.createQueue('esm-config', { VisibilityTimeout: '30' });
    const start = (options: Partial<EventSourceMappingOptions>) =>
      startEventSourceMapping({
        sqs: local.sqs,
        queueUrl,
        invoke: async () => undefined,
        ...options,
      });

    await expect(start({ queueUrl: `${queueUrl}-missing` })).rejects.toBeInstanceOf(
      QueueDoesNotExist,
    );
    await expect(start({ functionTimeoutSeconds: 31 })).rejects.toThrow(
      'Queue visibility timeout: 30 seconds is less than Function timeout: 31 seconds',
    );
    // Lambda API Reference, CreateEventSourceMapping: "For Amazon SQS event sources, when you set
    // BatchSize to a value greater than 10, you must set MaximumBatchingWindowInSeconds to at
    // least 1" (the consumer's batch of 100 waits out a 1 s window for that reason).
    await expect(start({ batchSize: 11 })).rejects.toThrow(/maxBatchingWindowMs/);
    await expect(start({ batchSize: 11, maxBatchingWindowMs: 999 })).rejects.toThrow(
      /maxBatchingWindowMs/,
    );
    await expect(start({ maxConcurrency: 1 })).rejects.toThrow(/maxConcurrency/);
    const mapping = await start({ functionTimeoutSeconds: 30 });
    running.push(mapping);
    expect(mapping.visibilityTimeoutSeconds).toBe(30);
  });
});
