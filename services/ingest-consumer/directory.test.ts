import { describe, expect, it } from 'vitest';
import { directoryEntriesOf, type DirectoryEntry } from '#shared/sensor-directory.ts';
import { DirectoryWriter } from './directory.ts';
import type { WriteContext } from './store.ts';

const RUN = '11111111-2222-4333-8444-555555555555';
const context: WriteContext = { remainingMs: () => 10_000, onRetry: () => undefined };

/** The directory entries of a pack of `sensorId` starting at `timestamp`. */
const entriesOf = (sensorId: string, timestamp = '2030-01-01T12:00:00.000Z') =>
  directoryEntriesOf([{ runId: RUN, sensorId, packKey: `${timestamp}#${sensorId}#t!b.0` }], 30);

/**
 * A store that records each putDirectory call and fails the ones holding an entry `failing`
 * names; a write ends once `gate` has.
 */
const fakeStore = (failing: (entry: DirectoryEntry) => boolean = () => false) => {
  const calls: string[][] = [];
  const store = {
    calls,
    gate: Promise.resolve(),
    putDirectory: async (entries: readonly DirectoryEntry[]) => {
      calls.push(entries.map((e) => `${e.runPartition} ${e.packKey}`));
      await store.gate;
      if (entries.some(failing)) throw new Error('throttled');
    },
  };
  return store;
};

describe('DirectoryWriter', () => {
  it('writes both entries of a run, sensor and period once, however many records need them', async () => {
    const store = fakeStore();
    const writer = new DirectoryWriter(store);
    await writer.record(entriesOf('s-1'), context);
    await writer.record(entriesOf('s-1', '2030-01-01T12:09:59.999Z'), context);
    expect(store.calls).toEqual([
      [`runs#s-1 2030-01-01T12:00:00.000Z#${RUN}`, `sensors#${RUN} 2030-01-01T12:00:00.000Z#s-1`],
    ]);
    // The next period is another entry.
    await writer.record(entriesOf('s-1', '2030-01-01T12:10:00.000Z'), context);
    expect(store.calls).toHaveLength(2);
  });

  it('writes what the records of one turn ask for in one call, and each waits for its entries', async () => {
    const store = fakeStore();
    let go!: () => void;
    store.gate = new Promise((resolve) => (go = resolve));
    const writer = new DirectoryWriter(store);
    let done = 0;
    const records = [entriesOf('a'), entriesOf('b'), entriesOf('a')].map((entries) =>
      writer.record(entries, context).then(() => done++),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.calls.map((call) => call.length)).toEqual([4]);
    // Nobody goes on to write packs before the entries are stored, not even the third record,
    // which asked for nothing new.
    expect(done).toBe(0);
    go();
    await Promise.all(records);
    expect(done).toBe(3);
  });

  it('forgets a write that failed: its records fail, and the next record writes it again', async () => {
    let failing = true;
    const store = fakeStore(() => failing);
    const writer = new DirectoryWriter(store);
    await expect(writer.record(entriesOf('s'), context)).rejects.toThrow('throttled');
    failing = false;
    await writer.record(entriesOf('s'), context);
    expect(store.calls).toHaveLength(2);
    await writer.record(entriesOf('s'), context);
    expect(store.calls).toHaveLength(2);
  });

  it('writes each record alone when the shared write fails, so a record fails only for its own', async () => {
    const store = fakeStore((entry) => entry.sensorId === 'bad');
    const writer = new DirectoryWriter(store);
    const [good, bad] = await Promise.allSettled([
      writer.record(entriesOf('good'), context),
      writer.record(entriesOf('bad'), context),
    ]);
    expect(good.status).toBe('fulfilled');
    expect(bad.status).toBe('rejected');
    // The shared call, then each alone.
    expect(store.calls.map((call) => call.length)).toEqual([4, 2, 2]);
  });

  it('remembers at most its memory, the oldest entries going first', async () => {
    const store = fakeStore();
    // Room for two sensors' entries (two each).
    const writer = new DirectoryWriter(store, 4);
    for (const sensorId of ['a', 'b', 'c']) await writer.record(entriesOf(sensorId), context);
    await writer.record(entriesOf('c'), context);
    expect(store.calls).toHaveLength(3);
    await writer.record(entriesOf('a'), context);
    expect(store.calls).toHaveLength(4);
  });
});
