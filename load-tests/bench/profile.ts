/**
 * Where a stack's time goes, from the V8 CPU profiles its process and every worker thread write
 * (`node --cpu-prof`): samples within given windows of the monotonic clock (the profiles' clock,
 * and `process.hrtime`'s), attributed to source files — inside a Lambda bundle through the
 * bundle's source map, so `ingest>shared/reading-pack.ts` or `ingest>@smithy/core` rather than
 * an offset into minified code. Used by `npm run bench -- --against <ref> --profile <dir>`.
 *
 * Samples are the profiler's: on a busy machine a thread waiting for a core is sampled too, so
 * compare shares between two sides measured alike, not milliseconds with CPU time.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SourceMapConsumer } from 'source-map-js';

/** A span of the monotonic clock, in microseconds (`process.hrtime.bigint() / 1000n`). */
export interface Window {
  startUs: number;
  endUs: number;
}

interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where a file lives, shortened: a package's name, or a path from the checkout's root. */
export const shortSource = (source: string): string => {
  const path = source.replace(/^file:\/\//, '');
  const packageName = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (packageName) return packageName[1]!;
  const project = /(?:^|\/)((?:services|shared|infra|load-tests|dashboards|test)\/.*)$/.exec(path);
  if (project) return project[1]!;
  return path || '(native)';
};

/** A profile's samples within `windows`: each sample's frame and how long it lasted (ms). */
const samplesWithin = (
  profile: CpuProfile,
  windows: readonly Window[],
): { frame: CpuProfile['nodes'][number]['callFrame']; ms: number }[] => {
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const inWindow = (us: number) => windows.some((w) => us >= w.startUs && us <= w.endUs);
  const samples: { frame: CpuProfile['nodes'][number]['callFrame']; ms: number }[] = [];
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    const frame = frames.get(id);
    if (!frame || frame.functionName === '(idle)' || !inWindow(at)) return;
    samples.push({ frame, ms: (profile.timeDeltas[i + 1] ?? 0) / 1000 });
  });
  return samples;
};

const profilesIn = (dir: string): CpuProfile[] =>
  readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as CpuProfile);

/** The local stack's bundles: `<tmp>/iot-playground-local/<pid>/<function>.mjs`. */
const bundleOf = (url: string): string | undefined =>
  /iot-playground-local\/\d+\/([\w-]+)\.mjs$/.exec(url)?.[1];

/** Milliseconds sampled per source, over every profile in `dir`, within `windows`. */
export const profileBySource = (
  dir: string,
  windows: readonly Window[],
  bundlesDir?: string,
): Map<string, number> => {
  const maps = new Map<string, SourceMapConsumer | undefined>();
  const mapOf = (bundle: string) => {
    if (!maps.has(bundle)) {
      const file = bundlesDir && join(bundlesDir, `${bundle}.mjs.map`);
      maps.set(
        bundle,
        file && existsSync(file)
          ? new SourceMapConsumer(JSON.parse(readFileSync(file, 'utf8')))
          : undefined,
      );
    }
    return maps.get(bundle);
  };
  const totals = new Map<string, number>();
  for (const profile of profilesIn(dir)) {
    for (const { frame, ms } of samplesWithin(profile, windows)) {
      const bundle = bundleOf(frame.url);
      let source = frame.url === '' ? frame.functionName : shortSource(frame.url);
      if (bundle) {
        const original = mapOf(bundle)?.originalPositionFor({
          line: frame.lineNumber + 1,
          column: frame.columnNumber,
        });
        source = `${bundle}>${original?.source ? shortSource(original.source) : '?'}`;
      }
      totals.set(source, (totals.get(source) ?? 0) + ms);
    }
  }
  return totals;
};

/**
 * Milliseconds sampled per thread kind: `main` (the gateway, SQS, the invoker and the meter),
 * and each worker thread named by the bundle it spends most time in (a function, or
 * `dynamodb`: dynalite and its proxy). Threads of one function are added up.
 */
export const profileByThread = (dir: string, windows: readonly Window[]): Map<string, number> => {
  const totals = new Map<string, number>();
  for (const profile of profilesIn(dir)) {
    const samples = samplesWithin(profile, windows);
    const byBundle = new Map<string, number>();
    for (const { frame, ms } of samples) {
      const bundle = bundleOf(frame.url);
      if (bundle) byBundle.set(bundle, (byBundle.get(bundle) ?? 0) + ms);
    }
    const thread = [...byBundle].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'main';
    const ms = samples.reduce((sum, sample) => sum + sample.ms, 0);
    totals.set(thread, (totals.get(thread) ?? 0) + ms);
  }
  return totals;
};

/** The sources taking most time on either side, as a Markdown table with each side's share. */
export const formatProfiles = (
  sides: { label: string; bySource: Map<string, number> }[],
  top = 25,
): string => {
  const totals = sides.map((side) => [...side.bySource.values()].reduce((a, b) => a + b, 0));
  const sources = new Set(
    sides.flatMap((side) =>
      [...side.bySource]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([source]) => source),
    ),
  );
  const share = (side: number, source: string) =>
    `${((100 * (sides[side]!.bySource.get(source) ?? 0)) / (totals[side] || 1)).toFixed(1)} %`;
  const rows = [...sources]
    .sort((a, b) => (sides[0]!.bySource.get(b) ?? 0) - (sides[0]!.bySource.get(a) ?? 0))
    .map((source) => `| ${source} | ${sides.map((_, i) => share(i, source)).join(' | ')} |`);
  return [
    `| source | ${sides.map((s, i) => `${s.label} (${Math.round(totals[i]!)} ms sampled)`).join(' | ')} |`,
    `| --- | ${sides.map(() => '---').join(' | ')} |`,
    ...rows,
  ].join('\n');
};
