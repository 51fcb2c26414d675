/**
 * Keeps the local SQS endpoint's messages on disk, so a restart loses nothing SQS accepted:
 * an append-only journal of message states (one JSON line each), replayed on open.
 *
 * - `put` (a message sent, redriven or moved into a queue) is durable once `commit` returns:
 *   the endpoint commits before answering, so a SendMessageBatch answer means "on disk".
 * - `update` (a receive, a visibility change) and `remove` are written with the next commit
 *   but not synced on their own: losing one in a power cut only delivers a message again
 *   or sooner, never loses one.
 * - On open the journal is rewritten as a snapshot of the live messages (this also drops a
 *   torn last line), and again whenever it has grown well past the live state.
 */
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { JsonObject } from './input.ts';
import type { StoredAttribute } from './md5.ts';
import { parseAttributeValues, toWireAttributes } from './message.ts';

/** A message's whole state, as the queue keeps it. */
export interface MessageState {
  readonly messageId: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly messageAttributes: Record<string, StoredAttribute>;
  readonly systemAttributes: Record<string, StoredAttribute>;
  readonly sentTimestamp: number;
  readonly senderId: string;
  readonly deadLetterQueueSourceArn?: string;
  visibleAt: number;
  receiveCount: number;
  firstReceiveTimestamp?: number;
}

/** What a queue tells the journal; the no-op one keeps a queue in memory only. */
export interface QueueJournal {
  put(queueName: string, message: MessageState): void;
  update(queueName: string, message: MessageState): void;
  remove(queueName: string, messageId: string): void;
}

export const inMemoryOnly: QueueJournal = {
  put: () => undefined,
  update: () => undefined,
  remove: () => undefined,
};

type Entry =
  | { op: 'put'; q: string; m: Record<string, unknown> }
  | {
      op: 'update';
      q: string;
      id: string;
      visibleAt: number;
      receiveCount: number;
      first?: number;
    }
  | { op: 'remove'; q: string; id: string };

// Attributes are kept in their wire shape (binary values in base64), as SQS receives them.
const serialize = (message: MessageState): Record<string, unknown> => ({
  ...message,
  messageAttributes: toWireAttributes(message.messageAttributes),
  systemAttributes: toWireAttributes(message.systemAttributes),
});

const deserialize = (raw: Record<string, unknown>): MessageState =>
  ({
    ...raw,
    messageAttributes: parseAttributeValues(
      raw['messageAttributes'] as Record<string, JsonObject>,
      'user',
    ),
    systemAttributes: parseAttributeValues(
      raw['systemAttributes'] as Record<string, JsonObject>,
      'system',
    ),
  }) as MessageState;

/** Messages by queue name, each queue's in the order they were first put (oldest first). */
export type JournalState = Map<string, Map<string, MessageState>>;

const replay = (text: string): JournalState => {
  const state: JournalState = new Map();
  const queue = (name: string) => {
    let messages = state.get(name);
    if (messages === undefined) state.set(name, (messages = new Map()));
    return messages;
  };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let entry: Entry;
    try {
      entry = JSON.parse(line) as Entry;
    } catch {
      // Only the last line can be torn (a write cut short); everything before it is whole.
      continue;
    }
    if (entry.op === 'put') {
      const message = deserialize(entry.m);
      queue(entry.q).set(message.messageId, message);
    } else if (entry.op === 'update') {
      const message = state.get(entry.q)?.get(entry.id);
      if (message === undefined) continue;
      message.visibleAt = entry.visibleAt;
      message.receiveCount = entry.receiveCount;
      if (entry.first !== undefined) message.firstReceiveTimestamp = entry.first;
    } else {
      state.get(entry.q)?.delete(entry.id);
    }
  }
  return state;
};

/** Rewrite once the journal holds this many entries more than there are live messages… */
const COMPACT_AFTER_ENTRIES = 20_000;
/** …and at least this many entries per live message. */
const COMPACT_RATIO = 4;

export class MessageJournal implements QueueJournal {
  private fd: number;
  private pending: string[] = [];
  private mustSync = false;
  private entries = 0;
  private commitScheduled = false;
  private closed = false;

  private constructor(
    private readonly path: string,
    /** Every live message, for compaction: the registry's queues and not yet claimed ones. */
    private readonly live: () => Iterable<[string, MessageState]>,
    private readonly liveCount: () => number,
  ) {
    this.fd = openSync(path, 'a');
  }

  /**
   * Opens (or creates) the journal in `dir` and returns what it held. `live` must list every
   * message the endpoint holds from then on, including the restored ones not yet claimed.
   */
  static open(
    dir: string,
    live: () => Iterable<[string, MessageState]>,
    liveCount: () => number,
  ): { journal: MessageJournal; restored: JournalState } {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'messages.journal');
    const restored = replay(existsSync(path) ? readFileSync(path, 'utf8') : '');
    const journal = new MessageJournal(path, live, liveCount);
    return { journal, restored };
  }

  put(queueName: string, message: MessageState): void {
    this.append({ op: 'put', q: queueName, m: serialize(message) });
    this.mustSync = true;
  }

  update(queueName: string, message: MessageState): void {
    this.append({
      op: 'update',
      q: queueName,
      id: message.messageId,
      visibleAt: message.visibleAt,
      receiveCount: message.receiveCount,
      ...(message.firstReceiveTimestamp !== undefined && { first: message.firstReceiveTimestamp }),
    });
  }

  remove(queueName: string, messageId: string): void {
    this.append({ op: 'remove', q: queueName, id: messageId });
  }

  /** Writes what is pending; when it holds a new message, waits until it is on disk. */
  commit(): void {
    if (this.closed || this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    writeSync(this.fd, text);
    if (this.mustSync) fdatasyncSync(this.fd);
    this.mustSync = false;
    if (this.entries > COMPACT_AFTER_ENTRIES && this.entries > COMPACT_RATIO * this.liveCount()) {
      this.compact();
    }
  }

  /** Replaces the journal by a snapshot of the live messages, atomically (write, sync, rename). */
  compact(): void {
    this.commitPendingLines();
    const temporary = `${this.path}.tmp`;
    const fd = openSync(temporary, 'w');
    let count = 0;
    let chunk: string[] = [];
    for (const [queueName, message] of this.live()) {
      chunk.push(`${JSON.stringify({ op: 'put', q: queueName, m: serialize(message) })}\n`);
      count += 1;
      if (chunk.length >= 1_000) {
        writeSync(fd, chunk.join(''));
        chunk = [];
      }
    }
    if (chunk.length > 0) writeSync(fd, chunk.join(''));
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temporary, this.path);
    this.syncDirectory();
    closeSync(this.fd);
    this.fd = openSync(this.path, 'a');
    this.entries = count;
  }

  close(): void {
    this.commit();
    this.closed = true;
    closeSync(this.fd);
  }

  private append(entry: Entry): void {
    if (this.closed) throw new Error('The message journal is closed');
    this.pending.push(`${JSON.stringify(entry)}\n`);
    this.entries += 1;
    // Changes made outside a request (timers, the in-process API) are written soon after.
    if (!this.commitScheduled) {
      this.commitScheduled = true;
      setImmediate(() => {
        this.commitScheduled = false;
        this.commit();
      });
    }
  }

  private commitPendingLines(): void {
    if (this.pending.length === 0) return;
    writeSync(this.fd, this.pending.join(''));
    this.pending = [];
  }

  /** The rename is durable only once the folder's entry is on disk too. */
  private syncDirectory(): void {
    const fd = openSync(join(this.path, '..'), 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}
