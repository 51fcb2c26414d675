/** What the panel tells the stage's alarm topic (the idle stop), through SNS. */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notifier } from './deployments.ts';

/** SNS takes a subject "less than 100 characters long". */
const MAX_SUBJECT = 99;

export const snsNotifier = (client: Pick<SNSClient, 'send'>, topicArn: string): Notifier => ({
  notify: async (subject, message) => {
    await client.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: subject.slice(0, MAX_SUBJECT),
        Message: message,
      }),
    );
  },
});

/** A stage without an alarm topic (no alarmEmail): the log says it instead. */
export const logNotifier = (log: (message: string, extra: object) => void): Notifier => ({
  notify: async (subject, message) =>
    log('Alarm topic message (no topic configured)', { subject, message }),
});
