import { describe, expect, it } from 'vitest';
import {
  directoryEntriesOf,
  directoryEntryKey,
  type DirectoryEntry,
} from '#shared/sensor-directory.ts';
import { DirectoryWriter } from './directory.ts';
import type { WriteContext } from './store.ts';

const RUN = '11111111-2222-4333-8444-555555555555';
const context: WriteContext = { remainingMs: () => 10_000, onRetry: () => undefined };

/** The directory entries of a pack of `sensorId` starting at `timestamp`. */
const entriesOf = (sensorId: string, timestamp = '2030-01-01T12:00:00.000Z') =>
  directoryEntriesOf([{ runId: RUN, sensorId, packKey: `${timestamp}#${sensorId}#t!b.0` }], 30);

/**
 * A table the writers of several containers share: it records each putDirectory call (failing
 * the ones holding an entry `failing` names; a write ends once `gate` has) and each read.
 */
const fakeTable = (failing: (entry: DirectoryEntry) => boolean = () => false) => {
  const table = {
    stored: new Set<string>(),
    writes: [] as string[][],
    reads: [] as number[],
    gate: Promise.resolve(),
    failRead: false,
    putDirectory: async (entries: readonly DirectoryEntry[]) => {
      table.writes.push(entries.map((e) => `${e.runPartition} ${e.packKey}`));
      await table.gate;
      if (entries.some(failing)) throw new Error('throttled');
      for (const entry of entries) table.stored.add(directoryEntryKey(entry));
    },
    findListed: async (entries: readonly DirectoryEntry[]) => {
      table.reads.push(entries.length);
      if (table.failRead) throw new Error('throttled');
      return new Set(entries.map(directoryEntryKey).filter((key) => table.stored.has(key)));
    },
  };
  return table;
};

const writerOn = (table: ReturnType<typeof fakeTable>, memory?: number) =>
  new DirectoryWriter(table, table.findListed, memory);

describe('DirectoryWriter', () => {
  it('writes both entries of a run, sensor and period once, however many records need them', async () => {
    const table = fakeTable();
    const writer = writerOn(table);
    await writer.record(entriesOf('s-1'), context);
    await writer.record(entriesOf('s-1', '2030-01-01T12:09:59.999Z'), context);
    expect(table.writes).toEqual([
      [`runs#s-1 2030-01-01T12:00:00.000Z#${RUN}`, `sensors#${RUN} 2030-01-01T12:00:00.000Z#s-1`],
    ]);
    // Read once, before the write; remembered after.
    expect(table.reads).toEqual([2]);
    // The next period is another entry.
    await writer.record(entriesOf('s-1', '2030-01-01T12:10:00.000Z'), context);
    expect(table.writes).toHaveLength(2);
  });

  it('reads what another container stored and writes only what the table lacks', async () => {
    const table = fakeTable();
    await writerOn(table).record(entriesOf('a'), context);
    const other = writerOn(table);
    await other.record([...entriesOf('a'), ...entriesOf('b')], context);
    expect(table.reads).toEqual([2, 4]);
    expect(table.writes.map((call) => call.length)).toEqual([2, 2]);
    expect(table.writes[1]!.every((key) => key.includes('b'))).toBe(true);
    // Stored now, by the read or the write: neither comes again.
    await other.record([...entriesOf('a'), ...entriesOf('b')], context);
    expect(table.reads).toHaveLength(2);
  });

  it('writes them all when the read fails', async () => {
    const table = fakeTable();
    await writerOn(table).record(entriesOf('a'), context);
    table.failRead = true;
    await writerOn(table).record(entriesOf('a'), context);
    expect(table.writes.map((call) => call.length)).toEqual([2, 2]);
  });

  it('writes what the records of one turn ask for in one call, and each waits for its entries', async () => {
    const table = fakeTable();
    let go!: () => void;
    table.gate = new Promise((resolve) => (go = resolve));
    const writer = writerOn(table);
    let done = 0;
    const records = [entriesOf('a'), entriesOf('b'), entriesOf('a')].map((entries) =>
      writer.record(entries, context).then(() => done++),
    );
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(table.reads).toEqual([4]);
    expect(table.writes.map((call) => call.length)).toEqual([4]);
    // Nobody goes on to write packs before the entries are stored, not even the third record,
    // which asked for nothing new.
    expect(done).toBe(0);
    go();
    await Promise.all(records);
    expect(done).toBe(3);
  });

  it('forgets a write that failed: its records fail, and the next record writes it again', async () => {
    let failing = true;
    const table = fakeTable(() => failing);
    const writer = writerOn(table);
    await expect(writer.record(entriesOf('s'), context)).rejects.toThrow('throttled');
    failing = false;
    await writer.record(entriesOf('s'), context);
    expect(table.writes).toHaveLength(2);
    await writer.record(entriesOf('s'), context);
    expect(table.writes).toHaveLength(2);
  });

  it('writes each record alone when the shared write fails, so a record fails only for its own', async () => {
    const table = fakeTable((entry) => entry.sensorId === 'bad');
    const writer = writerOn(table);
    const [good, bad] = await Promise.allSettled([
      writer.record(entriesOf('good'), context),
      writer.record(entriesOf('bad'), context),
    ]);
    expect(good.status).toBe('fulfilled');
    expect(bad.status).toBe('rejected');
    // The shared call, then each alone.
    expect(table.writes.map((call) => call.length)).toEqual([4, 2, 2]);
  });

  it('remembers at most its memory, the oldest entries going first', async () => {
    const table = fakeTable();
    // Room for two sensors' entries (two each).
    const writer = writerOn(table, 4);
    for (const sensorId of ['a', 'b', 'c']) await writer.record(entriesOf(sensorId), context);
    await writer.record(entriesOf('c'), context);
    expect(table.reads).toHaveLength(3);
    // Forgotten: read again (and found, so not written).
    await writer.record(entriesOf('a'), context);
    expect(table.reads).toHaveLength(4);
    expect(table.writes).toHaveLength(3);
  });
});
