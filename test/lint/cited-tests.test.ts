/**
 * A comment or page that names a test as its proof must name one that exists: a path
 * (`infra/aws/bootstrap/github-deploy-role.test.ts`, from the repository root or the citing
 * file's folder) exists there, and a bare file name (`gateway.test.ts`) exists somewhere.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');

const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((file) => file !== '' && existsSync(join(ROOT, file)));

/** Test file names cited in `text`; `*.property.test.ts` and the like are patterns, not citations. */
export const citedTests = (text: string): string[] =>
  [...text.matchAll(/(?<![\w*./-])([\w-][\w./-]*\.test\.ts)\b/g)].map((match) => match[1]!);

describe('cited test files', () => {
  it('finds citations as paths and as bare names, not globs', () => {
    expect(
      citedTests('see infra/aws/x.test.ts and (gateway.test.ts); *.property.test.ts is a glob'),
    ).toEqual(['infra/aws/x.test.ts', 'gateway.test.ts']);
  });

  it('every test a source file, workflow or page cites exists', () => {
    const names = new Set(tracked.map((file) => basename(file)));
    const texts = tracked.filter((file) => /\.(ts|js|md|ya?ml|json)$/.test(file));
    const missing: string[] = [];
    for (const file of texts) {
      // The lock file names no tests; this file cites made-up ones in its own examples.
      if (file === 'package-lock.json' || file === 'test/lint/cited-tests.test.ts') continue;
      for (const cited of citedTests(readFileSync(join(ROOT, file), 'utf8'))) {
        const found = cited.includes('/')
          ? existsSync(join(ROOT, cited)) || existsSync(join(ROOT, dirname(file), cited))
          : names.has(cited);
        if (!found) missing.push(`${file} cites ${cited}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
