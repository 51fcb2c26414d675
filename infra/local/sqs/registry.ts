/**
 * The queues of one local SQS endpoint, addressable by name, URL and ARN. This is also the
 * in-process API the local stack uses to create queues and read their counts without HTTP.
 */
import {
  invalidAddress,
  invalidParameterValue,
  queueDoesNotExist,
  queueNameExists,
} from './errors.ts';
import {
  applyQueueAttributes,
  DEFAULT_QUEUE_SETTINGS,
  renderSettings,
} from './queue-attributes.ts';
import {
  inMemoryOnly,
  type JournalState,
  type MessageState,
  type QueueJournal,
} from './journal.ts';
import { Queue, type Clock } from './queue.ts';

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;

export interface QueueRegistryOptions {
  /** Origin that queue URLs start with, e.g. `http://127.0.0.1:9324`. */
  baseUrl: string;
  accountId: string;
  region: string;
  clock: Clock;
  /** Where queues record their messages' changes (in memory only when absent). */
  journal?: QueueJournal;
  /** Messages a journal kept across a restart; each queue takes its own when created. */
  restored?: JournalState;
}

export class QueueRegistry {
  private readonly queues = new Map<string, Queue>();
  private readonly unclaimed: JournalState;

  constructor(private readonly options: QueueRegistryOptions) {
    this.unclaimed = options.restored ?? new Map();
  }

  urlOf(name: string): string {
    return `${this.options.baseUrl}/${this.options.accountId}/${name}`;
  }

  arnOf(name: string): string {
    return `arn:aws:sqs:${this.options.region}:${this.options.accountId}:${name}`;
  }

  /**
   * Creates a queue, or returns the existing one when every given attribute matches it
   * (attributes not given are not compared); a mismatch is QueueNameExists, as in SQS.
   */
  create(name: string, attributes: Readonly<Record<string, string>> = {}): Queue {
    if (name.endsWith('.fifo')) {
      throw invalidParameterValue('FIFO queues are not supported by the local SQS endpoint.');
    }
    if (!QUEUE_NAME.test(name)) {
      throw invalidParameterValue(
        'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length',
      );
    }
    const existing = this.queues.get(name);
    const base = existing?.settings ?? DEFAULT_QUEUE_SETTINGS;
    const settings = applyQueueAttributes(
      base,
      attributes,
      (arn) => this.findByArn(arn) !== undefined,
    );
    if (existing !== undefined) {
      if (JSON.stringify(renderSettings(settings)) !== JSON.stringify(renderSettings(base))) {
        throw queueNameExists(name);
      }
      return existing;
    }
    const queue = new Queue(
      name,
      this.urlOf(name),
      this.arnOf(name),
      settings,
      this.options.clock,
      (arn) => this.findByArn(arn),
      this.options.journal ?? inMemoryOnly,
    );
    this.queues.set(name, queue);
    const restored = this.unclaimed.get(name);
    if (restored !== undefined) {
      queue.restore(restored.values());
      this.unclaimed.delete(name);
    }
    return queue;
  }

  setAttributes(queue: Queue, attributes: Readonly<Record<string, string>>): void {
    queue.settings = applyQueueAttributes(
      queue.settings,
      attributes,
      (arn) => this.findByArn(arn) !== undefined,
    );
  }

  find(name: string): Queue | undefined {
    return this.queues.get(name);
  }

  /** The queue with this name; throws QueueDoesNotExist. */
  get(name: string): Queue {
    const queue = this.queues.get(name);
    if (queue === undefined) throw queueDoesNotExist();
    return queue;
  }

  findByArn(arn: string): Queue | undefined {
    const name = arn.split(':')[5];
    const queue = name === undefined ? undefined : this.queues.get(name);
    return queue?.arn === arn ? queue : undefined;
  }

  /**
   * Resolves a QueueUrl by its path (`/<account>/<name>`), whatever host the client used
   * (localhost, 127.0.0.1 or the URL of an SDK-configured endpoint).
   */
  getByUrl(url: string): Queue {
    let path: string;
    try {
      path = new URL(url).pathname;
    } catch {
      throw invalidAddress(url);
    }
    const [, accountId, name, ...rest] = path.split('/');
    if (
      accountId !== this.options.accountId ||
      name === undefined ||
      rest.some((part) => part !== '')
    ) {
      throw queueDoesNotExist();
    }
    return this.get(name);
  }

  list(prefix = ''): Queue[] {
    return [...this.queues.values()]
      .filter((queue) => queue.name.startsWith(prefix))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  delete(name: string): void {
    const queue = this.get(name);
    this.queues.delete(name);
    for (const message of queue.held()) this.options.journal?.remove(name, message.messageId);
    queue.wake();
  }

  /**
   * Every message held, by queue name: the queues' and those restored for a queue not
   * created (yet) since the restart, which are kept rather than dropped.
   */
  *heldMessages(): Generator<[string, MessageState]> {
    for (const queue of this.queues.values()) {
      for (const message of queue.held()) yield [queue.name, message];
    }
    for (const [name, messages] of this.unclaimed) {
      for (const message of messages.values()) yield [name, message];
    }
  }

  heldCount(): number {
    let count = 0;
    for (const queue of this.queues.values()) count += queue.size;
    for (const messages of this.unclaimed.values()) count += messages.size;
    return count;
  }

  /** Wakes every long poll so it re-reads the clock (call after moving an injected clock). */
  wakeAll(): void {
    for (const queue of this.queues.values()) queue.wake();
  }
}
