/**
 * One standard queue's state: messages, visibility timeouts, receive counts, redrive to the
 * dead-letter queue and retention. Time comes from an injected clock, so tests can move it
 * instead of sleeping; long polls wait on `waitForMessages`, woken by sends and visibility
 * changes rather than by polling.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  invalidParameterValue,
  messageNotInflight,
  purgeQueueInProgress,
  receiptHandleIsInvalid,
} from './errors.ts';
import { md5Hex, md5OfAttributes, type StoredAttribute } from './md5.ts';
import {
  validateBody,
  validateMessageAttributes,
  validateSize,
  validateSystemAttributes,
} from './message.ts';
import { inMemoryOnly, type MessageState, type QueueJournal } from './journal.ts';
import type { QueueSettings } from './queue-attributes.ts';

/** Milliseconds since the epoch, like `Date.now`. */
export type Clock = () => number;

const PURGE_INTERVAL_MS = 60_000;
/** setTimeout's upper bound; longer delays would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface NewMessage {
  body: string;
  messageAttributes?: Record<string, StoredAttribute>;
  /** Only `AWSTraceHeader` is accepted, as in SQS. */
  systemAttributes?: Record<string, StoredAttribute>;
  /** Overrides the queue's DelaySeconds. */
  delaySeconds?: number;
  senderId?: string;
}

export interface SentMessage {
  messageId: string;
  md5OfMessageBody: string;
  md5OfMessageAttributes?: string;
  md5OfMessageSystemAttributes?: string;
}

/** A message as one receive hands it out: a snapshot with this receive's receipt handle. */
export interface ReceivedMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  md5OfBody: string;
  messageAttributes: Readonly<Record<string, StoredAttribute>>;
  /** System attributes by name (ApproximateReceiveCount, SentTimestamp, ...), all strings. */
  attributes: Readonly<Record<string, string>>;
}

export interface QueueCounts {
  /** ApproximateNumberOfMessages: ready to be received. */
  visible: number;
  /** ApproximateNumberOfMessagesNotVisible: received and within their visibility timeout. */
  inFlight: number;
  /** ApproximateNumberOfMessagesDelayed: sent with a delay that has not elapsed. */
  delayed: number;
}

type StoredMessage = MessageState;

interface ReceiptHandleParts {
  queueName: string;
  messageId: string;
}

/**
 * Receipt handles are self-describing (queue, message, a per-receive nonce), so a handle of a
 * message that is already gone is still recognised and its delete succeeds, as in SQS.
 */
const encodeReceiptHandle = (queueName: string, messageId: string, sequence: number): string =>
  Buffer.from(
    JSON.stringify([queueName, messageId, sequence, randomBytes(12).toString('hex')]),
  ).toString('base64');

const decodeReceiptHandle = (handle: string): ReceiptHandleParts | undefined => {
  try {
    const parts: unknown = JSON.parse(Buffer.from(handle, 'base64').toString('utf8'));
    if (
      Array.isArray(parts) &&
      parts.length === 4 &&
      typeof parts[0] === 'string' &&
      typeof parts[1] === 'string'
    ) {
      return { queueName: parts[0], messageId: parts[1] };
    }
  } catch {
    // Not one of ours; reported below as an invalid handle.
  }
  return undefined;
};

export class Queue {
  private readonly messages = new Map<string, StoredMessage>();
  private readonly waiters = new Set<() => void>();
  private receiveSequence = 0;
  private lastPurgeAt: number | undefined;
  readonly createdTimestamp: number;
  lastModifiedTimestamp: number;

  constructor(
    readonly name: string,
    readonly url: string,
    readonly arn: string,
    private currentSettings: QueueSettings,
    private readonly clock: Clock,
    /** Finds the dead-letter queue named by the redrive policy when a message must move. */
    private readonly queueByArn: (arn: string) => Queue | undefined,
    /** Where every change of a message goes, so a restart finds the queue as it was. */
    private readonly journal: QueueJournal = inMemoryOnly,
  ) {
    this.createdTimestamp = clock();
    this.lastModifiedTimestamp = this.createdTimestamp;
  }

  get settings(): QueueSettings {
    return this.currentSettings;
  }

  set settings(settings: QueueSettings) {
    this.currentSettings = settings;
    this.lastModifiedTimestamp = this.clock();
    this.wake();
  }

  /** Validates and enqueues a message; throws the SqsError SendMessage would return. */
  send(message: NewMessage): SentMessage {
    const messageAttributes = message.messageAttributes ?? {};
    const systemAttributes = message.systemAttributes ?? {};
    validateBody(message.body);
    validateMessageAttributes(messageAttributes);
    validateSystemAttributes(systemAttributes);
    validateSize(message.body, messageAttributes, this.settings.maximumMessageSize);
    const delaySeconds = message.delaySeconds ?? this.settings.delaySeconds;
    if (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > 900) {
      throw invalidParameterValue(
        `Value ${delaySeconds} for parameter DelaySeconds is invalid. Reason: must be between 0 and 900, if provided.`,
      );
    }
    const now = this.clock();
    const stored: StoredMessage = {
      messageId: randomUUID(),
      body: message.body,
      md5OfBody: md5Hex(message.body),
      messageAttributes,
      systemAttributes,
      sentTimestamp: now,
      senderId: message.senderId ?? 'local',
      visibleAt: now + delaySeconds * 1000,
      receiveCount: 0,
    };
    this.messages.set(stored.messageId, stored);
    this.journal.put(this.name, stored);
    this.wake();
    const md5OfMessageAttributes = md5OfAttributes(messageAttributes);
    const md5OfMessageSystemAttributes = md5OfAttributes(systemAttributes);
    return {
      messageId: stored.messageId,
      md5OfMessageBody: stored.md5OfBody,
      ...(md5OfMessageAttributes !== undefined && { md5OfMessageAttributes }),
      ...(md5OfMessageSystemAttributes !== undefined && { md5OfMessageSystemAttributes }),
    };
  }

  /**
   * Takes up to `maxMessages` visible messages, oldest first, making them invisible for the
   * visibility timeout. A message already received maxReceiveCount times moves to the
   * dead-letter queue instead of being delivered: the move happens on the receive that would
   * exceed the count, as in SQS.
   */
  receive(options: { maxMessages: number; visibilityTimeoutSeconds?: number }): ReceivedMessage[] {
    this.dropExpired();
    const now = this.clock();
    const visibilityMs =
      (options.visibilityTimeoutSeconds ?? this.settings.visibilityTimeoutSeconds) * 1000;
    const received: ReceivedMessage[] = [];
    for (const message of this.messages.values()) {
      if (received.length >= options.maxMessages) break;
      if (message.visibleAt > now) continue;
      if (this.redriveIfExhausted(message)) continue;
      message.receiveCount += 1;
      message.firstReceiveTimestamp ??= now;
      message.visibleAt = now + visibilityMs;
      this.journal.update(this.name, message);
      this.receiveSequence += 1;
      received.push(this.snapshot(message, this.receiveSequence));
    }
    return received;
  }

  /**
   * Deletes the message a receipt handle was issued for. Any handle of the message is
   * accepted, not only the latest, and deleting a message that is gone succeeds: both as
   * SQS standard queues behave.
   */
  delete(receiptHandle: string): void {
    const parts = this.decodeHandle(receiptHandle);
    this.remove(parts.messageId);
  }

  changeVisibility(receiptHandle: string, visibilityTimeoutSeconds: number): void {
    const parts = this.decodeHandle(receiptHandle);
    this.dropExpired();
    const message = this.messages.get(parts.messageId);
    if (message === undefined) {
      throw invalidParameterValue(
        `Value ${receiptHandle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.`,
      );
    }
    const now = this.clock();
    if (message.receiveCount === 0 || message.visibleAt <= now) throw messageNotInflight();
    message.visibleAt = now + visibilityTimeoutSeconds * 1000;
    this.journal.update(this.name, message);
    this.wake();
  }

  /** Deletes every message, in flight or not; SQS allows one purge per queue per minute. */
  purge(): void {
    const now = this.clock();
    if (this.lastPurgeAt !== undefined && now - this.lastPurgeAt < PURGE_INTERVAL_MS) {
      throw purgeQueueInProgress(this.name);
    }
    this.lastPurgeAt = now;
    for (const messageId of [...this.messages.keys()]) this.remove(messageId);
  }

  counts(): QueueCounts {
    this.dropExpired();
    const now = this.clock();
    const counts: QueueCounts = { visible: 0, inFlight: 0, delayed: 0 };
    for (const message of this.messages.values()) {
      if (message.visibleAt <= now) counts.visible += 1;
      else if (message.receiveCount > 0) counts.inFlight += 1;
      else counts.delayed += 1;
    }
    return counts;
  }

  /** When the oldest message still in the queue was sent (ApproximateAgeOfOldestMessage). */
  oldestSentTimestamp(): number | undefined {
    this.dropExpired();
    let oldest: number | undefined;
    for (const message of this.messages.values()) {
      if (oldest === undefined || message.sentTimestamp < oldest) oldest = message.sentTimestamp;
    }
    return oldest;
  }

  /**
   * Resolves when a message may have become receivable: on a send, a visibility change, the
   * earliest in-flight or delayed message turning visible, `deadline`, or `signal` aborting.
   * Callers loop on `receive`, so a spurious wake-up is harmless.
   */
  waitForMessages(deadline: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    const wakeAt = Math.min(deadline, this.nextVisibilityAt());
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.min(MAX_TIMER_MS, Math.max(0, wakeAt - this.clock())));
      this.waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Wakes every waiting long poll, e.g. after an injected clock moved forward. */
  wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private snapshot(message: StoredMessage, sequence: number): ReceivedMessage {
    const attributes: Record<string, string> = {
      SenderId: message.senderId,
      SentTimestamp: String(message.sentTimestamp),
      ApproximateReceiveCount: String(message.receiveCount),
      ApproximateFirstReceiveTimestamp: String(message.firstReceiveTimestamp ?? this.clock()),
    };
    const traceHeader = message.systemAttributes['AWSTraceHeader']?.stringValue;
    if (traceHeader !== undefined) attributes['AWSTraceHeader'] = traceHeader;
    if (message.deadLetterQueueSourceArn !== undefined) {
      attributes['DeadLetterQueueSourceArn'] = message.deadLetterQueueSourceArn;
    }
    return {
      messageId: message.messageId,
      receiptHandle: encodeReceiptHandle(this.name, message.messageId, sequence),
      body: message.body,
      md5OfBody: message.md5OfBody,
      messageAttributes: message.messageAttributes,
      attributes,
    };
  }

  private redriveIfExhausted(message: StoredMessage): boolean {
    const policy = this.settings.redrivePolicy;
    if (policy === undefined || message.receiveCount < policy.maxReceiveCount) return false;
    const deadLetterQueue = this.queueByArn(policy.deadLetterTargetArn);
    // SQS keeps delivering when the dead-letter queue was deleted; so do we.
    if (deadLetterQueue === undefined || deadLetterQueue === this) return false;
    // Added there before removed here: a crash in between keeps a copy, never none.
    deadLetterQueue.acceptRedriven(message, this.arn);
    this.remove(message.messageId);
    return true;
  }

  /**
   * A message moved here by redrive keeps its id, body, attributes, receive count and its
   * original SentTimestamp, which also drives retention, as in SQS.
   */
  private acceptRedriven(message: StoredMessage, sourceArn: string): void {
    const moved = { ...message, deadLetterQueueSourceArn: sourceArn, visibleAt: this.clock() };
    this.messages.set(moved.messageId, moved);
    this.journal.put(this.name, moved);
    this.wake();
  }

  /** A message held here, or undefined; for reading only. */
  peek(messageId: string): Readonly<StoredMessage> | undefined {
    return this.messages.get(messageId);
  }

  /**
   * Moves a visible message to `destination` for a message move task. It arrives there as
   * if sent anew (new SentTimestamp, never received), so the destination's retention and
   * maxReceiveCount start over; it keeps its id, body and attributes. Added there before
   * removed here, so a crash in between keeps a copy rather than none.
   */
  moveTo(messageId: string, destination: Queue): 'moved' | 'gone' | 'inFlight' {
    const message = this.messages.get(messageId);
    if (message === undefined) return 'gone';
    if (message.visibleAt > this.clock()) return 'inFlight';
    const { deadLetterQueueSourceArn: _source, firstReceiveTimestamp: _first, ...kept } = message;
    const now = destination.clock();
    const moved: StoredMessage = { ...kept, sentTimestamp: now, visibleAt: now, receiveCount: 0 };
    destination.messages.set(moved.messageId, moved);
    destination.journal.put(destination.name, moved);
    destination.wake();
    this.remove(messageId);
    return 'moved';
  }

  /** Takes back messages a journal kept across a restart, in their original order. */
  restore(messages: Iterable<StoredMessage>): void {
    for (const message of messages) this.messages.set(message.messageId, message);
    this.wake();
  }

  /** Every message held, in flight or not, oldest first: what a snapshot must keep. */
  held(): IterableIterator<StoredMessage> {
    return this.messages.values();
  }

  get size(): number {
    return this.messages.size;
  }

  private remove(messageId: string): void {
    if (this.messages.delete(messageId)) this.journal.remove(this.name, messageId);
  }

  private decodeHandle(receiptHandle: string): ReceiptHandleParts {
    const parts = decodeReceiptHandle(receiptHandle);
    if (parts === undefined || parts.queueName !== this.name) {
      throw receiptHandleIsInvalid(receiptHandle);
    }
    return parts;
  }

  private nextVisibilityAt(): number {
    const now = this.clock();
    let next = Number.POSITIVE_INFINITY;
    for (const message of this.messages.values()) {
      if (message.visibleAt > now && message.visibleAt < next) next = message.visibleAt;
    }
    return next;
  }

  private dropExpired(): void {
    const oldestKept = this.clock() - this.settings.retentionSeconds * 1000;
    for (const message of this.messages.values()) {
      if (message.sentTimestamp <= oldestKept) this.remove(message.messageId);
    }
  }
}
