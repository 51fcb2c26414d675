import { afterEach, describe, expect, it } from 'vitest';
import { bundleModule, bundleWorker, bundleWorkerExecArgv } from '../bundle.ts';
import { FunctionError, FunctionTimeoutError, LambdaInvoker } from './invoker.ts';

const lines: string[] = [];
const ran: { wallMs: number; cpuMs: number | undefined }[] = [];
let invoker: LambdaInvoker | undefined;

const probe = (timeoutMs: number, maxEnvironments = 2) => {
  invoker = new LambdaInvoker(
    [
      {
        name: 'probe',
        bundle: () => bundleModule('test/fixtures/probe-handler.ts', 'probe'),
        memoryMb: 128,
        timeoutMs,
        env: { PROBE_SETTING: 'from-topology' },
      },
    ],
    bundleWorker,
    {
      onLine: (name, stream, line) => lines.push(`${name}:${stream}:${line}`),
      onInvocation: (_name, wallMs, cpuMs) => ran.push({ wallMs, cpuMs }),
    },
    maxEnvironments,
  );
  return invoker;
};

afterEach(async () => {
  await invoker?.close();
  lines.length = 0;
  ran.length = 0;
});

describe('bundleWorkerExecArgv', () => {
  it('drops loaders and keeps profiling flags', () => {
    expect(
      bundleWorkerExecArgv([
        '--import',
        'tsx',
        '--cpu-prof',
        '--cpu-prof-dir=/tmp/p',
        '--conditions=development',
        '--heap-prof',
      ]),
    ).toEqual(['--cpu-prof', '--cpu-prof-dir=/tmp/p', '--heap-prof']);
  });
});

describe('LambdaInvoker', () => {
  it('gives the function its own environment and a context with the time left', async () => {
    const result = (await probe(3000).invoke('probe', { action: 'describe' })) as any;
    expect(result.setting).toBe('from-topology');
    expect(result.functionName).toBe('probe');
    expect(result.remainingMs).toBeGreaterThan(2000);
    expect(result.remainingMs).toBeLessThanOrEqual(3000);
    expect(process.env.PROBE_SETTING).toBeUndefined();
    // Plain Node, as on Lambda: none of the test runner's or tsx's loader flags.
    expect(result.execArgv).toEqual([]);
  });

  it('reuses a warm environment for sequential invocations', async () => {
    const lambda = probe(3000);
    await lambda.invoke('probe', { action: 'describe' });
    const second = (await lambda.invoke('probe', { action: 'describe' })) as any;
    expect(second.invocations).toBe(2);
  });

  it('runs one invocation per environment and caps environments, queueing the rest', async () => {
    const lambda = probe(5000, 2);
    const results = (await Promise.all(
      Array.from({ length: 4 }, () => lambda.invoke('probe', { action: 'sleep', ms: 200 })),
    )) as any[];
    // Two environments, each served two of the four invocations one after the other.
    expect(results.map((r) => r.invocations).sort()).toEqual([1, 1, 2, 2]);
  });

  it('ends an environment that exceeds its timeout; the next invocation starts cold', async () => {
    const lambda = probe(300);
    await expect(lambda.invoke('probe', { action: 'sleep', ms: 2000 })).rejects.toBeInstanceOf(
      FunctionTimeoutError,
    );
    const next = (await lambda.invoke('probe', { action: 'describe' })) as any;
    expect(next.invocations).toBe(1);
  });

  it('surfaces a thrown error with its type and keeps the environment', async () => {
    const lambda = probe(3000, 1);
    const failure = await lambda.invoke('probe', { action: 'throw' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(FunctionError);
    expect((failure as FunctionError).errorType).toBe('TypeError');
    expect(((await lambda.invoke('probe', { action: 'describe' })) as any).invocations).toBe(2);
  });

  it("measures each invocation's wall time and its thread's CPU time apart", async () => {
    const lambda = probe(5000, 1);
    await lambda.invoke('probe', { action: 'describe' }); // the cold start is not measured below
    ran.length = 0;
    await lambda.invoke('probe', { action: 'sleep', ms: 300 });
    await lambda.invoke('probe', { action: 'spin', ms: 300 });
    const [sleeping, spinning] = ran;
    expect(sleeping!.wallMs).toBeGreaterThanOrEqual(290);
    expect(sleeping!.cpuMs).toBeLessThan(100);
    // Not a bound near 300: on a loaded machine the spinning thread gets less of a core.
    expect(spinning!.cpuMs).toBeGreaterThan(sleeping!.cpuMs! + 100);
    expect(spinning!.cpuMs).toBeLessThanOrEqual(spinning!.wallMs + 1);
  });

  it('reports no CPU time for an environment ended by its timeout', async () => {
    await probe(200)
      .invoke('probe', { action: 'sleep', ms: 2000 })
      .catch(() => undefined);
    expect(ran).toEqual([{ wallMs: expect.any(Number), cpuMs: undefined }]);
  });

  it('passes printed lines to the main thread', async () => {
    await probe(3000).invoke('probe', { action: 'print', line: 'hello from the function' });
    expect(lines).toContain('probe:stdout:hello from the function');
  });
});
