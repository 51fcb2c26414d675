/** Sending, receiving and deleting through the real SDK client, and the batch rules. */
import {
  BatchEntryIdsNotDistinct,
  BatchRequestTooLong,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  EmptyBatchRequest,
  InvalidBatchEntryId,
  InvalidMessageContents,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSServiceException,
  TooManyEntriesInBatchRequest,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { queueCounts, useLocalSqs } from './test-support.ts';

const local = useLocalSqs();

const countsOf = (queueUrl: string) => queueCounts(local.sqs, queueUrl);

const receiveAll = (queueUrl: string) =>
  local.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  );

describe('send, receive, delete', () => {
  it('round-trips a message with its system attributes and digests', async () => {
    // Prepare
    const queueUrl = await local.createQueue('roundtrip');
    const body = 'température 21.5 °C 🌡';
    // Act
    const sent = await local.sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }),
    );
    const { Messages = [] } = await receiveAll(queueUrl);
    // Assess
    expect(sent.MD5OfMessageBody).toMatch(/^[0-9a-f]{32}$/);
    expect(Messages).toHaveLength(1);
    const [message] = Messages;
    expect(message).toMatchObject({
      MessageId: sent.MessageId,
      Body: body,
      MD5OfBody: sent.MD5OfMessageBody,
      Attributes: {
        ApproximateReceiveCount: '1',
        SenderId: 'local',
        SentTimestamp: String(local.clock.now()),
        ApproximateFirstReceiveTimestamp: String(local.clock.now()),
      },
    });
    expect(await countsOf(queueUrl)).toEqual({ visible: 0, inFlight: 1 });

    await local.sqs.send(
      new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message?.ReceiptHandle }),
    );
    expect(await countsOf(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('returns the known MD5OfBody of a known body (the SDK checks it on send and receive)', async () => {
    const queueUrl = await local.createQueue('md5-body');
    const sent = await local.sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'hello' }),
    );
    const { Messages = [] } = await receiveAll(queueUrl);
    expect(sent.MD5OfMessageBody).toBe('5d41402abc4b2a76b9719d911017c592');
    expect(Messages[0]?.MD5OfBody).toBe('5d41402abc4b2a76b9719d911017c592');
  });

  it('returns the AWS reference MD5OfMessageAttributes and the attributes intact', async () => {
    // Prepare
    const queueUrl = await local.createQueue('md5-attributes');
    // Act
    const sent = await local.sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: 'with attributes',
        MessageAttributes: {
          test_attribute_name_2: { DataType: 'String', StringValue: 'test_attribute_value_2' },
          test_attribute_name_1: { DataType: 'String', StringValue: 'test_attribute_value_1' },
        },
      }),
    );
    const binary = await local.sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: 'with a binary attribute',
        MessageAttributes: {
          test_attribute_name: {
            DataType: 'Binary',
            BinaryValue: Buffer.from('test_attribute_value'),
          },
        },
      }),
    );
    const { Messages = [] } = await receiveAll(queueUrl);
    // Assess
    expect(sent.MD5OfMessageAttributes).toBe('d53f3b558fe951154770f25cb63dbba9');
    expect(binary.MD5OfMessageAttributes).toBe('23f6bd27ea87aab7dfeadcc9aebee495');
    const received = new Map(Messages.map((message) => [message.MessageId, message]));
    expect(received.get(sent.MessageId)?.MD5OfMessageAttributes).toBe(
      'd53f3b558fe951154770f25cb63dbba9',
    );
    const binaryMessage = received.get(binary.MessageId);
    expect(binaryMessage?.MD5OfMessageAttributes).toBe('23f6bd27ea87aab7dfeadcc9aebee495');
    expect(
      Buffer.from(
        binaryMessage?.MessageAttributes?.['test_attribute_name']?.BinaryValue ?? [],
      ).toString(),
    ).toBe('test_attribute_value');
  });

  it('returns only the message attributes asked for, with their digest', async () => {
    const queueUrl = await local.createQueue('attribute-names');
    await local.sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: 'x',
        MessageAttributes: {
          'trace.id': { DataType: 'String', StringValue: 'abc' },
          'trace.parent': { DataType: 'String', StringValue: 'def' },
          SellerName: { DataType: 'String', StringValue: 'Example Store' },
        },
      }),
    );
    const { Messages = [] } = await local.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageAttributeNames: ['SellerName'] }),
    );
    expect(Object.keys(Messages[0]?.MessageAttributes ?? {})).toEqual(['SellerName']);
    expect(Messages[0]?.MD5OfMessageAttributes).toBe('cd28f3b68aeee4b2eac9c66f2f694b58');
    expect(Messages[0]?.Attributes).toBeUndefined();
  });

  it('rejects a body with characters SQS does not allow', async () => {
    const queueUrl = await local.createQueue('bad-body');
    const error = await local.sqs
      .send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'bell \u0007' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidMessageContents);
  });

  it('rejects a message over 256 KiB with InvalidParameterValue', async () => {
    const queueUrl = await local.createQueue('too-big');
    const error = await local.sqs
      .send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x'.repeat(262_145) }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SQSServiceException);
    expect((error as SQSServiceException).name).toBe('InvalidParameterValue');
    // Exactly the limit is fine.
    await expect(
      local.sqs.send(
        new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x'.repeat(262_144) }),
      ),
    ).resolves.toMatchObject({ MessageId: expect.any(String) });
  });

  it('rejects invalid message attributes', async () => {
    const queueUrl = await local.createQueue('bad-attributes');
    const send = (attributes: NonNullable<SendMessageCommand['input']['MessageAttributes']>) =>
      local.sqs
        .send(
          new SendMessageCommand({
            QueueUrl: queueUrl,
            MessageBody: 'x',
            MessageAttributes: attributes,
          }),
        )
        .catch((e: unknown) => (e as SQSServiceException).name);
    expect(await send({ n: { DataType: 'Number', StringValue: 'twelve' } })).toBe(
      'InvalidParameterValue',
    );
    expect(await send({ 'AWS.reserved': { DataType: 'String', StringValue: 'x' } })).toBe(
      'InvalidParameterValue',
    );
    expect(await send({ empty: { DataType: 'String', StringValue: '' } })).toBe(
      'InvalidParameterValue',
    );
    expect(await send({ t: { DataType: 'Date', StringValue: '2024' } })).toBe(
      'InvalidParameterValue',
    );
  });
});

describe('SendMessageBatch', () => {
  const entries = (count: number, body = 'm') =>
    Array.from({ length: count }, (_, index) => ({
      Id: `e${index}`,
      MessageBody: `${body}${index}`,
    }));

  it('enqueues up to 10 entries and reports each as Successful with its digest', async () => {
    const queueUrl = await local.createQueue('batch');
    const result = await local.sqs.send(
      new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries(10) }),
    );
    expect(result.Successful?.map((entry) => entry.Id).sort()).toEqual(
      entries(10)
        .map((e) => e.Id)
        .sort(),
    );
    expect(result.Failed ?? []).toEqual([]);
    expect(await countsOf(queueUrl)).toEqual({ visible: 10, inFlight: 0 });
  });

  it('maps the request-level batch errors to their SDK exception classes', async () => {
    const queueUrl = await local.createQueue('batch-errors');
    const attempt = (batch: { Id: string; MessageBody: string }[]) =>
      local.sqs
        .send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch }))
        .catch((e: unknown) => e);

    expect(await attempt(entries(11))).toBeInstanceOf(TooManyEntriesInBatchRequest);
    expect(await attempt([])).toBeInstanceOf(EmptyBatchRequest);
    expect(
      await attempt([
        { Id: 'same', MessageBody: 'a' },
        { Id: 'same', MessageBody: 'b' },
      ]),
    ).toBeInstanceOf(BatchEntryIdsNotDistinct);
    expect(await attempt([{ Id: 'not valid!', MessageBody: 'a' }])).toBeInstanceOf(
      InvalidBatchEntryId,
    );
    // 2 × 140,000 bytes: each fits, the batch does not.
    expect(await attempt(entries(2, 'y'.repeat(140_000)))).toBeInstanceOf(BatchRequestTooLong);
    expect(await countsOf(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('fails only the entry with an invalid body', async () => {
    const queueUrl = await local.createQueue('batch-partial');
    const result = await local.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: 'good', MessageBody: 'fine' },
          { Id: 'bad', MessageBody: 'nul \u0000' },
        ],
      }),
    );
    expect(result.Successful?.map((entry) => entry.Id)).toEqual(['good']);
    expect(result.Failed).toEqual([
      expect.objectContaining({ Id: 'bad', SenderFault: true, Code: 'InvalidMessageContents' }),
    ]);
    expect(await countsOf(queueUrl)).toEqual({ visible: 1, inFlight: 0 });
  });
});

describe('DeleteMessageBatch', () => {
  it('deletes the valid handles and fails the invalid one', async () => {
    const queueUrl = await local.createQueue('delete-batch');
    await local.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: 'a', MessageBody: 'a' },
          { Id: 'b', MessageBody: 'b' },
        ],
      }),
    );
    const { Messages = [] } = await receiveAll(queueUrl);
    const result = await local.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          ...Messages.map((message, index) => ({
            Id: `m${index}`,
            ReceiptHandle: message.ReceiptHandle,
          })),
          { Id: 'bogus', ReceiptHandle: 'not-a-receipt-handle' },
        ],
      }),
    );
    expect(result.Successful?.map((entry) => entry.Id).sort()).toEqual(['m0', 'm1']);
    expect(result.Failed).toEqual([
      expect.objectContaining({ Id: 'bogus', SenderFault: true, Code: 'ReceiptHandleIsInvalid' }),
    ]);
    expect(await countsOf(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });
});
