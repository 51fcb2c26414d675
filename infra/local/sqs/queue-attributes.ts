/**
 * Queue attributes: parsing and validating what CreateQueue / SetQueueAttributes send, and
 * rendering them back as the string map GetQueueAttributes returns.
 */
import { invalidAttributeName, invalidAttributeValue, invalidParameterValue } from './errors.ts';
import { MAX_MESSAGE_BYTES } from './message.ts';

export interface RedrivePolicy {
  deadLetterTargetArn: string;
  maxReceiveCount: number;
}

export interface QueueSettings {
  visibilityTimeoutSeconds: number;
  retentionSeconds: number;
  delaySeconds: number;
  receiveWaitTimeSeconds: number;
  maximumMessageSize: number;
  redrivePolicy?: RedrivePolicy;
  /** Accepted and echoed back, without effect locally (policies, encryption). */
  passive: Record<string, string>;
}

export const DEFAULT_QUEUE_SETTINGS: QueueSettings = {
  visibilityTimeoutSeconds: 30,
  retentionSeconds: 345_600,
  delaySeconds: 0,
  receiveWaitTimeSeconds: 0,
  maximumMessageSize: MAX_MESSAGE_BYTES,
  passive: {},
};

const INTEGER_ATTRIBUTES = {
  VisibilityTimeout: { key: 'visibilityTimeoutSeconds', min: 0, max: 43_200 },
  MessageRetentionPeriod: { key: 'retentionSeconds', min: 60, max: 1_209_600 },
  DelaySeconds: { key: 'delaySeconds', min: 0, max: 900 },
  ReceiveMessageWaitTimeSeconds: { key: 'receiveWaitTimeSeconds', min: 0, max: 20 },
  MaximumMessageSize: { key: 'maximumMessageSize', min: 1_024, max: MAX_MESSAGE_BYTES },
} as const;

type IntegerAttribute = keyof typeof INTEGER_ATTRIBUTES;

const PASSIVE_ATTRIBUTES = new Set([
  'Policy',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'SqsManagedSseEnabled',
  'RedriveAllowPolicy',
]);

const FIFO_ATTRIBUTES = new Set([
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
]);

/** Attributes only GetQueueAttributes knows; `All` selects every attribute. */
export const READ_ONLY_ATTRIBUTES = new Set([
  'All',
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
  'QueueArn',
]);

const isIntegerAttribute = (name: string): name is IntegerAttribute => name in INTEGER_ATTRIBUTES;

export const isKnownAttributeName = (name: string): boolean =>
  isIntegerAttribute(name) ||
  name === 'RedrivePolicy' ||
  PASSIVE_ATTRIBUTES.has(name) ||
  READ_ONLY_ATTRIBUTES.has(name);

const parseInteger = (name: IntegerAttribute, raw: string): number => {
  const { min, max } = INTEGER_ATTRIBUTES[name];
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw invalidAttributeValue(name, `Must be an integer from ${min} to ${max}.`);
  }
  return value;
};

const invalidRedrivePolicy = (raw: string, reason: string) =>
  invalidParameterValue(`Value ${raw} for parameter RedrivePolicy is invalid. Reason: ${reason}`);

/** Parses the RedrivePolicy JSON string; maxReceiveCount may be a number or a numeric string. */
export const parseRedrivePolicy = (
  raw: string,
  deadLetterQueueExists: (arn: string) => boolean,
): RedrivePolicy => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalidRedrivePolicy(raw, 'Redrive policy is not a valid JSON map.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidRedrivePolicy(raw, 'Redrive policy is not a valid JSON map.');
  }
  const { deadLetterTargetArn, maxReceiveCount } = parsed as Record<string, unknown>;
  const count = typeof maxReceiveCount === 'string' ? Number(maxReceiveCount) : maxReceiveCount;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 1000) {
    throw invalidRedrivePolicy(
      raw,
      `Invalid value for maxReceiveCount: ${String(maxReceiveCount)}, valid values are from 1 to 1000 both inclusive.`,
    );
  }
  if (typeof deadLetterTargetArn !== 'string' || deadLetterTargetArn === '') {
    throw invalidRedrivePolicy(
      raw,
      'Redrive policy does not contain mandatory attribute: deadLetterTargetArn.',
    );
  }
  if (!deadLetterQueueExists(deadLetterTargetArn)) {
    throw invalidRedrivePolicy(raw, 'Dead letter target does not exist.');
  }
  return { deadLetterTargetArn, maxReceiveCount: count };
};

/** Returns `base` with `attributes` applied; throws the SQS error for an unknown or bad attribute. */
export const applyQueueAttributes = (
  base: QueueSettings,
  attributes: Readonly<Record<string, string>>,
  deadLetterQueueExists: (arn: string) => boolean,
): QueueSettings => {
  const settings: QueueSettings = { ...base, passive: { ...base.passive } };
  for (const [name, value] of Object.entries(attributes)) {
    if (isIntegerAttribute(name)) {
      settings[INTEGER_ATTRIBUTES[name].key] = parseInteger(name, value);
    } else if (name === 'RedrivePolicy') {
      // An empty policy removes the dead-letter queue, as SetQueueAttributes allows.
      if (value === '') delete settings.redrivePolicy;
      else settings.redrivePolicy = parseRedrivePolicy(value, deadLetterQueueExists);
    } else if (PASSIVE_ATTRIBUTES.has(name)) {
      settings.passive[name] = value;
    } else if (FIFO_ATTRIBUTES.has(name)) {
      throw invalidAttributeValue(name, 'FIFO queues are not supported by the local SQS endpoint.');
    } else {
      throw invalidAttributeName(name);
    }
  }
  return settings;
};

/** The settable attributes as GetQueueAttributes renders them (numbers as strings). */
export const renderSettings = (settings: QueueSettings): Record<string, string> => ({
  VisibilityTimeout: String(settings.visibilityTimeoutSeconds),
  MessageRetentionPeriod: String(settings.retentionSeconds),
  DelaySeconds: String(settings.delaySeconds),
  ReceiveMessageWaitTimeSeconds: String(settings.receiveWaitTimeSeconds),
  MaximumMessageSize: String(settings.maximumMessageSize),
  ...(settings.redrivePolicy && { RedrivePolicy: JSON.stringify(settings.redrivePolicy) }),
  ...settings.passive,
});
