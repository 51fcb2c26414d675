import { describe, expect, it } from 'vitest';
import { CachedRunReader, type RunReader, type RunState } from './runs.ts';

const run = (id: string): RunState => ({ id, status: 'RUNNING', deadlineAt: 10_000 });

class CountingReader implements RunReader {
  readonly reads: string[] = [];
  constructor(readonly runs: Map<string, RunState>) {}
  async getRun(runId: string) {
    this.reads.push(runId);
    return this.runs.get(runId);
  }
}

const setup = (maxEntries = 10) => {
  let now = 0;
  const inner = new CountingReader(
    new Map([
      ['a', run('a')],
      ['b', run('b')],
      ['c', run('c')],
    ]),
  );
  const cache = new CachedRunReader(inner, { ttlMs: 5_000, maxEntries, now: () => now });
  return { inner, cache, advance: (ms: number) => (now += ms) };
};

describe('CachedRunReader', () => {
  it('reads a found run once per TTL', async () => {
    const { inner, cache, advance } = setup();
    expect(await cache.getRun('a')).toEqual(run('a'));
    advance(4_999);
    await cache.getRun('a');
    expect(inner.reads).toEqual(['a']);
    advance(1);
    await cache.getRun('a');
    expect(inner.reads).toEqual(['a', 'a']);
  });

  it('does not cache unknown runs, so a run is usable as soon as it exists', async () => {
    const { inner, cache } = setup();
    expect(await cache.getRun('new')).toBeUndefined();
    inner.runs.set('new', run('new'));
    expect(await cache.getRun('new')).toEqual(run('new'));
    expect(inner.reads).toEqual(['new', 'new']);
  });

  it('stays within its size, dropping the oldest entry', async () => {
    const { inner, cache } = setup(2);
    await cache.getRun('a');
    await cache.getRun('b');
    await cache.getRun('c');
    await cache.getRun('b');
    await cache.getRun('a');
    expect(inner.reads).toEqual(['a', 'b', 'c', 'a']);
  });
});
