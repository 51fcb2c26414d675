/**
 * Builds each function of the topology into an ESM bundle with esbuild, the way it ships to
 * Lambda, so the local stack runs the same artifact rather than the TypeScript sources.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { lambdaBundleOptions, repoRoot } from '../bundling.ts';
import { topology, type FunctionName } from '../topology.ts';

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

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * This process's bundle folder, `<tmp>/iot-playground-local/<pid>`. Test workers are often
 * killed rather than exiting, so instead of cleaning up on exit, each process removes the
 * folders of processes that are gone.
 */
const bundleDirectory = async (): Promise<string> => {
  const parent = join(tmpdir(), 'iot-playground-local');
  await mkdir(parent, { recursive: true });
  for (const entry of await readdir(parent)) {
    const pid = Number(entry);
    if (Number.isInteger(pid) && pid !== process.pid && !isAlive(pid)) {
      await rm(join(parent, entry), { recursive: true, force: true });
    }
  }
  const dir = join(parent, String(process.pid));
  await mkdir(dir, { recursive: true });
  return dir;
};
const builds = new Map<string, Promise<string>>();

/**
 * Bundles a module once per process (later stacks in the same process reuse it) and returns
 * the bundle's path. Functions are built on their first cold start, so a stack starts fast.
 */
export const bundleModule = (entry: string, name: string): Promise<string> => {
  let built = builds.get(name);
  if (!built) {
    outputDir ??= bundleDirectory();
    built = outputDir.then((dir) => buildOne(entry, join(dir, `${name}.mjs`)));
    builds.set(name, built);
  }
  return built;
};

export const bundleFunction = (name: FunctionName): Promise<string> =>
  bundleModule(topology.functions[name].entry, name);

/** The execution-environment bootstrap that loads a function bundle in a worker thread. */
export const bundleWorker = (): Promise<string> =>
  bundleModule('infra/local/lambda/worker.ts', 'worker');

/**
 * The Node options a bundle's worker thread starts with: none of this process's loaders (tsx,
 * under `npm start` and the tests) — a bundle needs none, as on Lambda, and loading one through
 * tsx's hooks took about three times the CPU — but its profiling flags, so `--cpu-prof` still
 * profiles every thread.
 */
export const bundleWorkerExecArgv = (execArgv: readonly string[] = process.execArgv): string[] =>
  execArgv.filter((flag) => /^--(cpu|heap)-prof/.test(flag));
