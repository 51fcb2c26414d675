/**
 * Publish as the SDK calls it (Query protocol), held to the API reference:
 * https://docs.aws.amazon.com/sns/latest/api/API_Publish.html — `Message` required, at most
 * 256 KiB; `Subject` ASCII without line breaks, "less than 100 characters long"; an unknown topic is
 * NotFound.
 */
import {
  InvalidParameterException,
  NotFoundException,
  PublishCommand,
  SNSClient,
} from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalSns, startLocalSns } from './index.ts';

let sns: LocalSns;
let client: SNSClient;

beforeAll(async () => {
  sns = await startLocalSns(['alarms']);
  client = new SNSClient({
    endpoint: sns.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});
afterAll(async () => {
  client?.destroy();
  await sns?.stop();
});

describe('Publish', () => {
  it('takes a message to a topic and keeps it to be read back', async () => {
    const TopicArn = sns.topicArn('alarms');
    const out = await client.send(
      new PublishCommand({ TopicArn, Subject: 'Grafana stopped', Message: 'Because idle' }),
    );
    expect(out.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(sns.published().at(-1)).toMatchObject({
      topicArn: TopicArn,
      subject: 'Grafana stopped',
      message: 'Because idle',
      messageId: out.MessageId,
    });
  });

  it('refuses an unknown topic, an empty or oversized message and a bad subject', async () => {
    const TopicArn = sns.topicArn('alarms');
    const before = sns.published().length;
    await expect(
      client.send(new PublishCommand({ TopicArn: `${TopicArn}-x`, Message: 'm' })),
    ).rejects.toBeInstanceOf(NotFoundException);
    for (const input of [
      { TopicArn, Message: '' },
      { TopicArn, Message: 'x'.repeat(262_145) },
      { TopicArn, Message: 'm', Subject: 'line\nbreak' },
      { TopicArn, Message: 'm', Subject: 's'.repeat(100) },
    ]) {
      await expect(client.send(new PublishCommand(input))).rejects.toBeInstanceOf(
        InvalidParameterException,
      );
    }
    expect(sns.published()).toHaveLength(before);
  });
});
