/**
 * How Lambda reads a function's answer to an SQS batch when ReportBatchItemFailures is on
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html):
 * success for an absent/null response, an object without `batchItemFailures`, or a null or
 * empty list; the listed records fail; anything it cannot make sense of fails the whole batch.
 */

export type BatchOutcome =
  | { kind: 'processed'; failedMessageIds: ReadonlySet<string> }
  | { kind: 'invalid'; reason: string };

const invalid = (reason: string): BatchOutcome => ({ kind: 'invalid', reason });

export const interpretBatchResponse = (
  response: unknown,
  messageIds: ReadonlySet<string>,
): BatchOutcome => {
  if (response === undefined || response === null) {
    return { kind: 'processed', failedMessageIds: new Set() };
  }
  if (typeof response !== 'object' || Array.isArray(response)) {
    return invalid(
      `the response is a ${Array.isArray(response) ? 'list' : typeof response}, not an object`,
    );
  }
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) {
    return { kind: 'processed', failedMessageIds: new Set() };
  }
  if (!Array.isArray(failures)) return invalid('batchItemFailures is not a list');
  const failedMessageIds = new Set<string>();
  for (const failure of failures as unknown[]) {
    const itemIdentifier =
      typeof failure === 'object' && failure !== null
        ? (failure as { itemIdentifier?: unknown }).itemIdentifier
        : undefined;
    if (typeof itemIdentifier !== 'string' || itemIdentifier === '') {
      return invalid('a batchItemFailures entry has no itemIdentifier');
    }
    if (!messageIds.has(itemIdentifier)) {
      return invalid(`itemIdentifier ${itemIdentifier} is not a messageId of the batch`);
    }
    failedMessageIds.add(itemIdentifier);
  }
  return { kind: 'processed', failedMessageIds };
};
