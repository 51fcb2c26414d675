/**
 * The local Lambda service: per function, a pool of execution environments (worker threads),
 * each running one invocation at a time with the function's own environment, its timeout
 * enforced by ending the environment, as Lambda does.
 */
import { Worker } from 'node:worker_threads';
import type { FromWorker, SerializedError, ToWorker, WorkerSetup } from './worker.ts';
import { bundleWorkerExecArgv } from '../bundle.ts';

export interface FunctionRuntime {
  name: string;
  /** Resolves to the bundle's path; built on the first cold start. */
  bundle: () => Promise<string>;
  memoryMb: number;
  timeoutMs: number;
  env: Record<string, string>;
}

export class FunctionError extends Error {
  constructor(
    readonly functionName: string,
    readonly errorType: string,
    message: string,
  ) {
    super(`${functionName}: ${errorType}: ${message}`);
  }
}

/** Lambda refused the invocation before running the function (e.g. payload too large). */
export class InvocationRejectedError extends FunctionError {}

/** Lambda's limit on a synchronous invocation's request payload. */
export const SYNC_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;

export class FunctionTimeoutError extends FunctionError {
  constructor(functionName: string, timeoutMs: number) {
    super(functionName, 'Sandbox.Timedout', `Task timed out after ${timeoutMs / 1000} seconds`);
  }
}

export interface InvokerEvents {
  /** A line the function printed (logs, and EMF metrics documents). */
  onLine(functionName: string, stream: 'stdout' | 'stderr', line: string): void;
  /**
   * An invocation ended (either way) after running `wallMs` in its environment, `cpuMs` of it on
   * the environment's thread; `cpuMs` is undefined when the environment was ended (a timeout or
   * a crash) before it could tell.
   */
  onInvocation?(functionName: string, wallMs: number, cpuMs: number | undefined): void;
}

interface PendingInvocation {
  id: number;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  /** What the environment measured, set when it answers. */
  cpuMs?: number;
}

interface Environment {
  worker: Worker;
  busy: boolean;
  pending?: PendingInvocation;
}

let nextInvocationId = 1;

/** Injected failures of one invocation (fault experiments); both end its environment. */
export interface InvocationFault {
  /** The invocation times out after this long instead of the function's timeout. */
  timeoutMs?: number;
  /** The environment's thread is killed this long into the invocation (a crash). */
  killAfterMs?: number;
}

class FunctionPool {
  private readonly environments = new Set<Environment>();
  private readonly waiting: (() => void)[] = [];
  /** Cold starts under way; they count against the cap before they are ready. */
  private starting = 0;
  private closed = false;

  constructor(
    private readonly runtime: FunctionRuntime,
    private readonly workerScript: () => Promise<string>,
    private readonly maxEnvironments: number,
    private readonly events: InvokerEvents,
  ) {}

  async invoke(event: unknown, fault: InvocationFault = {}): Promise<unknown> {
    const size = Buffer.byteLength(JSON.stringify(event) ?? '');
    if (size > SYNC_PAYLOAD_LIMIT_BYTES) {
      throw new InvocationRejectedError(
        this.runtime.name,
        'RequestTooLargeException',
        `Request payload of ${size} bytes exceeds the ${SYNC_PAYLOAD_LIMIT_BYTES}-byte limit`,
      );
    }
    const environment = await this.acquire();
    try {
      return await this.run(environment, event, fault);
    } finally {
      environment.busy = false;
      this.waiting.shift()?.();
    }
  }

  private async acquire(): Promise<Environment> {
    for (;;) {
      if (this.closed) throw new Error(`${this.runtime.name}: invoker is closed`);
      const idle = [...this.environments].find((environment) => !environment.busy);
      if (idle) {
        idle.busy = true;
        return idle;
      }
      if (this.environments.size + this.starting < this.maxEnvironments) {
        this.starting++;
        try {
          return await this.start();
        } catch (error) {
          this.waiting.shift()?.();
          throw error;
        } finally {
          this.starting--;
        }
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  /** A cold start: a new worker that loads the bundle. */
  private async start(): Promise<Environment> {
    const { name, memoryMb, env } = this.runtime;
    const [bundle, workerScript] = await Promise.all([this.runtime.bundle(), this.workerScript()]);
    const setup: WorkerSetup = { bundle, functionName: name, memoryMb };
    const worker = new Worker(workerScript, {
      workerData: setup,
      env,
      execArgv: bundleWorkerExecArgv(),
      stdout: true,
      stderr: true,
    });
    worker.unref();
    // Busy from birth: it belongs to the invocation that caused the cold start.
    const environment: Environment = { worker, busy: true };
    return new Promise((resolve, reject) => {
      worker.on('message', (message: FromWorker) => {
        switch (message.type) {
          case 'ready':
            this.environments.add(environment);
            resolve(environment);
            break;
          case 'init-error':
            reject(this.failure(message.error));
            void worker.terminate();
            break;
          case 'line':
            this.events.onLine(name, message.stream, message.line);
            break;
          case 'result':
            this.settle(environment, message);
            break;
        }
      });
      worker.on('error', (error) => {
        reject(error);
        this.discard(environment, new FunctionError(name, 'Runtime.ExitError', error.message));
      });
      worker.on('exit', () => {
        const exited = new FunctionError(name, 'Runtime.ExitError', 'environment exited');
        reject(exited);
        this.discard(environment, exited);
      });
    });
  }

  private run(environment: Environment, event: unknown, fault: InvocationFault): Promise<unknown> {
    const { timeoutMs, name } = this.runtime;
    const id = nextInvocationId++;
    const started = performance.now();
    let pending: PendingInvocation | undefined;
    const ended = () =>
      this.events.onInvocation?.(name, performance.now() - started, pending?.cpuMs);
    return new Promise<unknown>((resolve, reject) => {
      const limitMs = fault.timeoutMs ?? timeoutMs;
      const timer = setTimeout(() => {
        // Like Lambda, a timed-out environment is ended; the next invocation starts cold.
        this.discard(environment, new FunctionTimeoutError(name, limitMs));
        void environment.worker.terminate();
      }, limitMs);
      if (fault.killAfterMs !== undefined) {
        // The exit handler rejects the invocation with Runtime.ExitError, as a crash would.
        setTimeout(() => {
          if (environment.pending?.id === id) void environment.worker.terminate();
        }, fault.killAfterMs).unref();
      }
      environment.pending = pending = { id, resolve, reject, timer };
      const message: ToWorker = { type: 'invoke', id, event, deadline: Date.now() + timeoutMs };
      environment.worker.postMessage(message);
    }).finally(ended);
  }

  private settle(environment: Environment, message: Extract<FromWorker, { type: 'result' }>) {
    const pending = environment.pending;
    if (!pending || pending.id !== message.id) return;
    clearTimeout(pending.timer);
    environment.pending = undefined;
    pending.cpuMs = message.cpuMs;
    if (message.ok) pending.resolve(message.value);
    else pending.reject(this.failure(message.error));
  }

  private discard(environment: Environment, reason: Error) {
    this.environments.delete(environment);
    const pending = environment.pending;
    if (pending) {
      clearTimeout(pending.timer);
      environment.pending = undefined;
      pending.reject(reason);
    }
  }

  private failure(error: SerializedError): FunctionError {
    const failure = new FunctionError(this.runtime.name, error.errorType, error.errorMessage);
    if (error.stack) failure.stack = error.stack;
    return failure;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.waiting.splice(0).forEach((wake) => wake());
    const environments = [...this.environments];
    this.environments.clear();
    await Promise.all(environments.map((environment) => environment.worker.terminate()));
  }
}

export class LambdaInvoker {
  private readonly pools = new Map<string, FunctionPool>();

  constructor(
    runtimes: FunctionRuntime[],
    workerScript: () => Promise<string>,
    events: InvokerEvents,
    maxEnvironmentsPerFunction = 10,
  ) {
    for (const runtime of runtimes) {
      this.pools.set(
        runtime.name,
        new FunctionPool(runtime, workerScript, maxEnvironmentsPerFunction, events),
      );
    }
  }

  invoke(functionName: string, event: unknown, fault?: InvocationFault): Promise<unknown> {
    const pool = this.pools.get(functionName);
    if (!pool) return Promise.reject(new Error(`Unknown function ${functionName}`));
    return pool.invoke(event, fault);
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
  }
}
