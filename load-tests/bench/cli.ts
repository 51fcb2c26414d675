/** `npm run bench`: see `--help`. A benchmark, never a timed unit test. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { repoRoot } from '#infra/bundling.ts';
import {
  COMPARED_SCENARIOS,
  formatAgainst,
  integrityFailures,
  runInterleaved,
  type AgainstResult,
} from './against.ts';
import { FULL, QUICK, runBench, type BenchOptions, type BenchResult } from './bench.ts';
import { checkoutRef } from './checkout.ts';
import { runSimulation } from '../simulator/engine.ts';
import { verifyStored } from '../simulator/verify.ts';
import { costTable, formatBench, formatComparison } from './report.ts';
import { startStackProcess } from './stack-process-client.ts';

const HELP = `Usage: npm run bench -- [options]

Starts the local stack, drives it with the simulator's engine at batch sizes 1, 10 and 100
and in the front end's shape (one reading a request, no key, no timestamp, 150 requests/s),
and reports throughput, latency, lost/duplicated readings, AWS requests per 1,000 readings,
modeled cost per million readings, bundle sizes, cold module loads and AWS capacity.

  --quick               fewer requests (finishes within 2 minutes on 2 cores)
  --requests <n>        requests per scenario (overrides the preset)
  --load-samples <n>    fresh processes per bundle for the cold-load median
  --environments <n>    worker environments per function in the local stack (default 10)
  --out <file>          where to write the result (default load-tests/bench/results/<time>.json)
  --compare <file>      also print each figure as a ratio to an earlier result
  --cost-table <file>   print docs/costs.md's cost block computed from a result file, and exit
  --json                print the whole result as one JSON object on stdout, and the tables
                        on stderr

  --against <git ref>   instead: this work tree and that commit side by side in one sitting.
                        The commit is prepared once in a cache folder (git archive and its own
                        npm ci; $IOT_BENCH_CACHE or ~/.cache/iot-playground-serverless), each
                        side's local stack runs in a process of its own, and the same driver
                        sends each scenario (batch 100, 10, 1 with keys, the front end's
                        shape, as fast as the clients allow) to both, alternating which goes
                        first. Prints each figure now, before and their ratio, with the spread.
  --rounds <n>          rounds of --against (default 2)
  --concurrency <n>     clients of --against (default 20)
`;

const parse = (argv: string[]) =>
  parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      requests: { type: 'string' },
      'load-samples': { type: 'string' },
      environments: { type: 'string' },
      out: { type: 'string' },
      compare: { type: 'string' },
      'cost-table': { type: 'string' },
      json: { type: 'boolean' },
      against: { type: 'string' },
      rounds: { type: 'string' },
      concurrency: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  }).values;

const positive = (name: string, raw: string): number => {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`--${name} must be a whole number ≥ 1`);
  return value;
};

const readResult = async (file: string): Promise<BenchResult> =>
  JSON.parse(await readFile(file, 'utf8')) as BenchResult;

const writeResult = async (
  values: ReturnType<typeof parse>,
  result: BenchResult | AgainstResult,
  print: (text: string) => void,
) => {
  const out =
    values.out ??
    join(repoRoot, 'load-tests/bench/results', `${result.startedAt.replace(/[:.]/g, '-')}.json`);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  print(`\nResult written to ${out}`);
  if (values.json) console.log(JSON.stringify(result));
};

/** `--against`: both sides' stacks up, warmed, then every scenario interleaved. */
const against = async (
  ref: string,
  values: ReturnType<typeof parse>,
  print: (text: string) => void,
) => {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const checkout = await checkoutRef(repoRoot, ref, { log });
  const quick = values.quick ? 4 : 1;
  const scenarios = COMPARED_SCENARIOS.map((s) => ({
    ...s,
    requests: values.requests
      ? positive('requests', values.requests)
      : Math.ceil(s.requests / quick),
  }));
  const environments = values.environments
    ? positive('environments', values.environments)
    : undefined;
  const start = (root: string, label: string) =>
    startStackProcess(root, environments ? { environments } : {}).then((stack) => ({
      ...stack,
      label,
    }));
  const now = await start(repoRoot, 'work tree');
  const before = await start(checkout.dir, `${ref} (${checkout.sha.slice(0, 12)})`).catch(
    async (error: unknown) => {
      await now.stop();
      throw error;
    },
  );
  try {
    log('Warming up both sides…');
    for (const stack of [now, before]) {
      const warmUp = await runSimulation({
        url: stack.url,
        readings: 200,
        batch: 10,
        concurrency: 8,
        user: 'bench',
      });
      await verifyStored({ url: stack.url, acceptedReadings: warmUp.acceptedReadings });
    }
    const result = await runInterleaved(
      { now, before },
      {
        scenarios,
        rounds: values.rounds ? positive('rounds', values.rounds) : 2,
        concurrency: values.concurrency ? positive('concurrency', values.concurrency) : 20,
        log,
      },
    );
    print(formatAgainst(result));
    const failures = integrityFailures(result);
    if (failures.length) print(`\nReadings lost or duplicated:\n${failures.join('\n')}`);
    await writeResult(values, result, print);
    if (failures.length) process.exitCode = 1;
  } finally {
    await Promise.all([now.stop(), before.stop()]);
  }
};

const main = async () => {
  const values = parse(process.argv.slice(2));
  if (values.help) return console.log(HELP);
  if (values['cost-table']) return console.log(costTable(await readResult(values['cost-table'])));
  // With --json, stdout holds the JSON alone (a pipe reads it whole); the tables go to stderr.
  const print = values.json
    ? (text: string) => process.stderr.write(`${text}\n`)
    : (text: string) => console.log(text);
  if (values.against) return against(values.against, values, print);

  const options: BenchOptions = {
    ...(values.quick ? QUICK : FULL),
    ...(values.requests ? { requests: positive('requests', values.requests) } : {}),
    ...(values['load-samples']
      ? { loadSamples: positive('load-samples', values['load-samples']) }
      : {}),
    ...(values.environments ? { environments: positive('environments', values.environments) } : {}),
    log: (line) => process.stderr.write(`${line}\n`),
  };
  const result = await runBench(options);
  print(formatBench(result));
  if (values.compare) print(`\n${formatComparison(result, await readResult(values.compare))}`);
  await writeResult(values, result, print);
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(`bench: ${(error as Error).message}`);
    process.exit(1);
  });
}
