/**
 * Evaluates a generated panel's CloudWatch queries against what the local stack recorded, as
 * Grafana's CloudWatch datasource would against AWS: metric searches (builder mode), the Metrics
 * Insights subset of dashboards/model.ts, metric math (+ - * /, SUM, PERIOD), and Logs Insights
 * (`fields`, `filter`, `sort`, `limit`). What it cannot answer comes back as a note, which the
 * page shows on the panel.
 */
import {
  mathReferences,
  parseInsights,
  queryKind,
  type PanelJson,
  type Target,
} from '../../../dashboards/model.ts';
import type { LogLine, LogStore } from './recorder.ts';
import type { SecondPoint, Series, SeriesStore } from './series-store.ts';

export interface QueryWindow {
  fromMs: number;
  toMs: number;
  /** Seconds per data point. */
  periodS: number;
}

/** One line on a chart: a value (or a gap) per period from the window's start. */
export interface Frame {
  label: string;
  values: (number | null)[];
}

export interface PanelResult {
  /** Start of each period, epoch seconds; shared by every frame. */
  times?: number[];
  frames?: Frame[];
  table?: { fields: string[]; rows: string[][] };
  notes: string[];
}

/** Resolved variable values; `['*']` matches any value. */
export type VariableValues = Record<string, string[]>;

export interface Sources {
  series: SeriesStore;
  logs: LogStore;
}

class Unanswerable extends Error {}

/** Grafana's `$name` / `${name}` interpolation; multi-values joined by `,`. */
export const interpolate = (text: string, variables: VariableValues): string =>
  text.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced?: string, bare?: string) => {
    const values = variables[(braced ?? bare) as string];
    return values === undefined ? whole : values.join(',');
  });

/** Values a dimension may take: undefined = any. */
const allowedValues = (value: string | string[], variables: VariableValues) => {
  const raw = Array.isArray(value) ? value : [value];
  const resolved = raw.flatMap((v) => {
    const name = /^\$\{?(\w+)\}?$/.exec(v)?.[1];
    return name !== undefined && variables[name] ? variables[name] : [v];
  });
  return resolved.includes('*') ? undefined : new Set(resolved);
};

const emptyPoint = (): SecondPoint => ({
  count: 0,
  sum: 0,
  min: Infinity,
  max: -Infinity,
  values: [],
});

const merge = (into: SecondPoint, point: SecondPoint) => {
  into.count += point.count;
  into.sum += point.sum;
  into.min = Math.min(into.min, point.min);
  into.max = Math.max(into.max, point.max);
  into.values.push(...point.values);
};

const bucketCount = (window: QueryWindow) =>
  Math.max(1, Math.ceil((window.toMs - window.fromMs) / 1000 / window.periodS));

/** The series' points merged per period of the window. */
const bucketize = (series: Series[], window: QueryWindow): (SecondPoint | undefined)[] => {
  const buckets: (SecondPoint | undefined)[] = new Array(bucketCount(window)).fill(undefined);
  const fromS = Math.floor(window.fromMs / 1000);
  const toS = window.toMs / 1000;
  for (const s of series) {
    for (const [second, point] of s.points) {
      if (second < fromS || second >= toS) continue;
      const index = Math.floor((second - fromS) / window.periodS);
      merge((buckets[index] ??= emptyPoint()), point);
    }
  }
  return buckets;
};

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] as number;
};

const statistic = (name: string, point: SecondPoint | undefined): number | null => {
  if (!point || point.count === 0) return null;
  const p = /^p(\d+(?:\.\d+)?)$/i.exec(name);
  if (p) return percentile(point.values, Number(p[1]));
  switch (name.toUpperCase()) {
    case 'SUM':
      return point.sum;
    case 'AVERAGE':
    case 'AVG':
      return point.sum / point.count;
    case 'MAXIMUM':
    case 'MAX':
      return point.max;
    case 'MINIMUM':
    case 'MIN':
      return point.min;
    case 'SAMPLECOUNT':
    case 'COUNT':
      return point.count;
    default:
      throw new Unanswerable(`statistic ${name}`);
  }
};

/** `${PROP('Dim.X')}` → the dimension's value, as CloudWatch dynamic labels do. */
const labelFor = (
  template: string | undefined,
  fallback: string,
  dimensions: Record<string, string>,
) =>
  template
    ? template.replace(/\$\{PROP\('Dim\.(\w+)'\)\}/g, (_, key: string) => dimensions[key] ?? '')
    : fallback;

const search = (
  target: Target,
  sources: Sources,
  window: QueryWindow,
  variables: VariableValues,
): Frame[] => {
  const wanted = Object.entries(target.dimensions ?? {}).map(
    ([key, value]) => [key, allowedValues(value, variables)] as const,
  );
  const matching = sources.series
    .find(target.namespace ?? '', target.metricName ?? '')
    .filter((s) => {
      const keys = Object.keys(s.dimensions);
      if (target.matchExact !== false && keys.length !== wanted.length) return false;
      return wanted.every(([key, allowed]) => {
        const value = s.dimensions[key];
        return value !== undefined && (allowed === undefined || allowed.has(value));
      });
    })
    .sort((a, b) => JSON.stringify(a.dimensions).localeCompare(JSON.stringify(b.dimensions)));
  return matching.map((s) => ({
    label: labelFor(target.label, s.name, s.dimensions),
    values: bucketize([s], window).map((point) => statistic(target.statistic ?? 'Average', point)),
  }));
};

const insights = (
  target: Target,
  sources: Sources,
  window: QueryWindow,
  variables: VariableValues,
): Frame[] => {
  const sql = parseInsights(interpolate(target.sqlExpression ?? '', variables));
  if (!sql) throw new Unanswerable(`Metrics Insights query ${target.sqlExpression}`);
  const schema = [...sql.schema].sort().join(',');
  const groups = new Map<string, { dimensions: Record<string, string>; series: Series[] }>();
  for (const s of sources.series.find(sql.namespace, sql.metricName)) {
    if (Object.keys(s.dimensions).sort().join(',') !== schema) continue;
    if (!Object.entries(sql.where).every(([key, value]) => s.dimensions[key] === value)) continue;
    const dimensions = Object.fromEntries(sql.groupBy.map((key) => [key, s.dimensions[key] ?? '']));
    const key = JSON.stringify(dimensions);
    const group = groups.get(key) ?? { dimensions, series: [] };
    group.series.push(s);
    groups.set(key, group);
  }
  const frames = [...groups.values()].map((group) => ({
    label: labelFor(target.label, sql.metricName, group.dimensions),
    values: bucketize(group.series, window).map((point) => statistic(sql.statistic, point)),
  }));
  const total = (frame: Frame) => frame.values.reduce<number>((sum, v) => sum + (v ?? 0), 0);
  frames.sort((a, b) => total(b) - total(a) || a.label.localeCompare(b.label));
  return sql.limit === undefined ? frames : frames.slice(0, sql.limit);
};

type MathValue = number | Frame[];

/** Metric math: numbers, query ids, + - * /, parentheses, SUM(x) and PERIOD(x). */
const evaluateMath = (
  expression: string,
  results: Map<string, Frame[]>,
  window: QueryWindow,
  size: number,
): Frame[] => {
  const tokens = expression.match(/\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*|[-+*/()]/g) ?? [];
  let position = 0;
  const peek = () => tokens[position];
  const take = () => tokens[position++];

  const combine = (a: MathValue, b: MathValue, op: (x: number, y: number) => number): MathValue => {
    if (typeof a === 'number' && typeof b === 'number') return op(a, b);
    const apply = (x: number | null, y: number | null) =>
      x === null || y === null ? null : op(x, y);
    if (typeof a === 'number')
      return (b as Frame[]).map((f) => ({
        label: f.label,
        values: f.values.map((v) => apply(a, v)),
      }));
    if (typeof b === 'number')
      return a.map((f) => ({ label: f.label, values: f.values.map((v) => apply(v, b)) }));
    if (a.length === 0 || b.length === 0) return [];
    if (a.length !== 1 && b.length !== 1 && a.length !== b.length)
      throw new Unanswerable(`math over ${a.length} and ${b.length} series`);
    const count = Math.max(a.length, b.length);
    return Array.from({ length: count }, (_, i) => {
      const fa = a[a.length === 1 ? 0 : i] as Frame;
      const fb = b[b.length === 1 ? 0 : i] as Frame;
      return { label: fa.label, values: fa.values.map((v, j) => apply(v, fb.values[j] ?? null)) };
    });
  };

  const primary = (): MathValue => {
    const token = take();
    if (token === undefined) throw new Unanswerable(`math ${expression}`);
    if (token === '(') {
      const value = sum();
      take();
      return value;
    }
    if (token === '-') return combine(-1, primary(), (x, y) => x * y);
    if (/^\d/.test(token)) return Number(token);
    if (peek() === '(') {
      take();
      const argument = sum();
      take();
      switch (token.toUpperCase()) {
        case 'SUM': {
          if (typeof argument === 'number') return argument;
          if (argument.length === 0) return [];
          const values = Array.from({ length: size }, (_, i) => {
            const present = argument.map((f) => f.values[i]).filter((v): v is number => v != null);
            return present.length === 0 ? null : present.reduce((x, y) => x + y, 0);
          });
          return [{ label: 'SUM', values }];
        }
        case 'PERIOD':
          return window.periodS;
        default:
          throw new Unanswerable(`metric math function ${token}`);
      }
    }
    const referenced = results.get(token);
    if (!referenced) throw new Unanswerable(`metric math reference ${token}`);
    return referenced;
  };
  const product = (): MathValue => {
    let value = primary();
    while (peek() === '*' || peek() === '/') {
      const op = take();
      value = combine(
        value,
        primary(),
        op === '*' ? (x, y) => x * y : (x, y) => (y === 0 ? NaN : x / y),
      );
    }
    return value;
  };
  const sum = (): MathValue => {
    let value = product();
    while (peek() === '+' || peek() === '-') {
      const op = take();
      value = combine(value, product(), op === '+' ? (x, y) => x + y : (x, y) => x - y);
    }
    return value;
  };
  const value = sum();
  if (position !== tokens.length) throw new Unanswerable(`math ${expression}`);
  const frames =
    typeof value === 'number' ? [{ label: '', values: new Array(size).fill(value) }] : value;
  return frames.map((f) => ({
    ...f,
    values: f.values.map((v) => (v === null || Number.isNaN(v) ? null : v)),
  }));
};

/** Logs Insights subset: `fields`, `filter f = "v"`, `filter f like /re/`, `sort`, `limit`. */
const logsQuery = (
  target: Target,
  logs: LogStore,
  window: QueryWindow,
  variables: VariableValues,
) => {
  const groups = allowedValues(target.logGroupNames ?? ['*'], variables);
  let lines: LogLine[] = logs
    .list()
    .filter((line) => line.timestamp >= window.fromMs && line.timestamp <= window.toMs)
    .filter((line) => groups === undefined || groups.has(line.logGroup));
  const parsed = new Map<LogLine, Record<string, unknown>>();
  const field = (line: LogLine, name: string): string => {
    if (name === '@timestamp') return new Date(line.timestamp).toISOString();
    if (name === '@message') return line.message;
    if (name === '@log') return line.logGroup;
    if (!parsed.has(line)) {
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(line.message) as Record<string, unknown>;
      } catch {
        // A plain text line has only @message.
      }
      parsed.set(line, json);
    }
    const value = parsed.get(line)?.[name];
    return value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  };
  let fields = ['@timestamp', '@message'];
  let descending = true;
  let limit = 1000;
  for (const command of interpolate(target.expression ?? '', variables)
    .split('|')
    .map((c) => c.trim())) {
    const [verb = '', ...rest] = command.split(/\s+/);
    const argument = rest.join(' ');
    switch (verb) {
      case 'fields':
        fields = argument.split(',').map((f) => f.trim());
        break;
      case 'filter': {
        const equals = /^([@\w.]+)\s*=\s*["']([^"']*)["']$/.exec(argument);
        const like = /^([@\w.]+)\s+like\s+\/(.*)\/$/.exec(argument);
        if (equals) lines = lines.filter((line) => field(line, equals[1] as string) === equals[2]);
        else if (like) {
          const pattern = new RegExp(like[2] as string);
          lines = lines.filter((line) => pattern.test(field(line, like[1] as string)));
        } else throw new Unanswerable(`Logs Insights filter ${argument}`);
        break;
      }
      case 'sort':
        descending = /desc$/i.test(argument);
        break;
      case 'limit':
        limit = Number(argument);
        break;
      case '':
        break;
      default:
        throw new Unanswerable(`Logs Insights command ${verb}`);
    }
  }
  const ordered = descending ? [...lines].reverse() : lines;
  return {
    fields,
    rows: ordered.slice(0, limit).map((line) => fields.map((name) => field(line, name))),
  };
};

/** The panel's visible results: charts' frames or a table of log fields, plus notes. */
export const evaluatePanel = (
  panel: PanelJson,
  sources: Sources,
  window: QueryWindow,
  variables: VariableValues,
): PanelResult => {
  const targets = panel.targets ?? [];
  const results = new Map<string, Frame[]>();
  const notes: string[] = [];
  const cannot = (target: Target, error: unknown) => {
    if (!(error instanceof Unanswerable)) throw error;
    notes.push(`The local stack cannot answer query ${target.refId}: ${error.message}.`);
  };
  const size = bucketCount(window);
  let table: PanelResult['table'];

  for (const target of targets) {
    try {
      const kind = queryKind(target);
      if (kind === 'search')
        results.set(target.id ?? target.refId, search(target, sources, window, variables));
      if (kind === 'insights')
        results.set(target.id ?? target.refId, insights(target, sources, window, variables));
      if (kind === 'logs') table = logsQuery(target, sources.logs, window, variables);
    } catch (error) {
      cannot(target, error);
    }
  }
  // Math may refer to other math: evaluate whatever has its references ready, until done.
  let pending = targets.filter((t) => queryKind(t) === 'math');
  while (pending.length > 0) {
    const ready = pending.filter((t) =>
      mathReferences(t.expression ?? '').every((id) => results.has(id)),
    );
    if (ready.length === 0) {
      pending.forEach((t) => cannot(t, new Unanswerable(`metric math ${t.expression}`)));
      break;
    }
    for (const target of ready) {
      try {
        const frames = evaluateMath(target.expression ?? '', results, window, size);
        results.set(
          target.id ?? target.refId,
          frames.map((f) => ({ ...f, label: target.label ?? f.label })),
        );
      } catch (error) {
        cannot(target, error);
        results.set(target.id ?? target.refId, []);
      }
    }
    pending = pending.filter((t) => !ready.includes(t));
  }

  if (table) return { table, notes };
  const fromS = Math.floor(window.fromMs / 1000);
  return {
    times: Array.from({ length: size }, (_, i) => fromS + i * window.periodS),
    frames: targets
      .filter((t) => !t.hide && queryKind(t) !== 'logs')
      .flatMap((t) => results.get(t.id ?? t.refId) ?? []),
    notes,
  };
};
