/**
 * A local stack in a process of its own, for `npm run bench -- --against`: started with the
 * checkout's own tsx (`node --import tsx`, cwd = the checkout) as
 * `stack-process.ts <checkout root> [environments]`, it starts that checkout's local stack on a
 * free port, without schedules and without printing logs, and writes one JSON line
 * `{"url", "pid"}` on stdout once it serves. SIGTERM stops the stack and the process.
 *
 * It imports nothing of this tree: commits before the local stack had a front door
 * (`infra/local/index.ts`) start it from `infra/local/stack.ts`, with the same options.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface StartableStack {
  url: string;
  stop(): Promise<void>;
}
type Start = (options: Record<string, unknown>) => Promise<StartableStack>;

const root = process.argv[2];
if (!root) throw new Error('Usage: stack-process.ts <checkout root> [environments per function]');
const environments = process.argv[3] ? Number(process.argv[3]) : undefined;

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const entry = ['infra/local/index.ts', 'infra/local/stack.ts']
  .map((file) => join(root, file))
  .find((file) => existsSync(file));
if (!entry) throw new Error(`No local stack in ${root}`);
const { startLocalStack } = (await import(pathToFileURL(entry).href)) as {
  startLocalStack: Start;
};

const stack = await startLocalStack({
  port: 0,
  schedules: false,
  log: () => undefined,
  ...(environments ? { maxEnvironmentsPerFunction: environments } : {}),
});
process.stdout.write(`${JSON.stringify({ url: stack.url, pid: process.pid })}\n`);

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  void stack.stop().finally(() => process.exit(0));
});
