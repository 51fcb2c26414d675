/** The benchmark's result as tables, as ratios to an earlier result, and as docs/costs.md's cost block. */
import { costOf, PRICES } from '#shared/prices.ts';
import { billedPerMillion, type BenchResult, type ScenarioResult } from './bench.ts';

const row = (cells: readonly (string | number)[]) => `| ${cells.join(' | ')} |`;
const kb = (bytes: number) => (bytes / 1024).toFixed(0);
const money = (usd: number) => `$${usd.toFixed(usd < 0.1 ? 3 : 2)}`;
const total = (values: Record<string, number>) =>
  Math.round(Object.values(values).reduce((a, b) => a + b, 0) * 1000) / 1000;

/** A Markdown table: the header, its rule, and a row of cells per item. */
const table = <T>(
  header: readonly string[],
  items: readonly T[],
  cells: (item: T) => readonly (string | number)[],
): string =>
  [row(header), row(header.map(() => '---')), ...items.map((item) => row(cells(item)))].join('\n');

/** A scenario's name in the tables: its batch size, and the shape when it is the front end's. */
const scenarioName = (s: Pick<ScenarioResult, 'batch' | 'shape'>) =>
  s.shape ? `${s.batch} (${s.shape})` : String(s.batch);

const LATENCY = ['p50 ms', 'p95 ms', 'p99 ms'];
const latencies = ({ latencyMs }: Pick<ScenarioResult, 'latencyMs'>) => [
  latencyMs.p50,
  latencyMs.p95,
  latencyMs.p99,
];

export const scenarioTable = (scenarios: ScenarioResult[]): string =>
  table(
    [
      'batch',
      'readings',
      'accepted/s',
      'stored/s',
      ...LATENCY,
      'CPU ms/request',
      'lost',
      'dup',
      'read back/s',
      '$/M readings',
    ],
    scenarios,
    (s) => [
      scenarioName(s),
      s.accepted,
      s.acceptedPerSecond,
      s.storedPerSecond,
      ...latencies(s),
      s.cpuMsPerRequest ?? '–',
      s.lost,
      s.duplicated,
      s.readBack?.readingsPerSecond ?? '–',
      money(s.costPerMillionUsd),
    ],
  );

export const requestsTable = (scenarios: ScenarioResult[]): string =>
  table(
    [
      'batch',
      'API req',
      'Lambda inv',
      'GB-s (CPU)',
      'GB-s (wall)',
      'SQS req',
      'DynamoDB req',
      'write units',
      'read units',
      'EMF KB',
      'other log KB',
    ],
    scenarios,
    ({ per1000Readings: p, ...s }) => [
      scenarioName(s),
      p.apiRequests,
      total(p.lambdaInvocations),
      p.lambdaGbSeconds,
      p.lambdaWallGbSeconds ?? '–',
      total(p.sqs),
      total(p.dynamoDb),
      p.dynamoDbWriteUnits,
      p.dynamoDbReadUnits,
      kb(p.emfBytes),
      kb(p.otherLogBytes),
    ],
  );

export const capacityTable = (scenarios: ScenarioResult[]): string =>
  table(
    [
      'batch',
      'API throttle',
      'consumers',
      'table quota',
      'stage: readings/s (requests/s)',
      'one run',
      'one sensor',
    ],
    scenarios,
    ({ capacity, ...s }) => [
      scenarioName(s),
      capacity.apiThrottleReadingsPerSecond,
      capacity.consumerReadingsPerSecond,
      capacity.tableQuotaReadingsPerSecond,
      `${capacity.stage.readingsPerSecond} (${capacity.stage.requestsPerSecond}), ${capacity.stage.by}`,
      capacity.oneRunReadingsPerSecond,
      capacity.oneSensorReadingsPerSecond,
    ],
  );

export const bundleTable = (result: BenchResult): string =>
  table(['function', 'bundle KB', 'cold module load ms (median)'], result.bundles, (b) => [
    b.function,
    kb(b.bytes),
    b.coldLoadMsMedian,
  ]);

export const pacedTable = (result: BenchResult): string =>
  table(
    ['batch', 'keys', 'target readings/s', 'accepted/s', ...LATENCY, 'lost', 'dup'],
    result.paced ?? [],
    (p) => [
      p.batch,
      p.idempotencyKeys === false ? 'no' : 'yes',
      p.readingsPerSecond,
      p.acceptedPerSecond,
      ...latencies(p),
      p.lost,
      p.duplicated,
    ],
  );

export const formatBench = (result: BenchResult): string =>
  [
    `Benchmark ${result.startedAt} — ${result.machine.cpus} CPUs, Node ${result.machine.node}`,
    '',
    scenarioTable(result.scenarios),
    '',
    'AWS requests per 1,000 readings:',
    '',
    requestsTable(result.scenarios),
    '',
    'Readings/s the topology allows on AWS (arithmetic):',
    '',
    capacityTable(result.scenarios),
    '',
    'Latency at a fixed rate (half the local targets), on the warm stack:',
    '',
    pacedTable(result),
    '',
    bundleTable(result),
  ].join('\n');

const ratio = (now: number, before: number) =>
  before === 0 ? (now === 0 ? '1.00' : 'new') : (now / before).toFixed(2);

/** Pairs of what `now` and `before` both have, matched by `key`. */
const matched = <T>(now: readonly T[], before: readonly T[], key: (item: T) => string) =>
  now.flatMap((item) => {
    const earlier = before.find((old) => key(old) === key(item));
    return earlier ? [[item, earlier] as const] : [];
  });

/** Each figure as now / before, per scenario (matched by batch) and per bundle. */
export const formatComparison = (now: BenchResult, before: BenchResult): string =>
  [
    'Ratios now / before (higher is better for /s, worse for ms, $ and KB):',
    '',
    table(
      ['batch', 'accepted/s', 'stored/s', 'p50', 'p95', 'p99', '$/M'],
      matched(now.scenarios, before.scenarios, scenarioName),
      ([s, b]) => [
        scenarioName(s),
        ratio(s.acceptedPerSecond, b.acceptedPerSecond),
        ratio(s.storedPerSecond, b.storedPerSecond),
        ...latencies(s).map((ms, i) => ratio(ms, latencies(b)[i]!)),
        ratio(s.costPerMillionUsd, b.costPerMillionUsd),
      ],
    ),
    '',
    table(
      ['function', 'bundle KB', 'cold load ms'],
      matched(now.bundles, before.bundles, (bundle) => bundle.function),
      ([bundle, b]) => [
        bundle.function,
        ratio(bundle.bytes, b.bytes),
        ratio(bundle.coldLoadMsMedian, b.coldLoadMsMedian),
      ],
    ),
  ].join('\n');

export const COST_TABLE_START =
  '<!-- cost-table: generated by `npm run bench -- --cost-table load-tests/bench/baseline.json` -->';
export const COST_TABLE_END = '<!-- /cost-table -->';

/**
 * The README's cost block: the price list from `PRICES`, and the modeled cost per million
 * readings by service for each measured batch size of a benchmark result.
 */
export const costTable = (result: BenchResult): string => {
  const p = PRICES;
  const services = [
    ['API requests', 'api'],
    ['Lambda requests', 'lambdaRequests'],
    ['Lambda GB-s (from CPU time: a lower bound)', 'lambdaDuration'],
    ['SQS', 'sqs'],
    ['DynamoDB writes', 'dynamoDbWrites'],
    ['DynamoDB reads', 'dynamoDbReads'],
    ['CloudWatch logs (EMF + lines)', 'logs'],
  ] as const;
  const header = ['per million readings', ...result.scenarios.map((s) => `B = ${scenarioName(s)}`)];
  // Priced now, from the counts: a changed price changes the table without a new benchmark.
  const costs = result.scenarios.map((s) => costOf(billedPerMillion(s.per1000Readings)));
  return [
    COST_TABLE_START,
    `List prices (${p.region}, free tier ignored, ${p.hoursPerMonth} h a month; \`shared/prices.ts\`): HTTP API $${p.apiPerMillionRequests.toFixed(2)}/M requests; Lambda arm64 $${p.lambdaPerMillionRequests.toFixed(2)}/M requests + $${p.lambdaArmPerGbSecond}/GB-s; SQS $${p.sqsPerMillionRequests.toFixed(2)}/M requests (per 64 KiB); DynamoDB on demand $${p.dynamoDbPerMillionWriteUnits}/M write units, $${p.dynamoDbPerMillionReadUnits}/M read units; CloudWatch logs $${p.logsPerGbIngested.toFixed(2)}/GB, custom metric $${p.customMetricPerMonth.toFixed(2)}/month, alarm $${p.alarmPerMonth.toFixed(2)}/month; ALB $${p.albPerHour}/h; Fargate ARM $${p.fargateArmPerVcpuHour}/vCPU-h + $${p.fargateArmPerGbHour}/GB-h; public IPv4 $${p.publicIpv4PerHour}/h; a secret $${p.secretPerMonth.toFixed(2)}/month.`,
    '',
    table(header, services, ([label, key]) => [label, ...costs.map((cost) => money(cost[key]))]),
    row(['**total**', ...costs.map((cost) => `**${money(cost.total)}**`)]),
    COST_TABLE_END,
  ].join('\n');
};
