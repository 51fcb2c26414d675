/**
 * `npm run bench:sensor-reads`: what reading stored readings back costs, by access path. Starts a
 * local stack in a process of its own (this work tree's, and with `--against <ref>` that
 * commit's too, one after the other), stores `runs` runs of `sensors` sensors each — the same
 * sensor ids in every run, as the front end's `sensor-1`…`sensor-5` are, a run every 20 minutes
 * over the last hours — then pages through each query and counts, from the stack's
 * `/local/stats`, the DynamoDB Queries and read units it took. A measurement, not a test: it
 * asserts only that every page answered and every stored reading came back.
 */
import { parseArgs } from 'node:util';
import { repoRoot } from '#infra/bundling.ts';
import { checkoutRef } from './checkout.ts';
import { startStackProcess, type StackProcess } from './stack-process-client.ts';

interface Shape {
  runs: number;
  sensors: number;
  /** Readings per sensor and run, one a second. */
  readings: number;
  /** Readings per request. */
  batch: number;
}

export interface QueryCost {
  query: string;
  pages: number;
  readings: number;
  queries: number;
  readUnits: number;
}

const RUN_SPACING_MS = 20 * 60_000;

/** The answers this reads: a run (`id`) or a page (`count`, `nextKey`). */
interface Answer {
  id?: string;
  count?: number;
  nextKey?: string;
}

const json = async (response: Response): Promise<Answer> => {
  const text = await response.text();
  if (!response.ok) throw new Error(`HTTP ${response.status}: ${text.slice(0, 300)}`);
  return (text === '' ? {} : JSON.parse(text)) as Answer;
};

/** Stores the shape's readings; returns the run ids, oldest first. */
const store = async (url: string, shape: Shape, now: number): Promise<string[]> => {
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    }).then(json);
  const runIds: string[] = [];
  for (let r = 0; r < shape.runs; r++) {
    const run = await post('/api/runs/start', { duration: 3600, interval: 1 });
    const runId = String(run.id);
    runIds.push(runId);
    const start = now - (shape.runs - r) * RUN_SPACING_MS;
    const readings = Array.from({ length: shape.readings }, (_, t) =>
      Array.from({ length: shape.sensors }, (_, s) => ({
        sensorId: `sensor-${s + 1}`,
        type: 'temperature',
        reading: r * 1000 + t,
        timestamp: new Date(start + t * 1000).toISOString(),
      })),
    ).flat();
    for (let i = 0; i < readings.length; i += shape.batch) {
      await post('/api/sensors/data', readings.slice(i, i + shape.batch), { 'X-Run-Id': runId });
    }
    await post(`/api/runs/${runId}/finish`, {});
  }
  return runIds;
};

/** Pages through `query` to its end; returns the pages and readings. */
const pageThrough = async (url: string, query: string) => {
  let pages = 0;
  let readings = 0;
  let nextKey: string | undefined;
  do {
    const body = await fetch(
      `${url}/api/sensors/data?${query}${nextKey ? `&nextKey=${nextKey}` : ''}`,
    ).then(json);
    pages++;
    readings += Number(body.count);
    nextKey = body.nextKey;
  } while (nextKey !== undefined);
  return { pages, readings };
};

const waitUntilStored = async (url: string, runIds: string[], perRun: number) => {
  const deadline = Date.now() + 300_000;
  for (const runId of runIds) {
    while ((await pageThrough(url, `runId=${runId}&limit=1000`)).readings < perRun) {
      if (Date.now() > deadline) throw new Error(`run ${runId} not stored within 5 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
};

export const measureSide = async (stack: StackProcess, shape: Shape): Promise<QueryCost[]> => {
  const now = Date.now();
  const runIds = await store(stack.url, shape, now);
  await waitUntilStored(stack.url, runIds, shape.sensors * shape.readings);
  const middle = runIds[Math.floor(runIds.length / 2)]!;
  const middleStart = now - (shape.runs - Math.floor(runIds.length / 2)) * RUN_SPACING_MS;
  const iso = (ms: number) => encodeURIComponent(new Date(ms).toISOString());
  const queries = [
    'sensorId=sensor-1&limit=100',
    'sensorId=sensor-1&limit=1000',
    // One run's minute of the sensor, out of all its runs.
    `sensorId=sensor-1&from=${iso(middleStart + 30_000)}&to=${iso(middleStart + 89_999)}&limit=100`,
    `runId=${middle}&sensorId=sensor-1&limit=100`,
    `runId=${middle}&limit=100`,
    `runId=${middle}&limit=1000`,
  ];
  const costs: QueryCost[] = [];
  for (const query of queries) {
    await stack.resetStats();
    const { pages, readings } = await pageThrough(stack.url, query);
    const stats = await stack.stats();
    costs.push({
      query: query.replace(middle, '<run>').replace(/from=[^&]*&to=[^&]*/, 'from=…&to=… (1 min)'),
      pages,
      readings,
      queries: stats.requests.dynamodb.Query ?? 0,
      readUnits: Math.round((stats.usage?.dynamodb?.readUnits ?? 0) * 10) / 10,
    });
  }
  return costs;
};

const format = (label: string, costs: QueryCost[]): string =>
  [
    `${label}`,
    '| query | pages | readings | Queries | read units | Queries / page | read units / 1,000 readings |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...costs.map(
      (c) =>
        `| \`${c.query}\` | ${c.pages} | ${c.readings} | ${c.queries} | ${c.readUnits} | ${(
          c.queries / c.pages
        ).toFixed(1)} | ${((c.readUnits * 1000) / Math.max(1, c.readings)).toFixed(1)} |`,
    ),
  ].join('\n');

const main = async () => {
  const { values } = parseArgs({
    options: {
      against: { type: 'string' },
      runs: { type: 'string', default: '10' },
      sensors: { type: 'string', default: '5' },
      readings: { type: 'string', default: '120' },
      batch: { type: 'string', default: '10' },
    },
    strict: true,
  });
  const shape: Shape = {
    runs: Number(values.runs),
    sensors: Number(values.sensors),
    readings: Number(values.readings),
    batch: Number(values.batch),
  };
  const root = repoRoot;
  const sides: [string, string][] = [['this work tree', root]];
  if (values.against !== undefined) {
    const checkout = await checkoutRef(root, values.against, { log: console.error });
    sides.push([`${values.against} (${checkout.sha.slice(0, 12)})`, checkout.dir]);
  }
  console.log(
    `${shape.runs} runs × ${shape.sensors} sensors × ${shape.readings} readings, ${shape.batch} a request\n`,
  );
  for (const [label, dir] of sides) {
    const stack = await startStackProcess(dir);
    try {
      console.log(`${format(label, await measureSide(stack, shape))}\n`);
    } finally {
      await stack.stop();
    }
  }
};

if (import.meta.url === `file://${process.argv[1]}`) await main();
