/** SQS messages as Lambda hands them to a function: the camelCase records of an SQSEvent. */
import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { SQSMessageAttribute, SQSRecord, SQSRecordAttributes } from 'aws-lambda';

const base64 = (bytes: Uint8Array | undefined): string | undefined =>
  bytes === undefined ? undefined : Buffer.from(bytes).toString('base64');

const toRecordAttribute = (value: MessageAttributeValue): SQSMessageAttribute => ({
  ...(value.StringValue !== undefined && { stringValue: value.StringValue }),
  ...(value.BinaryValue !== undefined && { binaryValue: base64(value.BinaryValue) }),
  // Lambda always sends the (unused) list members, empty.
  stringListValues: value.StringListValues ?? [],
  binaryListValues: (value.BinaryListValues ?? []).map((bytes) => base64(bytes) ?? ''),
  dataType: value.DataType ?? 'String',
});

const requireMember = (value: string | undefined, name: string): string => {
  if (value === undefined) throw new Error(`ReceiveMessage returned a message without ${name}`);
  return value;
};

/** `region` is the queue's region, which Lambda reports as `awsRegion`. */
export const toSqsRecord = (message: Message, queueArn: string, region: string): SQSRecord => {
  const attributes = message.Attributes ?? {};
  const recordAttributes: SQSRecordAttributes = {
    ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
    SentTimestamp: attributes.SentTimestamp ?? '',
    SenderId: attributes.SenderId ?? '',
    ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? '',
    ...(attributes.AWSTraceHeader !== undefined && { AWSTraceHeader: attributes.AWSTraceHeader }),
    ...(attributes.DeadLetterQueueSourceArn !== undefined && {
      DeadLetterQueueSourceArn: attributes.DeadLetterQueueSourceArn,
    }),
  };
  return {
    messageId: requireMember(message.MessageId, 'MessageId'),
    receiptHandle: requireMember(message.ReceiptHandle, 'ReceiptHandle'),
    body: message.Body ?? '',
    attributes: recordAttributes,
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        toRecordAttribute(value),
      ]),
    ),
    md5OfBody: requireMember(message.MD5OfBody, 'MD5OfBody'),
    ...(message.MD5OfMessageAttributes !== undefined && {
      md5OfMessageAttributes: message.MD5OfMessageAttributes,
    }),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
};
