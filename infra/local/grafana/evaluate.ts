/**
 * Evaluates a generated panel's CloudWatch queries against what the local stack recorded, by the
 * rules Grafana's CloudWatch datasource and CloudWatch apply, and refuses what they refuse with
 * the error Grafana would show on the panel (conformance.test.ts cites each rule's source):
 * - which queries Grafana sends (filterMetricsQuery, src/utils/utils.ts) and how it builds them
 *   (pkg/cloudwatch/metric_data_query_builder.go): a builder query with a `*` or several values
 *   in a dimension becomes a SEARCH (an array of series), otherwise one metric (MetricStat): a
 *   multi-value variable holding one value is one metric (IsInferredSearchExpression,
 *   pkg/cloudwatch/models/cloudwatch_query.go); a SEARCH finds metrics of the last two weeks and
 *   returns at most 500 of them;
 * - GetMetricData: ids start with a lowercase letter; math refers only to ids of the request; one
 *   expression error fails the whole request; PERIOD takes one metric; SUM/AVG/MAX/MIN of one
 *   series is a number, of an array a series (`[a, b]` builds an array); an expression that
 *   returns a number is refused; arithmetic treats a missing value as 0;
 * - Metrics Insights syntax (reserved keywords quoted, shared/dashboard-model/model.ts), one
 *   Insights query per GetMetricData (Grafana batches the others apart,
 *   get_metric_query_batches.go), at most 10,000 metrics analysed and 500 series returned;
 * - Logs Insights over the log groups the query resolves, as the datasource resolves them
 *   (`logGroups` by variable value, legacy `logGroupNames` by variable text), with JSON log
 *   events flattened into dotted fields (`error.message`).
 * What the stand-in cannot answer (a function it does not implement) is a note, not an error.
 */
import {
  INSIGHTS_MAX_METRICS,
  INSIGHTS_MAX_SERIES,
  METRIC_DATA_ID,
  PERIOD_AUTO,
  SEARCH_MAX_SERIES,
  InsightsSyntaxError,
  mathReferences,
  parseInsights,
  queryKind,
  type PanelJson,
  type Target,
} from '#shared/dashboard-model/index.ts';
import type { LogLine, LogStore, SecondPoint, Series, SeriesStore } from '../meter/index.ts';
import {
  expand,
  interpolate,
  isAll,
  texts,
  variableNamed,
  type VariableOption,
  type Variables,
} from './variables.ts';

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
  /** Its own times (epoch seconds), once a transformation has reordered or cut its rows. */
  times?: number[];
}

export interface PanelResult {
  /** Start of each period, epoch seconds; shared by every frame. */
  times?: number[];
  frames?: Frame[];
  table?: { fields: string[]; rows: string[][] };
  /** What Grafana would show on the panel: the query was refused. */
  errors: string[];
  /** What the local stack cannot answer (not a Grafana error). */
  notes: string[];
}

export interface Sources {
  series: SeriesStore;
  logs: LogStore;
}

/** The stand-in does not implement this; real CloudWatch might answer it. */
export class Unanswerable extends Error {}

/** CloudWatch or Grafana refuses this; the message is what the panel shows. */
export class QueryRefused extends Error {}

/** A GetMetricData expression error, as CloudWatch words its prefix. */
const expressionError = (id: string, reason: string) =>
  new QueryRefused(`ValidationError: Error in expression '${id}': ${reason}`);

/** A series with the dimensions it came from, for dynamic labels. */
interface LabelledFrame extends Frame {
  dimensions: Record<string, string>;
}

type Value =
  | { kind: 'scalar'; value: number }
  | { kind: 'series'; frame: LabelledFrame; metric: boolean }
  | { kind: 'array'; frames: LabelledFrame[] };

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

export const bucketCount = (window: QueryWindow) =>
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
      throw new QueryRefused(`ValidationError: invalid statistic ${name}`);
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

const hasData = (frame: Frame) => frame.values.some((v) => v !== null);

/** The values each dimension of a builder query takes once its variables are expanded. */
const dimensionValues = (target: Target, variables: Variables): [string, string[]][] =>
  Object.entries(target.dimensions ?? {}).map(([key, value]) => [
    key,
    (Array.isArray(value) ? value : [value]).flatMap((v) => {
      const variable = variableNamed(v, variables);
      return variable ? expand(variable) : [v];
    }),
  ]);

/**
 * A builder query: a SEARCH (array) when a dimension has `*` or several values or matching is
 * not exact (IsInferredSearchExpression), else the one metric its values name (MetricStat).
 */
const builderQuery = (
  target: Target,
  sources: Sources,
  window: QueryWindow,
  variables: Variables,
): Value => {
  const dimensions = dimensionValues(target, variables);
  const matchExact = target.matchExact !== false;
  const isSearch =
    !matchExact || dimensions.some(([, values]) => values.length > 1 || values.includes('*'));
  const all = sources.series.find(target.namespace ?? '', target.metricName ?? '');
  const frameOf = (s: Series): LabelledFrame => ({
    label: labelFor(target.label, s.name, s.dimensions),
    dimensions: s.dimensions,
    values: bucketize([s], window).map((point) => statistic(target.statistic ?? '', point)),
  });
  if (!isSearch) {
    const wanted = Object.fromEntries(dimensions.map(([key, values]) => [key, values[0] ?? '']));
    const match = all.find(
      (s) =>
        Object.keys(s.dimensions).length === dimensions.length &&
        dimensions.every(([key]) => s.dimensions[key] === wanted[key]),
    );
    const frame = match
      ? frameOf(match)
      : {
          label: labelFor(target.label, target.metricName ?? '', wanted),
          dimensions: wanted,
          values: new Array(bucketCount(window)).fill(null),
        };
    return { kind: 'series', frame, metric: true };
  }
  const matching = all
    .filter((s) => {
      if (matchExact && Object.keys(s.dimensions).length !== dimensions.length) return false;
      return dimensions.every(([key, values]) => {
        const value = s.dimensions[key];
        return value !== undefined && (values.includes('*') || values.includes(value));
      });
    })
    .sort((a, b) => JSON.stringify(a.dimensions).localeCompare(JSON.stringify(b.dimensions)))
    // At most 500 come back (which ones AWS does not say; here the first in dimension order),
    // before Grafana's REMOVE_EMPTY drops the series without data in the range. (AWS searches
    // the metrics of the last two weeks; the local store keeps three hours.)
    .slice(0, SEARCH_MAX_SERIES);
  return { kind: 'array', frames: matching.map(frameOf).filter(hasData) };
};

const insightsQuery = (
  target: Target,
  id: string,
  sources: Sources,
  window: QueryWindow,
  variables: Variables,
): Value => {
  let sql;
  try {
    sql = parseInsights(interpolate(target.sqlExpression ?? '', variables, 'raw'));
  } catch (error) {
    if (error instanceof InsightsSyntaxError)
      throw expressionError(id, `Syntax error: ${error.message}`);
    throw error;
  }
  const schema = sql.schema ? [...sql.schema].sort().join(',') : undefined;
  const groups = new Map<string, { dimensions: Record<string, string>; series: Series[] }>();
  const analysed = sources.series
    .find(sql.namespace, sql.metricName)
    .filter((s) => schema === undefined || Object.keys(s.dimensions).sort().join(',') === schema)
    .filter((s) =>
      sql.where.every(({ key, operator, value }) =>
        operator === '=' ? s.dimensions[key] === value : s.dimensions[key] !== value,
      ),
    )
    // The first 10,000 metrics found are analysed, no more.
    .slice(0, INSIGHTS_MAX_METRICS);
  for (const s of analysed) {
    const dimensions = Object.fromEntries(sql.groupBy.map((key) => [key, s.dimensions[key] ?? '']));
    const key = JSON.stringify(dimensions);
    const group = groups.get(key) ?? { dimensions, series: [] };
    group.series.push(s);
    groups.set(key, group);
  }
  const frames = [...groups.values()]
    .map((group) => ({
      label: labelFor(target.label, sql.metricName, group.dimensions),
      dimensions: group.dimensions,
      values: bucketize(group.series, window).map((point) => statistic(sql.statistic, point)),
    }))
    .filter(hasData);
  if (sql.orderBy) {
    const { statistic: by, descending } = sql.orderBy;
    const score = (frame: Frame) => {
      const present = frame.values.filter((v): v is number => v !== null);
      if (by === 'SUM') return present.reduce((a, b) => a + b, 0);
      if (by === 'MAX') return Math.max(...present);
      if (by === 'MIN') return Math.min(...present);
      if (by === 'COUNT') return present.length;
      return present.reduce((a, b) => a + b, 0) / present.length;
    };
    frames.sort((a, b) => (descending ? score(b) - score(a) : score(a) - score(b)));
  }
  // At most 500 series come back (the first of the ORDER BY when there is one).
  return {
    kind: 'array',
    frames: frames.slice(0, Math.min(sql.limit ?? Infinity, INSIGHTS_MAX_SERIES)),
  };
};

const MATH_TOKEN = /\s+|\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*|[-+*/(),[\]]/gy;

const tokenizeMath = (id: string, expression: string): string[] => {
  const tokens: string[] = [];
  MATH_TOKEN.lastIndex = 0;
  let at = 0;
  let match: RegExpExecArray | null;
  while (at < expression.length && (match = MATH_TOKEN.exec(expression)) !== null) {
    if (match[0].trim() !== '') tokens.push(match[0]);
    at = MATH_TOKEN.lastIndex;
  }
  if (at < expression.length) {
    if (expression.includes('$'))
      throw expressionError(id, `Unrecognized text ${expression.slice(at)}`);
    throw new Unanswerable(`metric math ${expression}`);
  }
  return tokens;
};

const REDUCERS: Record<string, (values: number[]) => number> = {
  SUM: (v) => v.reduce((a, b) => a + b, 0),
  AVG: (v) => v.reduce((a, b) => a + b, 0) / v.length,
  MAX: (v) => Math.max(...v),
  MIN: (v) => Math.min(...v),
};

/** A series of no data: what SUM of an empty array gives, and a metric that reported nothing. */
const emptySeries = (size: number, label: string): Value => ({
  kind: 'series',
  metric: false,
  frame: { label, dimensions: {}, values: new Array(size).fill(null) },
});

/**
 * Metric math over the request's results: numbers, ids, + - * /, parentheses, `[a, b]` arrays,
 * SUM/AVG/MAX/MIN and PERIOD, with CloudWatch's types (number, series, array of series).
 */
const evaluateMath = (
  id: string,
  expression: string,
  results: Map<string, Value>,
  window: QueryWindow,
): Value => {
  const tokens = tokenizeMath(id, expression.split(PERIOD_AUTO).join(String(window.periodS)));
  let position = 0;
  const peek = () => tokens[position];
  const take = () => tokens[position++];
  const size = bucketCount(window);

  const mapValues = (frame: LabelledFrame, f: (v: number | null, i: number) => number | null) => ({
    ...frame,
    values: frame.values.map(f),
  });

  const combine = (a: Value, b: Value, op: (x: number, y: number) => number): Value => {
    const finite = (result: number) => (Number.isFinite(result) ? result : null);
    // With a number, a point exists where the series has one.
    const withNumber = (x: number | null, y: number | null) =>
      x === null || y === null ? null : finite(op(x, y));
    // Between series, "missing values in a time series are treated as 0" (using-metric-math);
    // a division by zero drops the point.
    const between = (x: number | null, y: number | null) =>
      x === null && y === null ? null : finite(op(x ?? 0, y ?? 0));
    if (a.kind === 'scalar' && b.kind === 'scalar')
      return { kind: 'scalar', value: op(a.value, b.value) };
    if (a.kind === 'array' && b.kind === 'array')
      throw new Unanswerable(`arithmetic between two arrays of series (${expression})`);
    if (a.kind === 'array' || b.kind === 'array') {
      const [array, other, arrayFirst] =
        a.kind === 'array' ? [a, b, true] : [b as Extract<Value, { kind: 'array' }>, a, false];
      return {
        kind: 'array',
        frames: array.frames.map((frame) =>
          mapValues(frame, (v, i) => {
            if (other.kind === 'scalar')
              return arrayFirst ? withNumber(v, other.value) : withNumber(other.value, v);
            const o = (other as { frame: Frame }).frame.values[i] ?? null;
            return arrayFirst ? between(v, o) : between(o, v);
          }),
        ),
      };
    }
    if (a.kind === 'scalar' && b.kind === 'series')
      return {
        kind: 'series',
        metric: false,
        frame: mapValues(b.frame, (v) => withNumber(a.value, v)),
      };
    if (a.kind === 'series' && b.kind === 'scalar')
      return {
        kind: 'series',
        metric: false,
        frame: mapValues(a.frame, (v) => withNumber(v, b.value)),
      };
    const fa = (a as Extract<Value, { kind: 'series' }>).frame;
    const fb = (b as Extract<Value, { kind: 'series' }>).frame;
    return {
      kind: 'series',
      metric: false,
      frame: mapValues(fa, (v, i) => between(v, fb.values[i] ?? null)),
    };
  };

  const call = (
    name: string,
    argumentTokens: () => Value,
    firstToken: string | undefined,
  ): Value => {
    const upper = name.toUpperCase();
    if (upper === 'PERIOD') {
      const argument = argumentTokens();
      if (argument.kind !== 'series' || !argument.metric || !results.has(firstToken ?? ''))
        throw expressionError(
          id,
          'PERIOD takes one metric, not an expression, a search or a number',
        );
      return { kind: 'scalar', value: window.periodS };
    }
    const reducer = REDUCERS[upper];
    if (!reducer) throw new Unanswerable(`metric math function ${name}`);
    const argument = argumentTokens();
    if (argument.kind === 'scalar')
      throw expressionError(id, `${upper} takes a time series or an array of time series`);
    if (argument.kind === 'series') {
      // One series reduces to one number over all its points.
      const present = argument.frame.values.filter((v): v is number => v !== null);
      return { kind: 'scalar', value: present.length === 0 ? NaN : reducer(present) };
    }
    // Of an array, a series: an empty array (a search that found nothing) gives one of no data.
    if (argument.frames.length === 0) return emptySeries(size, upper);
    const values = Array.from({ length: size }, (_, i) => {
      const points = argument.frames.map((f) => f.values[i] ?? null);
      const present = points.filter((v): v is number => v !== null);
      if (present.length === 0) return null;
      // AVG counts a missing value as 0 (using-metric-math: AVG); the others skip it.
      return upper === 'AVG' ? reducer(points.map((v) => v ?? 0)) : reducer(present);
    });
    return { kind: 'series', metric: false, frame: { label: upper, dimensions: {}, values } };
  };

  /** `[a, b, …]`: an array of the series and arrays inside, flattened; a number is refused. */
  const arrayLiteral = (): Value => {
    const frames: LabelledFrame[] = [];
    if (peek() !== ']') {
      for (;;) {
        const element = sum();
        if (element.kind === 'scalar')
          throw expressionError(id, 'an array holds time series, not numbers');
        frames.push(...(element.kind === 'series' ? [element.frame] : element.frames));
        if (peek() !== ',') break;
        take();
      }
    }
    if (take() !== ']') throw expressionError(id, 'missing ]');
    return { kind: 'array', frames };
  };

  const primary = (): Value => {
    const token = take();
    if (token === undefined) throw expressionError(id, 'unexpected end of expression');
    if (token === '(') {
      const value = sum();
      if (take() !== ')') throw expressionError(id, 'missing )');
      return value;
    }
    if (token === '[') return arrayLiteral();
    if (token === '-') return combine({ kind: 'scalar', value: -1 }, primary(), (x, y) => x * y);
    if (/^\d/.test(token)) return { kind: 'scalar', value: Number(token) };
    if (peek() === '(') {
      take();
      const first = peek();
      const value = call(token, sum, first);
      if (take() !== ')') throw expressionError(id, `missing ) after ${token}(`);
      return value;
    }
    const referenced = results.get(token);
    if (!referenced) throw expressionError(id, `Unrecognized metric or expression id ${token}`);
    return referenced;
  };
  const product = (): Value => {
    let value = primary();
    while (peek() === '*' || peek() === '/') {
      const op = take();
      value = combine(value, primary(), op === '*' ? (x, y) => x * y : (x, y) => x / y);
    }
    return value;
  };
  const sum = (): Value => {
    let value = product();
    while (peek() === '+' || peek() === '-') {
      const op = take();
      value = combine(value, product(), op === '+' ? (x, y) => x + y : (x, y) => x - y);
    }
    return value;
  };
  const value = sum();
  if (position !== tokens.length) throw expressionError(id, `unexpected ${peek()}`);
  return value;
};

/** The id GetMetricData knows a target by (Grafana: `query<refId>` when none is set). */
const idOf = (target: Target) => target.id || `query${target.refId}`;

/** Whether Grafana sends the query at all (filterMetricsQuery, src/utils/utils.ts). */
const isSent = (target: Target): boolean => {
  if (!target.region) return false;
  switch (queryKind(target)) {
    case 'search':
      return !!target.namespace && !!target.metricName && !!target.statistic;
    case 'math':
      return !!target.expression;
    case 'insights':
      return !!target.sqlExpression;
    default:
      return false;
  }
};

/** Grafana's backend rules before any call (validateAndSetDefaults, cloudwatch_query.go). */
const checkRequest = (targets: Target[]) => {
  for (const target of targets) {
    if (target.statistic === undefined)
      throw new QueryRefused(
        `query must have either statistic or statistics field (${target.refId})`,
      );
    const id = idOf(target);
    if (!METRIC_DATA_ID.test(id))
      throw new QueryRefused(
        `ValidationError: The value '${id}' at 'metricDataQueries.member.id' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-z][a-zA-Z0-9_]*$`,
      );
  }
  const ids = targets.map(idOf);
  const repeated = ids.find((id, i) => ids.indexOf(id) !== i);
  if (repeated)
    throw new QueryRefused(`ValidationError: The values of id must be unique: ${repeated}`);
  const insights = targets.filter((t) => queryKind(t) === 'insights').map(idOf);
  for (const target of targets.filter((t) => queryKind(t) === 'math')) {
    const used = mathReferences(target.expression ?? '').filter((r) => insights.includes(r));
    if (new Set(used).size > 1)
      throw new QueryRefused(
        `ValidationError: a GetMetricData request may hold only one Metrics Insights query (${used.join(', ')} in '${idOf(target)}')`,
      );
  }
};

/** Every metric query of the panel, in one request as Grafana sends it. */
const metricQueries = (
  targets: Target[],
  sources: Sources,
  window: QueryWindow,
  variables: Variables,
): Frame[] => {
  checkRequest(targets);
  const results = new Map<string, Value>();
  for (const target of targets) {
    const kind = queryKind(target);
    if (kind === 'search')
      results.set(idOf(target), builderQuery(target, sources, window, variables));
    if (kind === 'insights')
      results.set(idOf(target), insightsQuery(target, idOf(target), sources, window, variables));
  }
  // Math may refer to other math: evaluate whatever has its references ready, until done.
  const ids = new Set(targets.map(idOf));
  let pending = targets.filter((t) => queryKind(t) === 'math');
  for (const target of pending) {
    const unknown = mathReferences(target.expression ?? '').find((r) => !ids.has(r));
    if (unknown)
      throw expressionError(idOf(target), `Unrecognized metric or expression id ${unknown}`);
  }
  while (pending.length > 0) {
    const ready = pending.filter((t) =>
      mathReferences(t.expression ?? '').every((id) => results.has(id)),
    );
    if (ready.length === 0)
      throw expressionError(idOf(pending[0] as Target), 'circular reference between expressions');
    for (const target of ready) {
      const value = evaluateMath(idOf(target), target.expression ?? '', results, window);
      if (value.kind === 'scalar' && !target.hide)
        throw expressionError(
          idOf(target),
          'the expression returns a single number; it must return a time series or an array of time series',
        );
      results.set(idOf(target), value);
    }
    pending = pending.filter((t) => !ready.includes(t));
  }
  return targets
    .filter((t) => !t.hide)
    .flatMap((target): Frame[] => {
      const value = results.get(idOf(target));
      const frames =
        value?.kind === 'series' ? [value.frame] : value?.kind === 'array' ? value.frames : [];
      const isMath = queryKind(target) === 'math';
      return frames.map((f) => ({
        label: isMath ? labelFor(target.label, f.label, f.dimensions) : f.label,
        values: f.values.map((v) => (v === null || Number.isNaN(v) ? null : v)),
      }));
    });
};

/** A local log group's ARN, as DescribeLogGroups would give it (a placeholder account). */
export const localLogGroupArn = (name: string): string =>
  `arn:aws:logs:local:000000000000:log-group:${name}:*`;

/** The log group names a logs query reads, resolved as the datasource resolves them. */
const logGroupsOf = (target: Target, variables: Variables, known: VariableOption[]): string[] => {
  const arns = (target.logGroups ?? []).flatMap(({ arn }) => {
    const variable = variableNamed(arn, variables);
    if (!variable) return [arn];
    // interpolateStringArrayUsingSingleOrMultiValuedVariable: an array value splits into its
    // values; a plain string (All kept as '$__all') stays one joined string.
    if (Array.isArray(variable.value)) return expand(variable);
    return [isAll(variable) ? expand(variable).join('|') : variable.value];
  });
  const names = (target.logGroupNames ?? []).flatMap((name) => {
    const variable = variableNamed(name, variables);
    return variable ? texts(variable) : [name];
  });
  const resolved = [
    ...arns.map(
      (arn) => known.find((group) => group.value === arn)?.text ?? `(unknown ARN ${arn})`,
    ),
    ...names,
  ];
  if (resolved.length === 0)
    throw new QueryRefused('InvalidParameterException: StartQuery needs at least one log group');
  if (resolved.length > 50)
    throw new QueryRefused('InvalidParameterException: StartQuery takes at most 50 log groups');
  const missing = resolved.filter((name) => !known.some((group) => group.text === name));
  if (missing.length > 0)
    throw new QueryRefused(
      `ResourceNotFoundException: The specified log group does not exist: ${missing.join(', ')}`,
    );
  return [...new Set(resolved)];
};

/**
 * The fields Logs Insights discovers in a JSON log event: every leaf, nested keys joined by dots
 * (`error.message`), array items by index (`codes.0`). An object or array is not a field itself:
 * `fields error` of `{"error":{"message":"…"}}` is empty
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_AnalyzeLogData-discoverable-fields.html).
 */
const flattenJson = (value: unknown, prefix = '', into: Record<string, string> = {}) => {
  if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value as Record<string, unknown>))
      flattenJson(inner, prefix === '' ? key : `${prefix}.${key}`, into);
  } else if (prefix !== '') {
    into[prefix] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return into;
};

/** Logs Insights subset: `fields`, `filter f = "v"`, `filter f like /re/`, `sort`, `limit`. */
const logsQuery = (target: Target, logs: LogStore, window: QueryWindow, variables: Variables) => {
  const known = logs.logGroups().map((name) => ({ text: name, value: localLogGroupArn(name) }));
  const groups = new Set(logGroupsOf(target, variables, known));
  let lines: LogLine[] = logs
    .list()
    .filter((line) => line.timestamp >= window.fromMs && line.timestamp <= window.toMs)
    .filter((line) => groups.has(line.logGroup));
  const parsed = new Map<LogLine, Record<string, string>>();
  const field = (line: LogLine, name: string): string => {
    if (name === '@timestamp') return new Date(line.timestamp).toISOString();
    if (name === '@message') return line.message;
    if (name === '@log') return line.logGroup;
    if (!parsed.has(line)) {
      let fields: Record<string, string> = {};
      try {
        fields = flattenJson(JSON.parse(line.message));
      } catch {
        // A plain text line has only @message.
      }
      parsed.set(line, fields);
    }
    return parsed.get(line)?.[name] ?? '';
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
        if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
          throw new QueryRefused('MalformedQueryException: limit must be between 1 and 10000');
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

/** The panel's visible results: charts' frames or a table of log fields, errors and notes. */
export const evaluatePanel = (
  panel: PanelJson,
  sources: Sources,
  window: QueryWindow,
  variables: Variables,
): PanelResult => {
  const targets = panel.targets ?? [];
  const errors: string[] = [];
  const notes: string[] = [];
  const fail = (error: unknown, prefix = '') => {
    if (error instanceof QueryRefused) errors.push(`${prefix}${error.message}`);
    else if (error instanceof Unanswerable)
      notes.push(`The local stack cannot answer this panel: ${error.message}.`);
    else throw error;
  };
  let table: PanelResult['table'];
  for (const target of targets.filter((t) => queryKind(t) === 'logs')) {
    try {
      table = logsQuery(target, sources.logs, window, variables);
    } catch (error) {
      fail(error);
    }
  }
  let frames: Frame[] = [];
  const sent = targets.filter((t) => queryKind(t) !== 'logs' && isSent(t));
  if (sent.length > 0) {
    try {
      frames = metricQueries(sent, sources, window, variables);
    } catch (error) {
      // One refused query fails the panel's whole GetMetricData request.
      fail(error, 'metric request error: ');
    }
  }
  if (table) return { table, errors, notes };
  const fromS = Math.floor(window.fromMs / 1000);
  return {
    times: Array.from({ length: bucketCount(window) }, (_, i) => fromS + i * window.periodS),
    frames,
    errors,
    notes,
  };
};
