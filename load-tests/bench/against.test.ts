import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '#infra/bundling.ts';
import {
  compareFigures,
  formatAgainst,
  integrityFailures,
  measureScenario,
  runInterleaved,
  type SideFigures,
} from './against.ts';
import { checkoutRef } from './checkout.ts';
import { processCpuMs, startStackProcess, type StackProcess } from './stack-process-client.ts';

const figures = (stored: number, p99: number): SideFigures => ({
  acceptedReadingsPerSecond: stored,
  acceptedRequestsPerSecond: stored,
  storedReadingsPerSecond: stored,
  storedRequestsPerSecond: stored,
  meanMs: p99 / 3,
  p50Ms: p99 / 2,
  p99Ms: p99,
  lost: 0,
  duplicated: 0,
});

const fakeSide = (label: string) => ({ label }) as unknown as StackProcess & { label: string };

describe('npm run bench -- --against', () => {
  it('alternates which side goes first, round by round, scenario by scenario', async () => {
    const calls: string[] = [];
    const result = await runInterleaved(
      { now: fakeSide('now'), before: fakeSide('before') },
      {
        scenarios: [
          { name: 'a', batch: 1, requests: 1 },
          { name: 'b', batch: 1, requests: 1 },
        ],
        rounds: 3,
        concurrency: 1,
        measure: (stack, scenario) => {
          calls.push(`${(stack as unknown as { label: string }).label}:${scenario.name}`);
          return Promise.resolve(figures(100, 10));
        },
      },
    );
    expect(calls).toEqual([
      'now:a',
      'before:a',
      'now:b',
      'before:b',
      'before:a',
      'now:a',
      'before:b',
      'now:b',
      'now:a',
      'before:a',
      'now:b',
      'before:b',
    ]);
    expect(result.now.runs.a).toHaveLength(3);
    expect(result.before.runs.b).toHaveLength(3);
  });

  it('prints each figure now, before, the ratio of the medians and the spread', async () => {
    const values = { now: [110, 120, 130], before: [100, 100, 90] };
    const round = { now: 0, before: 0 };
    const result = await runInterleaved(
      { now: fakeSide('work tree'), before: fakeSide('abc') },
      {
        scenarios: [{ name: 'batch 100', batch: 100, requests: 1 }],
        rounds: 3,
        concurrency: 20,
        measure: (stack) => {
          const side = (stack as unknown as { label: string }).label === 'abc' ? 'before' : 'now';
          return Promise.resolve(figures(values[side][round[side]++]!, 50));
        },
      },
    );
    const stored = compareFigures(result).find((c) => c.figure === 'stored readings/s')!;
    expect(stored).toMatchObject({ now: [110, 120, 130], before: [100, 100, 90], ratio: 1.2 });
    const p99 = compareFigures(result).find((c) => c.figure === 'p99 ms')!;
    expect(p99).toMatchObject({ ratio: 1, better: 'lower' });
    // A figure one side did not measure (no /proc, no usage) is left out, not made up.
    expect(compareFigures(result).some((c) => c.figure === 'stack CPU ms/request')).toBe(false);
    const text = formatAgainst(result);
    expect(text).toContain('work tree against abc: 3 rounds, 20 clients');
    expect(text).toContain('| batch 100 | stored readings/s | 110–130 | 90–100 | 1.20 | higher |');
    expect(integrityFailures(result)).toEqual([]);
    result.before.runs['batch 100']![1] = { ...figures(100, 50), lost: 2 };
    expect(integrityFailures(result)).toEqual(['abc, batch 100: 2 lost, 0 duplicated']);
  });

  it('reads a process CPU time from /proc, and nothing where there is no such process', async () => {
    if (!existsSync('/proc/self/stat')) return;
    const ours = await processCpuMs(process.pid);
    expect(ours).toBeGreaterThan(0);
    expect(await processCpuMs(2 ** 22 + 1)).toBeUndefined();
  });

  it("runs a checkout's stack in a process of its own and measures a scenario against it", async () => {
    const stack = await startStackProcess(repoRoot);
    try {
      expect(stack.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(stack.pid).not.toBe(process.pid);
      const measured = await measureScenario(stack, { name: 'tiny', batch: 5, requests: 4 }, 2);
      expect(measured).toMatchObject({ lost: 0, duplicated: 0 });
      expect(measured.storedReadingsPerSecond).toBeGreaterThan(0);
      expect(measured.writeUnitsPer1000Readings).toBeGreaterThan(0);
      // The consumer's sensor metrics at least, as EMF.
      expect(measured.logKbPer1000Readings).toBeGreaterThan(0);
      if (existsSync('/proc/self/stat')) expect(measured.stackCpuMsPerRequest).toBeGreaterThan(0);
      // The counters were reset before the scenario: they hold its 4 requests, not the start's.
      expect((await stack.stats()).requests.sqs.SendMessageBatch).toBe(4);
    } finally {
      await stack.stop();
    }
  });

  it('prepares a commit once, in a cache folder named by it, from git archive', async () => {
    const repo = await mkdtemp(join(tmpdir(), 'bench-checkout-repo-'));
    const cacheRoot = await mkdtemp(join(tmpdir(), 'bench-checkout-cache-'));
    try {
      const git = (...args: string[]) =>
        execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();
      git('init', '-q');
      // A package whose one dependency is a folder of its own: npm ci runs for real, offline.
      await mkdir(join(repo, 'dep'));
      await writeFile(
        join(repo, 'dep', 'package.json'),
        JSON.stringify({ name: 'dep', version: '1.0.0' }),
      );
      await writeFile(
        join(repo, 'package.json'),
        JSON.stringify({
          name: 'probe',
          version: '1.0.0',
          private: true,
          dependencies: { dep: 'file:./dep' },
        }),
      );
      execFileSync('npm', ['install', '--package-lock-only', '--no-audit', '--no-fund'], {
        cwd: repo,
      });
      await writeFile(join(repo, 'marker.txt'), 'first\n');
      git('add', '.');
      git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'first');
      const sha = git('rev-parse', 'HEAD');
      await writeFile(join(repo, 'marker.txt'), 'second\n');

      const checkout = await checkoutRef(repo, 'HEAD', { cacheRoot });
      expect(checkout).toEqual({ ref: 'HEAD', sha, dir: join(cacheRoot, sha) });
      // The commit's files, not the work tree's.
      expect(await readFile(join(checkout.dir, 'marker.txt'), 'utf8')).toBe('first\n');
      expect(existsSync(join(checkout.dir, 'node_modules', 'dep', 'package.json'))).toBe(true);

      const log: string[] = [];
      await checkoutRef(repo, sha, { cacheRoot, log: (line) => log.push(line) });
      expect(log).toEqual([]);
      await expect(checkoutRef(repo, 'no-such-ref', { cacheRoot })).rejects.toThrow(
        'no-such-ref is not a commit',
      );
    } finally {
      await rm(repo, { recursive: true, force: true });
      await rm(cacheRoot, { recursive: true, force: true });
    }
  });
});
