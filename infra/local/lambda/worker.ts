/**
 * One Lambda execution environment: a worker thread that loads one function bundle and runs
 * one invocation at a time, as a Lambda sandbox does. What the function prints is sent to
 * the main thread line by line, so EMF metrics can be gathered and logs labelled.
 */
import { randomUUID } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';

export interface WorkerSetup {
  bundle: string;
  functionName: string;
  memoryMb: number;
}

export type ToWorker = { type: 'invoke'; id: number; event: unknown; deadline: number };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'init-error'; error: SerializedError }
  | { type: 'line'; stream: 'stdout' | 'stderr'; line: string }
  | { type: 'result'; id: number; ok: true; value: unknown; cpuMs: number }
  | { type: 'result'; id: number; ok: false; error: SerializedError; cpuMs: number };

export interface SerializedError {
  errorType: string;
  errorMessage: string;
  stack?: string;
}

// As NODE_OPTIONS=--enable-source-maps does on Lambda: stack traces name the TypeScript sources.
process.setSourceMapsEnabled(true);

const port = parentPort;
if (!port) throw new Error('worker.ts runs only as a worker thread');
const setup = workerData as WorkerSetup;
const post = (message: FromWorker) => port.postMessage(message);

const captureLines = (stream: NodeJS.WriteStream, name: 'stdout' | 'stderr') => {
  let pending = '';
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    pending += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      post({ type: 'line', stream: name, line: pending.slice(0, newline) });
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof stream.write;
};
captureLines(process.stdout, 'stdout');
captureLines(process.stderr, 'stderr');

const serialize = (error: unknown): SerializedError =>
  error instanceof Error
    ? {
        errorType: error.name,
        errorMessage: error.message,
        ...(error.stack ? { stack: error.stack } : {}),
      }
    : { errorType: 'Error', errorMessage: String(error) };

const lambdaContext = (deadline: number): Context => {
  const requestId = randomUUID();
  const { functionName, memoryMb } = setup;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:000000000000:function:${functionName}`,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${process.pid}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
};

type Handler = (event: unknown, context: Context) => Promise<unknown>;

/**
 * CPU time of this thread so far, in ms: `process.threadCpuUsage()` (user + system) where Node
 * has it (22.19 and later); on Node 20, which lacks it, the active time of this thread's event
 * loop (`performance.eventLoopUtilization()`: time not spent waiting for I/O). Either is the
 * thread's own, unlike `process.cpuUsage()`, which sums every thread of the process. An
 * environment runs one invocation at a time, so the difference around a handler call is its CPU.
 */
const threadCpu = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage;
const threadCpuMs = threadCpu
  ? () => {
      const { user, system } = threadCpu();
      return (user + system) / 1000;
    }
  : () => performance.eventLoopUtilization().active;

try {
  const module = (await import(pathToFileURL(setup.bundle).href)) as { handler?: Handler };
  const handler = module.handler;
  if (typeof handler !== 'function') throw new Error(`${setup.bundle} exports no handler`);
  port.on('message', (message: ToWorker) => {
    const context = lambdaContext(message.deadline);
    const cpuAtStart = threadCpuMs();
    const cpuMs = () => threadCpuMs() - cpuAtStart;
    handler(message.event, context).then(
      (value) => post({ type: 'result', id: message.id, ok: true, value, cpuMs: cpuMs() }),
      (error: unknown) =>
        post({
          type: 'result',
          id: message.id,
          ok: false,
          error: serialize(error),
          cpuMs: cpuMs(),
        }),
    );
  });
  post({ type: 'ready' });
} catch (error) {
  post({ type: 'init-error', error: serialize(error) });
}
