/**
 * No k6 binary here, so the k6 scripts are proved as far as Node can: they typecheck against
 * @types/k6 (`npm run typecheck` runs load-tests/k6/tsconfig.json, whose lib has no Node
 * types — so the shared payload module cannot use a Node API either), esbuild bundles each with
 * `k6/*` external, and each bundle, loaded over stand-ins for the k6 modules, declares the
 * scenarios and thresholds a k6 user expects.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '#infra/bundling.ts';

const dir = join(repoRoot, 'load-tests/k6');
const scripts = readdirSync(dir).filter((file) => file.endsWith('.ts'));

const bundle = async (script: string, plugins: Plugin[] = []) =>
  build({
    entryPoints: [join(dir, script)],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2020',
    write: false,
    logLevel: 'silent',
    ...(plugins.length ? { plugins } : { external: ['k6', 'k6/*'] }),
  });

/** Just enough of k6's modules for a script's top level to run. */
const K6_STAND_INS = `
export default { get() {}, post() {}, expectedStatuses() {} };
export const check = () => true, fail = () => {}, sleep = () => {};
export class Counter { constructor(name) { this.name = name; } add() {} }
`;
const standIns: Plugin = {
  name: 'k6-stand-ins',
  setup(builder) {
    builder.onResolve({ filter: /^k6(\/.*)?$/ }, (args) => ({ path: args.path, namespace: 'k6' }));
    builder.onLoad({ filter: /.*/, namespace: 'k6' }, () => ({ contents: K6_STAND_INS }));
  },
};

describe('k6 scripts', () => {
  it('cover smoke, constant rate, ramp, spike, soak and the run lifecycle', () => {
    expect(scripts.sort()).toEqual([
      'constant-rate.ts',
      'lifecycle.ts',
      'ramp.ts',
      'smoke.ts',
      'soak.ts',
      'spike.ts',
    ]);
  });

  it.each(scripts)('%s bundles with k6/* external and imports nothing else', async (script) => {
    const result = await bundle(script);
    const code = result.outputFiles[0]!.text;
    const imports = [...code.matchAll(/from\s*"([^"]+)"/g)].map((match) => match[1]);
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.every((name) => name === 'k6' || name!.startsWith('k6/'))).toBe(true);
    expect(code).not.toMatch(/require\(|node:/);
  });

  it.each(scripts)('%s declares scenarios and thresholds read from __ENV', async (script) => {
    const code = (await bundle(script, [standIns])).outputFiles[0]!.text;
    const file = join(await mkdtemp(join(tmpdir(), 'k6-')), `${script}.mjs`);
    await writeFile(file, code);
    (globalThis as any).__ENV = { BASE_URL: 'http://example.test/', RATE: '400', BATCH: '20' };

    const module = await import(pathToFileURL(file).href);

    const scenarios = Object.values(module.options.scenarios) as any[];
    expect(scenarios.length).toBeGreaterThan(0);
    expect(Object.keys(module.options.thresholds).length).toBeGreaterThan(0);
    expect(typeof module.handleSummary).toBe('function');
    const arrival = scenarios.find((s) => s.executor === 'constant-arrival-rate');
    // 400 readings/s in requests of 20 readings: 20 requests a second.
    if (arrival) expect(arrival.rate).toBe(20);
  });
});
