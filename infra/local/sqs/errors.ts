/**
 * SQS errors as the JSON protocol reports them. The SDK (awsQueryCompatible) resolves the
 * exception class from the `x-amzn-query-error` header first (`<code>;Sender`), then from
 * `__type`, so both carry what the real service sends and `instanceof QueueDoesNotExist`
 * etc. hold for clients of this endpoint.
 */

export class SqsError extends Error {
  constructor(
    /** Smithy shape name, e.g. `QueueDoesNotExist`; the `__type` is `com.amazonaws.sqs#<name>`. */
    readonly type: string,
    message: string,
    /** The AWS Query error code, e.g. `AWS.SimpleQueueService.NonExistentQueue`. */
    readonly queryCode: string = type,
    readonly statusCode: number = 400,
  ) {
    super(message);
    this.name = 'SqsError';
  }

  /** Whether the caller is at fault (`Sender`) or the service (`Receiver`). */
  get senderFault(): boolean {
    return this.statusCode < 500;
  }
}

export const invalidParameterValue = (message: string): SqsError =>
  new SqsError('InvalidParameterValue', message);

export const missingParameter = (name: string): SqsError =>
  new SqsError('MissingParameter', `The request must contain the parameter ${name}.`);

export const queueDoesNotExist = (): SqsError =>
  new SqsError(
    'QueueDoesNotExist',
    'The specified queue does not exist.',
    'AWS.SimpleQueueService.NonExistentQueue',
  );

export const invalidAddress = (url: string): SqsError =>
  new SqsError(
    'InvalidAddress',
    `The address ${url} is not valid for this endpoint.`,
    'InvalidAddress',
    404,
  );

export const queueNameExists = (name: string): SqsError =>
  new SqsError(
    'QueueNameExists',
    `A queue already exists with the same name (${name}) and a different value for an attribute.`,
    'QueueAlreadyExists',
  );

export const invalidAttributeName = (name: string): SqsError =>
  new SqsError('InvalidAttributeName', `Unknown Attribute ${name}.`);

export const invalidAttributeValue = (name: string, reason: string): SqsError =>
  new SqsError(
    'InvalidAttributeValue',
    `Invalid value for the parameter ${name}. Reason: ${reason}`,
  );

export const invalidMessageContents = (): SqsError =>
  new SqsError(
    'InvalidMessageContents',
    'Invalid characters found. Valid values: #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF',
  );

export const receiptHandleIsInvalid = (handle: string): SqsError =>
  new SqsError(
    'ReceiptHandleIsInvalid',
    `The input receipt handle "${handle}" is not a valid receipt handle.`,
    'ReceiptHandleIsInvalid',
    404,
  );

export const messageNotInflight = (): SqsError =>
  new SqsError(
    'MessageNotInflight',
    'The message referred to is not in flight.',
    'AWS.SimpleQueueService.MessageNotInflight',
  );

export const emptyBatchRequest = (): SqsError =>
  new SqsError(
    'EmptyBatchRequest',
    'There should be at least one entry in the request.',
    'AWS.SimpleQueueService.EmptyBatchRequest',
  );

export const tooManyEntriesInBatchRequest = (count: number): SqsError =>
  new SqsError(
    'TooManyEntriesInBatchRequest',
    `Maximum number of entries per request are 10. You have sent ${count}.`,
    'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
  );

export const batchEntryIdsNotDistinct = (id: string): SqsError =>
  new SqsError(
    'BatchEntryIdsNotDistinct',
    `Id ${id} repeated.`,
    'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
  );

export const invalidBatchEntryId = (): SqsError =>
  new SqsError(
    'InvalidBatchEntryId',
    'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
    'AWS.SimpleQueueService.InvalidBatchEntryId',
  );

export const batchRequestTooLong = (bytes: number, limit: number): SqsError =>
  new SqsError(
    'BatchRequestTooLong',
    `Batch requests cannot be longer than ${limit} bytes. You have sent ${bytes} bytes.`,
    'AWS.SimpleQueueService.BatchRequestTooLong',
  );

export const purgeQueueInProgress = (name: string): SqsError =>
  new SqsError(
    'PurgeQueueInProgress',
    `Only one PurgeQueue operation on ${name} is allowed every 60 seconds.`,
    'AWS.SimpleQueueService.PurgeQueueInProgress',
    403,
  );

export const unsupportedOperation = (action: string): SqsError =>
  new SqsError(
    'UnsupportedOperation',
    `${action} is not supported by the local SQS endpoint.`,
    'AWS.SimpleQueueService.UnsupportedOperation',
  );

export const internalError = (
  message = 'We encountered an internal error. Please try again.',
): SqsError => new SqsError('InternalError', message, 'InternalError', 500);
