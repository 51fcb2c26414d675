import { describe, expect, it } from 'vitest';
import { alarmSubscriptionWarnings } from './alarm-subscriptions.ts';

// The shape of `aws sns list-subscriptions-by-topic` (ListSubscriptionsByTopic), where an
// unconfirmed subscription's SubscriptionArn reads PendingConfirmation
// (https://docs.aws.amazon.com/sns/latest/api/API_Subscription.html).
const TOPIC = 'arn:aws:sns:eu-west-1:111111111111:IotPlayground-prod-AlarmsTopic-X';

describe('alarm subscriptions in the smoke report', () => {
  it('warns about an e-mail subscription still pending confirmation', () => {
    const warnings = alarmSubscriptionWarnings({
      Subscriptions: [
        { SubscriptionArn: 'PendingConfirmation', Protocol: 'email', Endpoint: 'ops@example.com' },
      ],
    });
    expect(warnings).toEqual([
      expect.stringMatching(/email subscription of ops@example.com is pending confirmation/),
    ]);
  });

  it('is silent once confirmed', () => {
    expect(
      alarmSubscriptionWarnings({
        Subscriptions: [
          { SubscriptionArn: `${TOPIC}:0b4e`, Protocol: 'email', Endpoint: 'ops@example.com' },
        ],
      }),
    ).toEqual([]);
  });

  it('warns when the topic has no subscription at all', () => {
    expect(alarmSubscriptionWarnings({ Subscriptions: [] })).toEqual([
      expect.stringMatching(/reach no one/),
    ]);
  });
});
