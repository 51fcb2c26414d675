import { describe, expect, it } from 'vitest';
import { ServiceUnavailableError } from '#shared/errors.ts';
import type { PackedMessage } from './packing.ts';
import { sendAll, type FailedEntry, type MeasurementQueue, type QueueEntry } from './queue.ts';

/** A queue that answers each call with the next scripted outcome (then success). */
class ScriptedQueue implements MeasurementQueue {
  readonly calls: QueueEntry[][] = [];
  constructor(
    private readonly script: ((entries: readonly QueueEntry[]) => FailedEntry[] | Error)[],
  ) {}
  async sendBatch(entries: readonly QueueEntry[]) {
    this.calls.push([...entries]);
    const outcome = this.script.shift()?.(entries) ?? [];
    if (outcome instanceof Error) throw outcome;
    return { failed: outcome };
  }
}

const messages = (count: number): PackedMessage[] =>
  Array.from({ length: count }, (_, i) => ({
    batchId: `tag.${i}`,
    body: `body-${i}`,
    bytes: 6,
    count: 1,
    distinct: 1,
  }));

const policy = { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 40 };

const tools = () => {
  const sleeps: number[] = [];
  return { sleeps, sleep: async (ms: number) => void sleeps.push(ms), random: () => 1 };
};

const failed = (...ids: string[]): FailedEntry[] =>
  ids.map((id) => ({ id, code: 'InternalError', senderFault: false }));

describe('sendAll', () => {
  it('sends each group once when SQS takes everything', async () => {
    const queue = new ScriptedQueue([]);
    const report = await sendAll(queue, [messages(10), messages(2)], policy, tools());
    expect(report).toEqual({ calls: 2, retriedEntries: 0 });
    expect(queue.calls.map((c) => c.length)).toEqual([10, 2]);
  });

  it('retries only the failed entries, with growing backoff', async () => {
    const queue = new ScriptedQueue([() => failed('m1', 'm3'), () => failed('m3')]);
    const t = tools();
    const report = await sendAll(queue, [messages(4)], policy, t);
    expect(queue.calls.map((c) => c.map((e) => e.body))).toEqual([
      ['body-0', 'body-1', 'body-2', 'body-3'],
      ['body-1', 'body-3'],
      ['body-3'],
    ]);
    expect(report).toEqual({ calls: 3, retriedEntries: 3 });
    expect(t.sleeps).toEqual([10, 20]);
  });

  it('answers 503 when entries still fail after the last attempt', async () => {
    const queue = new ScriptedQueue([() => failed('m0'), () => failed('m0'), () => failed('m0')]);
    const gaveUp: FailedEntry[][] = [];
    const unsent: PackedMessage[][] = [];
    const sent = messages(2);
    await expect(
      sendAll(queue, [sent], policy, {
        ...tools(),
        onGiveUp: (f, u) => {
          gaveUp.push(f);
          unsent.push(u);
        },
      }),
    ).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(queue.calls).toHaveLength(3);
    expect(gaveUp).toEqual([failed('m0')]);
    // The messages never enqueued: the run's accepted tally takes their readings back.
    expect(unsent).toEqual([[sent[0]]]);
  });

  it('treats a call that throws as all its entries failed and retries them', async () => {
    const queue = new ScriptedQueue([() => new Error('socket hang up')]);
    const report = await sendAll(queue, [messages(3)], policy, tools());
    expect(queue.calls.map((c) => c.length)).toEqual([3, 3]);
    expect(report.calls).toBe(2);
  });

  it('does not retry sender faults', async () => {
    const queue = new ScriptedQueue([
      () => [{ id: 'm0', code: 'InvalidMessageContents', senderFault: true }],
    ]);
    await expect(sendAll(queue, [messages(2)], policy, tools())).rejects.toBeInstanceOf(
      ServiceUnavailableError,
    );
    expect(queue.calls).toHaveLength(1);
  });
});
