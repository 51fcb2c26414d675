/**
 * The driver's side of `stack-process.ts`: starts a checkout's local stack in a process of its
 * own and reads what it serves over HTTP (`/local/stats`: request counts, usage, queue depths),
 * as every commit's stack has answered it, and the process's CPU time from `/proc` (Linux).
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';

export interface StackStats {
  requests: { sqs: Record<string, number>; dynamodb: Record<string, number> };
  usage?: {
    dynamodb?: { writeUnits?: number; readUnits?: number };
    logs?: { emfBytes?: number; otherBytes?: number };
  };
  queues: Record<string, { visible: number; inFlight: number; delayed?: number }>;
}

export interface StackProcess {
  url: string;
  pid: number;
  stats(): Promise<StackStats>;
  resetStats(): Promise<void>;
  /** CPU time (user + system) the process has used, in ms; undefined where /proc is missing. */
  cpuMs(): Promise<number | undefined>;
  stop(): Promise<void>;
}

const LAUNCHER = new URL('./stack-process.ts', import.meta.url).pathname;
/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** utime + stime of a process, from /proc/<pid>/stat (fields 14 and 15, after the name). */
export const processCpuMs = async (pid: number): Promise<number | undefined> => {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
};

export const startStackProcess = async (
  root: string,
  options: { environments?: number; startTimeoutMs?: number; nodeArgs?: readonly string[] } = {},
): Promise<StackProcess> => {
  // `--import tsx` resolves from the working directory: the checkout's own tsx, so each side
  // runs as its commit ran it.
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      '--import',
      'tsx',
      LAUNCHER,
      root,
      ...(options.environments ? [`${options.environments}`] : []),
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const ready = await new Promise<{ url: string; pid: number }>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`The stack of ${root} did not start: ${stderr}`)),
      options.startTimeoutMs ?? 120_000,
    );
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      clearTimeout(timer);
      lines.close();
      resolve(JSON.parse(line) as { url: string; pid: number });
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`The stack of ${root} exited: ${stderr}`));
    });
  });
  const local = (path: string, init?: RequestInit) =>
    fetch(`${ready.url}${path}`, init).then((response) => {
      if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
      return response.json() as Promise<unknown>;
    });
  return {
    ...ready,
    stats: () => local('/local/stats') as Promise<StackStats>,
    resetStats: () => local('/local/stats', { method: 'DELETE' }).then(() => undefined),
    cpuMs: () => processCpuMs(ready.pid),
    stop: async () => {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    },
  };
};
