/**
 * The SQS actions of the JSON protocol (`X-Amz-Target: AmazonSQS.<Action>`): request members
 * in, response members out, as the installed @aws-sdk/client-sqs (de)serializes them.
 */
import {
  batchEntryIdsNotDistinct,
  batchRequestTooLong,
  emptyBatchRequest,
  invalidAttributeName,
  invalidBatchEntryId,
  internalError,
  queueDoesNotExist,
  SqsError,
  tooManyEntriesInBatchRequest,
} from './errors.ts';
import type { SqsFaults } from './faults.ts';
import {
  entryList,
  optionalInteger,
  optionalObjectMap,
  optionalString,
  optionalStringList,
  optionalStringMap,
  requiredInteger,
  requiredString,
  type JsonObject,
} from './input.ts';
import { md5OfAttributes, type StoredAttribute } from './md5.ts';
import {
  MAX_MESSAGE_BYTES,
  messageSize,
  parseAttributeValues,
  toWireAttributes,
} from './message.ts';
import { isKnownAttributeName, renderSettings } from './queue-attributes.ts';
import { MAX_MOVE_RATE, type MessageMoveTasks, type MoveTask } from './move-tasks.ts';
import type { Clock, NewMessage, Queue, ReceivedMessage } from './queue.ts';
import type { QueueRegistry } from './registry.ts';

export interface ActionContext {
  queues: QueueRegistry;
  faults: SqsFaults;
  clock: Clock;
  /** Aborted when the client disconnects or the server closes; ends a long poll early. */
  signal: AbortSignal;
  /** The SenderId of messages sent by this request (the caller's access key id). */
  senderId: string;
  moveTasks: MessageMoveTasks;
}

export type Action = (
  input: JsonObject,
  context: ActionContext,
) => JsonObject | Promise<JsonObject>;

const MAX_BATCH_ENTRIES = 10;
const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;
const VISIBILITY_TIMEOUT = { min: 0, max: 43_200 };

const queueOf = (input: JsonObject, context: ActionContext): Queue =>
  context.queues.getByUrl(requiredString(input, 'QueueUrl'));

// --- Batches ---------------------------------------------------------------------------

interface BatchEntry {
  id: string;
  entry: JsonObject;
}

/** The request-level batch rules SQS checks before looking at any entry. */
const batchEntries = (input: JsonObject): BatchEntry[] => {
  const entries = entryList(input);
  if (entries.length === 0) throw emptyBatchRequest();
  if (entries.length > MAX_BATCH_ENTRIES) throw tooManyEntriesInBatchRequest(entries.length);
  const seen = new Set<string>();
  return entries.map((entry) => {
    const id = entry['Id'];
    if (typeof id !== 'string' || !BATCH_ENTRY_ID.test(id)) throw invalidBatchEntryId();
    if (seen.has(id)) throw batchEntryIdsNotDistinct(id);
    seen.add(id);
    return { id, entry };
  });
};

interface BatchResult {
  Successful: JsonObject[];
  Failed: JsonObject[];
}

const failedEntry = (id: string, error: SqsError): JsonObject => ({
  Id: id,
  SenderFault: error.senderFault,
  Code: error.type,
  Message: error.message,
});

/** Runs each entry on its own: an SqsError fails that entry only, anything else the request. */
const eachEntry = <T extends { id: string }>(
  entries: readonly T[],
  run: (entry: T) => JsonObject,
): BatchResult => {
  const result: BatchResult = { Successful: [], Failed: [] };
  for (const entry of entries) {
    try {
      result.Successful.push({ Id: entry.id, ...run(entry) });
    } catch (error) {
      if (!(error instanceof SqsError)) throw error;
      result.Failed.push(failedEntry(entry.id, error));
    }
  }
  return result;
};

// --- Messages ----------------------------------------------------------------------------

const newMessage = (input: JsonObject, bodyMember: string, senderId: string): NewMessage => {
  const delaySeconds = optionalInteger(input, 'DelaySeconds', { min: 0, max: 900 });
  return {
    body: requiredString(input, bodyMember),
    messageAttributes: parseAttributeValues(optionalObjectMap(input, 'MessageAttributes'), 'user'),
    systemAttributes: parseAttributeValues(
      optionalObjectMap(input, 'MessageSystemAttributes'),
      'system',
    ),
    ...(delaySeconds !== undefined && { delaySeconds }),
    senderId,
  };
};

const sendResult = (queue: Queue, message: NewMessage): JsonObject => {
  const sent = queue.send(message);
  return {
    MessageId: sent.messageId,
    MD5OfMessageBody: sent.md5OfMessageBody,
    ...(sent.md5OfMessageAttributes !== undefined && {
      MD5OfMessageAttributes: sent.md5OfMessageAttributes,
    }),
    ...(sent.md5OfMessageSystemAttributes !== undefined && {
      MD5OfMessageSystemAttributes: sent.md5OfMessageSystemAttributes,
    }),
  };
};

const sendMessageBatch: Action = (input, context) => {
  const queue = queueOf(input, context);
  // Entries are parsed first: the size limit applies to the batch as a whole, so one
  // oversized entry fails the request before anything is enqueued.
  const entries = batchEntries(input).map(({ id, entry }) => {
    try {
      return { id, message: newMessage(entry, 'MessageBody', context.senderId) };
    } catch (error) {
      if (!(error instanceof SqsError)) throw error;
      return { id, message: error };
    }
  });
  const totalBytes = entries.reduce(
    (sum, { message }) =>
      message instanceof SqsError
        ? sum
        : sum + messageSize(message.body, message.messageAttributes ?? {}),
    0,
  );
  if (totalBytes > MAX_MESSAGE_BYTES) throw batchRequestTooLong(totalBytes, MAX_MESSAGE_BYTES);
  return {
    ...eachEntry(entries, ({ message }) => {
      if (message instanceof SqsError) throw message;
      if (context.faults.takeSendBatchEntryFailure()) {
        throw internalError('Injected failure: the entry was not enqueued.');
      }
      return sendResult(queue, message);
    }),
  };
};

/** Names of system attributes a receive can ask for; `All` selects every one present. */
const selectSystemAttributes = (
  attributes: Readonly<Record<string, string>>,
  requested: ReadonlySet<string>,
): Record<string, string> =>
  requested.has('All')
    ? { ...attributes }
    : Object.fromEntries(Object.entries(attributes).filter(([name]) => requested.has(name)));

/** `All` or `.*` selects every attribute, `prefix.*` those starting with prefix. */
const selectMessageAttributes = (
  attributes: Readonly<Record<string, StoredAttribute>>,
  requested: readonly string[],
): Record<string, StoredAttribute> => {
  const wanted = (name: string) =>
    requested.some((pattern) => {
      if (pattern === 'All' || pattern === '.*') return true;
      if (pattern.endsWith('.*')) return name.startsWith(pattern.slice(0, -1));
      return pattern === name;
    });
  return Object.fromEntries(Object.entries(attributes).filter(([name]) => wanted(name)));
};

const renderReceived = (
  message: ReceivedMessage,
  systemAttributeNames: ReadonlySet<string>,
  messageAttributeNames: readonly string[],
): JsonObject => {
  const attributes = selectSystemAttributes(message.attributes, systemAttributeNames);
  const messageAttributes = selectMessageAttributes(
    message.messageAttributes,
    messageAttributeNames,
  );
  // The digest covers the attributes returned, which is what SDKs that check it recompute.
  const md5OfMessageAttributes = md5OfAttributes(messageAttributes);
  return {
    MessageId: message.messageId,
    ReceiptHandle: message.receiptHandle,
    MD5OfBody: message.md5OfBody,
    Body: message.body,
    ...(Object.keys(attributes).length > 0 && { Attributes: attributes }),
    ...(md5OfMessageAttributes !== undefined && {
      MD5OfMessageAttributes: md5OfMessageAttributes,
      MessageAttributes: toWireAttributes(messageAttributes),
    }),
  };
};

/**
 * Long polling: answers as soon as at least one message can be received, or when the wait
 * ends. The wait is bounded by both the injected clock and real time, so a frozen test clock
 * cannot hold a request forever.
 */
const receiveMessage: Action = async (input, context) => {
  const queue = queueOf(input, context);
  const maxMessages = optionalInteger(input, 'MaxNumberOfMessages', { min: 1, max: 10 }) ?? 1;
  const visibilityTimeoutSeconds = optionalInteger(input, 'VisibilityTimeout', VISIBILITY_TIMEOUT);
  const waitSeconds =
    optionalInteger(input, 'WaitTimeSeconds', { min: 0, max: 20 }) ??
    queue.settings.receiveWaitTimeSeconds;
  const systemAttributeNames = new Set([
    ...optionalStringList(input, 'AttributeNames'),
    ...optionalStringList(input, 'MessageSystemAttributeNames'),
  ]);
  const messageAttributeNames = optionalStringList(input, 'MessageAttributeNames');

  const deadline = context.clock() + waitSeconds * 1000;
  const realDeadline = performance.now() + waitSeconds * 1000;
  // A caller that hung up (or a server shutting down) is handed nothing: what it would be
  // handed could not reach it and would stay invisible for the whole visibility timeout.
  const take = () =>
    context.signal.aborted ? [] : queue.receive({ maxMessages, visibilityTimeoutSeconds });
  let messages = take();
  while (
    messages.length === 0 &&
    !context.signal.aborted &&
    context.clock() < deadline &&
    performance.now() < realDeadline
  ) {
    await queue.waitForMessages(deadline, context.signal);
    messages = take();
  }
  if (messages.length === 0) return {};
  return {
    Messages: messages.map((message) =>
      renderReceived(message, systemAttributeNames, messageAttributeNames),
    ),
  };
};

// --- Queues ------------------------------------------------------------------------------

const queueAttributes = (queue: Queue): Record<string, string> => {
  const counts = queue.counts();
  return {
    QueueArn: queue.arn,
    ApproximateNumberOfMessages: String(counts.visible),
    ApproximateNumberOfMessagesNotVisible: String(counts.inFlight),
    ApproximateNumberOfMessagesDelayed: String(counts.delayed),
    CreatedTimestamp: String(Math.floor(queue.createdTimestamp / 1000)),
    LastModifiedTimestamp: String(Math.floor(queue.lastModifiedTimestamp / 1000)),
    ...renderSettings(queue.settings),
  };
};

const getQueueAttributes: Action = (input, context) => {
  const queue = queueOf(input, context);
  const names = optionalStringList(input, 'AttributeNames');
  for (const name of names) if (!isKnownAttributeName(name)) throw invalidAttributeName(name);
  if (names.length === 0) return {};
  const all = queueAttributes(queue);
  const selected = names.includes('All')
    ? all
    : Object.fromEntries(Object.entries(all).filter(([name]) => names.includes(name)));
  return { Attributes: selected };
};

const listQueues: Action = (input, context) => {
  const prefix = optionalString(input, 'QueueNamePrefix') ?? '';
  const maxResults = optionalInteger(input, 'MaxResults', { min: 1, max: 1000 });
  const after = optionalString(input, 'NextToken');
  const afterName = after === undefined ? undefined : Buffer.from(after, 'base64').toString('utf8');
  const queues = context.queues
    .list(prefix)
    .filter((queue) => afterName === undefined || queue.name > afterName);
  const page = queues.slice(0, maxResults ?? 1000);
  const last = page.at(-1);
  return {
    ...(page.length > 0 && { QueueUrls: page.map((queue) => queue.url) }),
    // SQS pages only when MaxResults is given.
    ...(maxResults !== undefined &&
      queues.length > page.length &&
      last !== undefined && { NextToken: Buffer.from(last.name).toString('base64') }),
  };
};

// --- Message move tasks (dead-letter queue redrive) ---------------------------------------

const renderTask = (task: MoveTask): JsonObject => ({
  TaskHandle: task.taskHandle,
  Status: task.status,
  SourceArn: task.sourceArn,
  ...(task.destinationArn !== undefined && { DestinationArn: task.destinationArn }),
  ...(task.maxNumberOfMessagesPerSecond !== undefined && {
    MaxNumberOfMessagesPerSecond: task.maxNumberOfMessagesPerSecond,
  }),
  ApproximateNumberOfMessagesMoved: task.approximateNumberOfMessagesMoved,
  ApproximateNumberOfMessagesToMove: task.approximateNumberOfMessagesToMove,
  ...(task.failureReason !== undefined && { FailureReason: task.failureReason }),
  StartedTimestamp: task.startedTimestamp,
});

const moveTaskActions: Readonly<Record<string, Action>> = {
  StartMessageMoveTask: (input, context) => {
    const destinationArn = optionalString(input, 'DestinationArn');
    const rate = optionalInteger(input, 'MaxNumberOfMessagesPerSecond', {
      min: 1,
      max: MAX_MOVE_RATE,
    });
    const task = context.moveTasks.start({
      sourceArn: requiredString(input, 'SourceArn'),
      ...(destinationArn !== undefined && { destinationArn }),
      ...(rate !== undefined && { maxNumberOfMessagesPerSecond: rate }),
    });
    return { TaskHandle: task.taskHandle };
  },
  ListMessageMoveTasks: (input, context) => ({
    Results: context.moveTasks
      .list(
        requiredString(input, 'SourceArn'),
        optionalInteger(input, 'MaxResults', { min: 1, max: 10 }) ?? 1,
      )
      .map(renderTask),
  }),
  CancelMessageMoveTask: (input, context) => ({
    ApproximateNumberOfMessagesMoved: context.moveTasks.cancel(requiredString(input, 'TaskHandle'))
      .approximateNumberOfMessagesMoved,
  }),
};

export const actions: Readonly<Record<string, Action>> = {
  ...moveTaskActions,
  CreateQueue: (input, context) => {
    const queue = context.queues.create(
      requiredString(input, 'QueueName'),
      optionalStringMap(input, 'Attributes'),
    );
    return { QueueUrl: queue.url };
  },
  GetQueueUrl: (input, context) => {
    const owner = optionalString(input, 'QueueOwnerAWSAccountId');
    const queue = context.queues.get(requiredString(input, 'QueueName'));
    if (owner !== undefined && !queue.arn.endsWith(`:${owner}:${queue.name}`))
      throw queueDoesNotExist();
    return { QueueUrl: queue.url };
  },
  DeleteQueue: (input, context) => {
    context.queues.delete(queueOf(input, context).name);
    return {};
  },
  ListQueues: listQueues,
  GetQueueAttributes: getQueueAttributes,
  SetQueueAttributes: (input, context) => {
    context.queues.setAttributes(queueOf(input, context), optionalStringMap(input, 'Attributes'));
    return {};
  },
  PurgeQueue: (input, context) => {
    queueOf(input, context).purge();
    return {};
  },
  SendMessage: (input, context) =>
    sendResult(queueOf(input, context), newMessage(input, 'MessageBody', context.senderId)),
  SendMessageBatch: sendMessageBatch,
  ReceiveMessage: receiveMessage,
  DeleteMessage: (input, context) => {
    queueOf(input, context).delete(requiredString(input, 'ReceiptHandle'));
    return {};
  },
  DeleteMessageBatch: (input, context) => {
    const queue = queueOf(input, context);
    return {
      ...eachEntry(batchEntries(input), ({ entry }) => {
        queue.delete(requiredString(entry, 'ReceiptHandle'));
        return {};
      }),
    };
  },
  ChangeMessageVisibility: (input, context) => {
    const queue = queueOf(input, context);
    queue.changeVisibility(
      requiredString(input, 'ReceiptHandle'),
      requiredInteger(input, 'VisibilityTimeout', VISIBILITY_TIMEOUT),
    );
    return {};
  },
  ChangeMessageVisibilityBatch: (input, context) => {
    const queue = queueOf(input, context);
    return {
      ...eachEntry(batchEntries(input), ({ entry }) => {
        queue.changeVisibility(
          requiredString(entry, 'ReceiptHandle'),
          requiredInteger(entry, 'VisibilityTimeout', VISIBILITY_TIMEOUT),
        );
        return {};
      }),
    };
  },
};
