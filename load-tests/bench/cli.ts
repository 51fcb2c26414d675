/** `npm run bench`: see `--help`. A benchmark, never a timed unit test. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { repoRoot } from '#infra/bundling.ts';
import { FULL, QUICK, runBench, type BenchOptions, type BenchResult } from './bench.ts';
import { costTable, formatBench, formatComparison } from './report.ts';

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

const main = async () => {
  const values = parse(process.argv.slice(2));
  if (values.help) return console.log(HELP);
  if (values['cost-table']) return console.log(costTable(await readResult(values['cost-table'])));

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
  // With --json, stdout holds the JSON alone (a pipe reads it whole); the tables go to stderr.
  const print = values.json
    ? (text: string) => process.stderr.write(`${text}\n`)
    : (text: string) => console.log(text);
  print(formatBench(result));
  if (values.compare) print(`\n${formatComparison(result, await readResult(values.compare))}`);
  const out =
    values.out ??
    join(repoRoot, 'load-tests/bench/results', `${result.startedAt.replace(/[:.]/g, '-')}.json`);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  print(`\nResult written to ${out}`);
  if (values.json) console.log(JSON.stringify(result));
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(`bench: ${(error as Error).message}`);
    process.exit(1);
  });
}
