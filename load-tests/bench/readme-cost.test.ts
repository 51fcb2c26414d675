import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '#infra/bundling.ts';
import type { BenchResult } from './bench.ts';
import { COST_TABLE_END, COST_TABLE_START, costTable } from './report.ts';

describe('the cost figures of docs/costs.md', () => {
  it('are what shared/prices.ts and the committed benchmark baseline compute', async () => {
    const readme = await readFile(`${repoRoot}/docs/costs.md`, 'utf8');
    const baseline = JSON.parse(
      await readFile(`${repoRoot}/load-tests/bench/baseline.json`, 'utf8'),
    ) as BenchResult;
    const start = readme.indexOf(COST_TABLE_START);
    const end = readme.indexOf(COST_TABLE_END);
    expect(start).toBeGreaterThan(-1);
    expect(end).toBeGreaterThan(start);

    expect(readme.slice(start, end + COST_TABLE_END.length)).toBe(costTable(baseline));
  });
});
