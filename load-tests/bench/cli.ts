/** `npm run bench`: see `--help`. A benchmark, never a timed unit test. */
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { repoRoot } from '#infra/bundling.ts';
import {
  COMPARED_SCENARIOS,
  formatAgainst,
  measureScenario,
  integrityFailures,
  runInterleaved,
  type AgainstResult,
} from './against.ts';
import { FULL, QUICK, runBench, type BenchOptions, type BenchResult } from './bench.ts';
import { checkoutRef } from './checkout.ts';
import { formatProfiles, profileBySource, profileByThread } from './profile.ts';
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
  --scenario <name>     only this scenario of --against (repeatable), e.g. "batch 100"
  --profile <dir>       with --against: CPU profiles of both stacks (every thread) into <dir>,
                        and per scenario the source files taking most of each side's time
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
      scenario: { type: 'string', multiple: true },
      profile: { type: 'string' },
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
  const unknown = (values.scenario ?? []).filter(
    (name) => !COMPARED_SCENARIOS.some((s) => s.name === name),
  );
  if (unknown.length > 0) {
    throw new Error(
      `No scenario ${unknown.join(', ')}; there are ${COMPARED_SCENARIOS.map((s) => s.name).join(', ')}`,
    );
  }
  const chosen = COMPARED_SCENARIOS.filter(
    (s) => values.scenario === undefined || values.scenario.includes(s.name),
  );
  const scenarios = chosen.map((s) => ({
    ...s,
    requests: values.requests
      ? positive('requests', values.requests)
      : Math.ceil(s.requests / quick),
  }));
  const environments = values.environments
    ? positive('environments', values.environments)
    : undefined;
  const profileDir = values.profile && resolve(values.profile);
  const start = (root: string, label: string, side: 'now' | 'before') =>
    startStackProcess(root, {
      ...(environments ? { environments } : {}),
      ...(profileDir
        ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, side)}`] }
        : {}),
    }).then((stack) => ({ ...stack, label, side }));
  const now = await start(repoRoot, 'work tree', 'now');
  const before = await start(checkout.dir, `${ref} (${checkout.sha.slice(0, 12)})`, 'before').catch(
    async (error: unknown) => {
      await now.stop();
      throw error;
    },
  );
  let result: AgainstResult | undefined;
  try {
    log('Warming up both sides…');
    const concurrency = values.concurrency ? positive('concurrency', values.concurrency) : 20;
    for (const stack of [now, before]) {
      // As many clients as the scenarios use, so every execution environment they will need
      // has started (cold starts are not what the scenarios measure).
      await measureScenario(
        stack,
        { name: 'warm-up', batch: 1, requests: 10 * concurrency },
        concurrency,
      );
    }
    result = await runInterleaved(
      { now, before },
      {
        scenarios,
        rounds: values.rounds ? positive('rounds', values.rounds) : 2,
        concurrency,
        log,
      },
    );
    print(formatAgainst(result));
    const failures = integrityFailures(result);
    if (failures.length) print(`\nReadings lost or duplicated:\n${failures.join('\n')}`);
    await writeResult(values, result, print);
    if (failures.length) process.exitCode = 1;
  } finally {
    // A bundle's source map lets its profile name the sources; the stack removes them later.
    if (profileDir) {
      await Promise.all(
        [now, before].map((stack) =>
          cp(
            join(tmpdir(), 'iot-playground-local', String(stack.pid)),
            join(profileDir, stack.side, 'bundles'),
            {
              recursive: true,
            },
          ).catch(() => undefined),
        ),
      );
    }
    await Promise.all([now.stop(), before.stop()]);
  }
  if (profileDir && result) printProfiles(result, profileDir, print);
};

/** Per scenario, the threads and sources taking most of each side's sampled time in its runs. */
const printProfiles = (result: AgainstResult, dir: string, print: (text: string) => void) => {
  for (const scenario of result.scenarios) {
    const windowsOf = (side: 'now' | 'before') =>
      (result[side].runs[scenario.name] ?? []).flatMap((run) => (run.window ? [run.window] : []));
    const sides = (['now', 'before'] as const).map((side) => ({
      label: result[side].label,
      byThread: profileByThread(join(dir, side), windowsOf(side)),
      bySource: profileBySource(join(dir, side), windowsOf(side), join(dir, side, 'bundles')),
    }));
    print(
      `\nWhere the time went, ${scenario.name} (profiles in ${dir}), by thread:\n` +
        formatProfiles(sides.map(({ label, byThread }) => ({ label, bySource: byThread }))) +
        `\n\nby source:\n${formatProfiles(sides)}`,
    );
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
