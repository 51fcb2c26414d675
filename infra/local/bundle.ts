/**
 * Builds each function of the topology into an ESM bundle with esbuild, the way it ships to
 * Lambda, so the local stack runs the same artifact rather than the TypeScript sources.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';
import { ESM_REQUIRE_BANNER, MAIN_FIELDS } from '../bundling.ts';
import { topology, type FunctionName } from '../topology.ts';

export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** esbuild settings of the local stack and `npm run build` (the CDK app passes the same). */
export const lambdaBundleOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  minify: true,
  sourcemap: true,
  mainFields: MAIN_FIELDS,
  banner: { js: ESM_REQUIRE_BANNER },
  logLevel: 'silent',
} satisfies BuildOptions;

const buildOne = async (entry: string, outfile: string): Promise<string> => {
  await build({
    ...lambdaBundleOptions,
    entryPoints: [join(repoRoot, entry)],
    outfile,
    target: 'node20',
  });
  return outfile;
};

let outputDir: Promise<string> | undefined;
const builds = new Map<string, Promise<string>>();

/**
 * Bundles a module once per process (later stacks in the same process reuse it) and returns
 * the bundle's path. Functions are built on their first cold start, so a stack starts fast.
 */
export const bundleModule = (entry: string, name: string): Promise<string> => {
  let built = builds.get(name);
  if (!built) {
    outputDir ??= mkdtemp(join(tmpdir(), 'iot-playground-local-'));
    built = outputDir.then((dir) => buildOne(entry, join(dir, `${name}.mjs`)));
    builds.set(name, built);
  }
  return built;
};

export const bundleFunction = (name: FunctionName): Promise<string> =>
  bundleModule(topology.functions[name].entry, name);

/** The execution-environment bootstrap that loads a function bundle in a worker thread. */
export const bundleWorker = (): Promise<string> => bundleModule('infra/local/worker.ts', 'worker');
