/**
 * Each Lambda bundle's size, and its cold module-load time: the median over fresh Node
 * processes of importing the bundle (what a cold start pays before the handler runs).
 */
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { bundleFunction } from '#infra/local/index.ts';
import {
  functionEnvironment,
  functionNames,
  topology,
  type FunctionName,
} from '#infra/topology.ts';

const run = promisify(execFile);

export interface BundleFigures {
  function: FunctionName;
  bytes: number;
  coldLoadMsMedian: number;
}

/**
 * What each deployment gives a function beside the topology's bindings (the CDK app sets these
 * per stage: infra/aws/constructs/infra-panel.ts); placeholders here too.
 */
const DEPLOYMENT_SETTINGS: Partial<Record<FunctionName, NodeJS.ProcessEnv>> = {
  infraApi: { INFRA_STAGE: 'dev', INFRA_ANONYMOUS: 'true' },
};

/** Settings a handler module reads when it loads; placeholders, nothing is called. */
const loadEnvironment = (name: FunctionName): NodeJS.ProcessEnv => {
  const spec = topology.functions[name];
  const bindings = [
    ...Object.keys(spec.tables).map((t) => topology.tables[t as keyof typeof topology.tables].env),
    ...Object.keys(spec.queues).map((q) => topology.queues[q as keyof typeof topology.queues].env),
  ];
  return {
    PATH: process.env.PATH,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_LAMBDA_FUNCTION_NAME: name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb),
    ...Object.fromEntries(bindings.map((env) => [env, 'http://127.0.0.1:9/bench'])),
    ...functionEnvironment(name),
    ...DEPLOYMENT_SETTINGS[name],
  };
};

const LOAD_SCRIPT = `const t = performance.now();
await import(process.argv[1]);
console.log(performance.now() - t);`;

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

export const measureBundles = async (samples: number): Promise<BundleFigures[]> => {
  const figures: BundleFigures[] = [];
  for (const name of functionNames) {
    const bundle = await bundleFunction(name);
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      const { stdout } = await run(
        process.execPath,
        ['--input-type=module', '-e', LOAD_SCRIPT, bundle],
        { env: loadEnvironment(name) },
      );
      times.push(Number(stdout.trim()));
    }
    figures.push({
      function: name,
      bytes: (await stat(bundle)).size,
      coldLoadMsMedian: Math.round(median(times) * 10) / 10,
    });
  }
  return figures;
};
