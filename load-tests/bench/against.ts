/**
 * `npm run bench -- --against <git ref>`: the work tree and another commit side by side, in one
 * sitting — the only comparison that holds on a machine whose speed drifts by a third within a
 * day. Each side's local stack runs in a process of its own, built from its own checkout (the
 * ref's in a cached folder with its own `npm ci`); one driver, this tree's simulator engine,
 * sends each scenario to both sides, alternating which goes first (A B, then B A, …), so drift
 * falls on both alike. Every figure is measured the same way on both sides: throughput and
 * latency at the driver, storage by the stack's queue draining (`/local/stats`), and the stack
 * process's CPU time.
 */
import { runSimulation } from '../simulator/engine.ts';
import { verifyStored } from '../simulator/verify.ts';
import type { Window } from './profile.ts';
import type { StackProcess } from './stack-process-client.ts';

export interface ComparedScenario {
  name: string;
  batch: number;
  /** Requests per run of the scenario (readings = requests × batch). */
  requests: number;
  /** The front end's shape: no Idempotency-Key, no client timestamp. */
  frontEnd?: boolean;
}

/**
 * The scenarios of issue 29's table, each as fast as the clients allow: batch 100 and batch 1
 * with keys (the simulator's shape), and the front end's (one reading, no key, no timestamp).
 * Each is sized to send for about ten seconds: the stored rate ends when the consumer's batching
 * window (1 s, the least Lambda allows for batches over ten) lets the last readings through, and
 * over a run of two or three seconds that one tail decided the ratio against a side that waits it
 * (this tree against b076b5d, which took ten messages without a window: 0.85–0.88 stored at
 * 1,000 one-reading requests, 1.05–1.28 at 4,000).
 */
export const COMPARED_SCENARIOS: readonly ComparedScenario[] = [
  { name: 'batch 100', batch: 100, requests: 600 },
  { name: 'batch 10', batch: 10, requests: 2500 },
  { name: 'batch 1 with keys', batch: 1, requests: 4000 },
  { name: "front end's shape", batch: 1, requests: 4000, frontEnd: true },
];

export interface SideFigures {
  acceptedReadingsPerSecond: number;
  acceptedRequestsPerSecond: number;
  storedReadingsPerSecond: number;
  storedRequestsPerSecond: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU of the stack's process per request (the driver's own CPU is not in it). */
  stackCpuMsPerRequest?: number;
  writeUnitsPer1000Readings?: number;
  /** CloudWatch Logs bytes the functions wrote (EMF and other lines), KB per 1,000 readings. */
  logKbPer1000Readings?: number;
  lost: number;
  duplicated: number;
  /** When it sent and stored (the monotonic clock), for profiles; not a figure. */
  window?: Window;
}

export interface Figure {
  key: keyof SideFigures;
  label: string;
  better: 'higher' | 'lower';
}

export const FIGURES: readonly Figure[] = [
  { key: 'storedReadingsPerSecond', label: 'stored readings/s', better: 'higher' },
  { key: 'storedRequestsPerSecond', label: 'stored requests/s', better: 'higher' },
  { key: 'acceptedRequestsPerSecond', label: 'accepted requests/s', better: 'higher' },
  { key: 'meanMs', label: 'mean ms', better: 'lower' },
  { key: 'p50Ms', label: 'p50 ms', better: 'lower' },
  { key: 'p99Ms', label: 'p99 ms', better: 'lower' },
  { key: 'stackCpuMsPerRequest', label: 'stack CPU ms/request', better: 'lower' },
  { key: 'writeUnitsPer1000Readings', label: 'write units/1,000 readings', better: 'lower' },
  { key: 'logKbPer1000Readings', label: 'log KB/1,000 readings', better: 'lower' },
];

const QUEUE_POLL_MS = 25;

/** When the measurement queue last held no message, visible, in flight or delayed. */
const drained = async (stack: StackProcess, timeoutMs: number): Promise<number> => {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const {
      visible,
      inFlight,
      delayed = 0,
    } = (await stack.stats()).queues.measurements ?? {
      visible: 0,
      inFlight: 0,
    };
    if (visible + inFlight + delayed === 0) return performance.now();
    if (performance.now() > deadline) throw new Error('The queue did not drain in time');
    await new Promise((resolve) => setTimeout(resolve, QUEUE_POLL_MS));
  }
};

const round1 = (value: number) => Math.round(value * 10) / 10;
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/** One run of a scenario against one side: sends, waits for storage, reads everything back. */
export const measureScenario = async (
  stack: StackProcess,
  scenario: ComparedScenario,
  concurrency: number,
): Promise<SideFigures> => {
  await stack.resetStats();
  const cpuBefore = await stack.cpuMs();
  const startUs = monotonicUs();
  const started = performance.now();
  const { report, acceptedReadings, identify } = await runSimulation({
    url: stack.url,
    readings: scenario.requests * scenario.batch,
    batch: scenario.batch,
    concurrency,
    sensors: scenario.frontEnd ? 5 : 20,
    user: 'bench',
    ...(scenario.frontEnd ? { idempotencyKeys: false, clientTimestamps: false } : {}),
  });
  const storedAt = await drained(stack, 120_000);
  const window = { startUs, endUs: monotonicUs() };
  const cpuAfter = await stack.cpuMs();
  const stats = await stack.stats();
  const verified = await verifyStored({
    url: stack.url,
    acceptedReadings,
    identify,
    timeoutMs: 60_000,
  });
  const storingSeconds = (storedAt - started) / 1000;
  const sendingSeconds = report.sendingMs / 1000;
  const writeUnits = stats.usage?.dynamodb?.writeUnits;
  const logs = stats.usage?.logs;
  const logBytes =
    logs?.emfBytes === undefined ? undefined : logs.emfBytes + (logs.otherBytes ?? 0);
  return {
    acceptedReadingsPerSecond: round1(report.accepted / sendingSeconds),
    acceptedRequestsPerSecond: round1(report.requests / sendingSeconds),
    storedReadingsPerSecond: round1(verified.stored / storingSeconds),
    storedRequestsPerSecond: round1(report.requests / storingSeconds),
    meanMs: report.latencyMs.mean,
    p50Ms: report.latencyMs.p50,
    p99Ms: report.latencyMs.p99,
    ...(cpuBefore === undefined || cpuAfter === undefined
      ? {}
      : { stackCpuMsPerRequest: round1((cpuAfter - cpuBefore) / report.requests) }),
    ...(writeUnits === undefined
      ? {}
      : { writeUnitsPer1000Readings: round1((writeUnits * 1000) / report.accepted) }),
    ...(logBytes === undefined ? {} : { logKbPer1000Readings: round1(logBytes / report.accepted) }),
    lost: verified.lost,
    duplicated: verified.duplicated,
    window,
  };
};

export interface SideResults {
  label: string;
  runs: Record<string, SideFigures[]>;
}

export interface AgainstResult {
  kind: 'iot-playground-bench-against';
  startedAt: string;
  now: SideResults;
  before: SideResults;
  rounds: number;
  concurrency: number;
  scenarios: readonly ComparedScenario[];
}

/**
 * Both sides, scenario by scenario, `rounds` times: round r runs `now` first when r is even and
 * `before` first when odd, so neither side always runs on a machine the other has just warmed
 * or heated.
 */
export const runInterleaved = async (
  sides: { now: StackProcess & { label: string }; before: StackProcess & { label: string } },
  options: {
    scenarios: readonly ComparedScenario[];
    rounds: number;
    concurrency: number;
    measure?: typeof measureScenario;
    log?: (line: string) => void;
  },
): Promise<AgainstResult> => {
  const measure = options.measure ?? measureScenario;
  const now: SideResults = { label: sides.now.label, runs: {} };
  const before: SideResults = { label: sides.before.label, runs: {} };
  const startedAt = new Date().toISOString();
  for (let round = 0; round < options.rounds; round++) {
    for (const scenario of options.scenarios) {
      const order =
        round % 2 === 0
          ? ([
              [sides.now, now],
              [sides.before, before],
            ] as const)
          : ([
              [sides.before, before],
              [sides.now, now],
            ] as const);
      for (const [stack, results] of order) {
        options.log?.(`Round ${round + 1}, ${scenario.name}, ${results.label}…`);
        const figures = await measure(stack, scenario, options.concurrency);
        (results.runs[scenario.name] ??= []).push(figures);
      }
    }
  }
  return {
    kind: 'iot-playground-bench-against',
    startedAt,
    now,
    before,
    rounds: options.rounds,
    concurrency: options.concurrency,
    scenarios: options.scenarios,
  };
};

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

export interface ComparedFigure {
  scenario: string;
  figure: string;
  better: Figure['better'];
  now: number[];
  before: number[];
  /** Median now ÷ median before. */
  ratio: number;
}

export const compareFigures = (result: AgainstResult): ComparedFigure[] =>
  result.scenarios.flatMap((scenario) =>
    FIGURES.flatMap((figure) => {
      const values = (side: SideResults) =>
        (side.runs[scenario.name] ?? [])
          .map((run) => run[figure.key])
          .filter((value): value is number => typeof value === 'number');
      const now = values(result.now);
      const before = values(result.before);
      if (!now.length || !before.length) return [];
      const ratio = median(now) / median(before);
      return [
        {
          scenario: scenario.name,
          figure: figure.label,
          better: figure.better,
          now,
          before,
          ratio: Math.round(ratio * 100) / 100,
        },
      ];
    }),
  );

const spread = (values: number[]) => {
  const low = Math.min(...values);
  const high = Math.max(...values);
  return low === high ? `${low}` : `${low}–${high}`;
};

/** Lost or duplicated readings on either side: the figures beside them cannot be trusted. */
export const integrityFailures = (result: AgainstResult): string[] =>
  [result.now, result.before].flatMap((side) =>
    Object.entries(side.runs).flatMap(([scenario, runs]) =>
      runs
        .filter((run) => run.lost || run.duplicated)
        .map((run) => `${side.label}, ${scenario}: ${run.lost} lost, ${run.duplicated} duplicated`),
    ),
  );

export const formatAgainst = (result: AgainstResult): string => {
  const rows = compareFigures(result).map(
    (c) =>
      `| ${c.scenario} | ${c.figure} | ${spread(c.now)} | ${spread(c.before)} | ${c.ratio.toFixed(2)} | ${c.better} |`,
  );
  return [
    `${result.now.label} against ${result.before.label}: ${result.rounds} rounds, ${result.concurrency} clients, started ${result.startedAt}`,
    '',
    `| scenario | figure | now | before | now ÷ before | better when |`,
    `| --- | --- | --- | --- | --- | --- |`,
    ...rows,
  ].join('\n');
};
