/**
 * The alarm e-mail's subscription state, from `aws sns list-subscriptions-by-topic` output: an
 * address that has not confirmed the link AWS mailed it receives no alarm and no budget mail.
 * SNS marks such a subscription with the SubscriptionArn `PendingConfirmation`
 * (https://docs.aws.amazon.com/sns/latest/api/API_Subscription.html).
 */
export interface TopicSubscriptions {
  Subscriptions?: { SubscriptionArn?: string; Protocol?: string; Endpoint?: string }[];
}

/** Warnings for the smoke report: none when every e-mail subscription is confirmed. */
export const alarmSubscriptionWarnings = (listed: TopicSubscriptions): string[] => {
  const subscriptions = listed.Subscriptions ?? [];
  if (subscriptions.length === 0) {
    return ['The alarm topic has no subscription: alarms reach no one (set alarmEmail).'];
  }
  return subscriptions
    .filter((subscription) => subscription.SubscriptionArn === 'PendingConfirmation')
    .map(
      (subscription) =>
        `Alarm ${subscription.Protocol ?? 'e-mail'} subscription of ${subscription.Endpoint ?? '?'} ` +
        'is pending confirmation: alarms reach no one until the link AWS mailed is opened.',
    );
};
