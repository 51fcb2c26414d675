/**
 * Another commit of this repository, ready to run beside the work tree: its files (`git
 * archive`, so no worktree is registered) and its own `npm ci`, in a cache folder named by the
 * commit and reused by later runs. Built in a staging folder and moved into place only once
 * complete, so an interrupted install is never taken for a ready one.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface Checkout {
  ref: string;
  sha: string;
  dir: string;
}

const READY = '.bench-ready';

export const defaultCacheRoot = (): string =>
  join(
    process.env.IOT_BENCH_CACHE ??
      join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'iot-playground-serverless'),
    'bench-refs',
  );

/** Runs a command to its end; its output goes to `log` line by line, a failure throws. */
export const run = (
  command: string,
  args: readonly string[],
  options: { cwd: string; log?: (line: string) => void; stdout?: (chunk: Buffer) => void },
): Promise<void> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = (chunk: Buffer) =>
      chunk
        .toString()
        .split('\n')
        .filter(Boolean)
        .forEach((line) => options.log?.(`  ${line}`));
    child.stdout.on('data', options.stdout ?? lines);
    child.stderr.on('data', lines);
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited ${code}`)),
    );
  });

const revParse = async (repo: string, ref: string): Promise<string> => {
  let out = '';
  await run('git', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], {
    cwd: repo,
    stdout: (chunk) => (out += chunk.toString()),
  }).catch(() => {
    throw new Error(`${ref} is not a commit of ${repo}`);
  });
  return out.trim();
};

export const checkoutRef = async (
  repo: string,
  ref: string,
  options: { cacheRoot?: string; log?: (line: string) => void } = {},
): Promise<Checkout> => {
  const sha = await revParse(repo, ref);
  const cacheRoot = options.cacheRoot ?? defaultCacheRoot();
  const dir = join(cacheRoot, sha);
  if (existsSync(join(dir, READY))) return { ref, sha, dir };

  options.log?.(`Preparing ${ref} (${sha.slice(0, 12)}) in ${dir}: its files and its own npm ci…`);
  await mkdir(cacheRoot, { recursive: true });
  const staging = await mkdtemp(join(cacheRoot, '.staging-'));
  try {
    const archive = join(staging, '.archive.tar');
    await run('git', ['archive', '--format=tar', `--output=${archive}`, sha], { cwd: repo });
    await run('tar', ['-xf', archive, '-C', staging], { cwd: staging });
    await rm(archive);
    await run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: staging, log: options.log });
    await writeFile(join(staging, READY), `${sha}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return { ref, sha, dir };
};
