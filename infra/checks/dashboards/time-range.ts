/**
 * The time range and resolution a panel's queries carry, as Grafana's frontend computes them:
 * the dashboard's range, or the panel's relative time (`timeFrom`: from `now-<timeFrom>` to
 * `now`); `maxDataPoints` the panel's, else its width in pixels; `intervalMs` the range over
 * that, rounded as `@grafana/data` rangeutil.ts `calculateInterval` / `roundInterval` round it,
 * never below the panel's minimum interval.
 */
import type { PanelJson } from '#shared/dashboard-model/index.ts';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  M: 2_592_000_000,
  y: 31_536_000_000,
};

/** A duration as Grafana writes it (`30s`, `5m`, `1h`); a bare number is seconds. */
export const durationMs = (text: string): number | undefined => {
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const match = /^(\d+)(ms|[smhdwMy])$/.exec(text);
  return match ? Number(match[1]) * (UNIT_MS[match[2] as string] as number) : undefined;
};

/** Grafana's time syntax as the dashboards use it: epoch ms, `now` or `now-<duration>`. */
export const parseTime = (text: string, now: number): number | undefined => {
  if (/^\d+$/.test(text)) return Number(text);
  if (text === 'now') return now;
  const ago = /^now-(.+)$/.exec(text)?.[1];
  const ms = ago === undefined ? undefined : durationMs(ago);
  return ms === undefined ? undefined : now - ms;
};

/** `roundInterval` of rangeutil.ts: a "nice" interval at or below the raw one. */
const STEPS: [below: number, interval: number][] = [
  [10, 1],
  [15, 10],
  [35, 20],
  [75, 50],
  [150, 100],
  [350, 200],
  [750, 500],
  [1500, 1000],
  [3500, 2000],
  [7500, 5000],
  [12_500, 10_000],
  [17_500, 15_000],
  [25_000, 20_000],
  [45_000, 30_000],
  [90_000, 60_000],
  [210_000, 120_000],
  [450_000, 300_000],
  [750_000, 600_000],
  [1_050_000, 900_000],
  [1_500_000, 1_200_000],
  [2_700_000, 1_800_000],
  [5_400_000, 3_600_000],
  [9_000_000, 7_200_000],
  [16_200_000, 10_800_000],
  [32_400_000, 21_600_000],
  [86_400_000, 43_200_000],
  [604_800_000, 86_400_000],
  [1_814_400_000, 604_800_000],
  [3_628_800_000, 2_592_000_000],
];

export const roundInterval = (ms: number): number =>
  STEPS.find(([below]) => ms < below)?.[1] ?? 31_536_000_000;

/** Pixels per grid column when a 1,920-pixel-wide browser lays out Grafana's 24 columns. */
const COLUMN_PX = 1920 / 24;

export interface PanelRange {
  fromMs: number;
  toMs: number;
  intervalMs: number;
  maxDataPoints: number;
}

export const panelRange = (
  dashboard: { time?: { from: string; to: string } },
  panel: PanelJson & { maxDataPoints?: number; interval?: string },
  now: number,
  datasourceMinIntervalMs = 1,
): PanelRange | string => {
  const from = panel.timeFrom ? `now-${panel.timeFrom}` : (dashboard.time?.from ?? 'now-6h');
  const to = panel.timeFrom ? 'now' : (dashboard.time?.to ?? 'now');
  const fromMs = parseTime(from, now);
  const toMs = parseTime(to, now);
  if (fromMs === undefined || toMs === undefined)
    return `the check cannot read the time range ${from} to ${to}`;
  const maxDataPoints = panel.maxDataPoints ?? Math.round((panel.gridPos?.w ?? 24) * COLUMN_PX);
  const lowLimit =
    (panel.interval ? durationMs(panel.interval) : undefined) ?? datasourceMinIntervalMs;
  const intervalMs = Math.max(lowLimit, roundInterval((toMs - fromMs) / maxDataPoints));
  return { fromMs, toMs, intervalMs, maxDataPoints };
};
