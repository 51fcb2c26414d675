/**
 * The generated dashboard JSON as its two readers see it (the contract test and the local
 * stack's renderer): panels, their CloudWatch targets, and the small query languages they use.
 */
import { needsQuotes } from './cloudwatch.ts';

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface DataSourceRef {
  type?: string;
  uid?: string;
}

export interface LogGroupRef {
  arn: string;
  name: string;
}

export interface Target {
  refId: string;
  id?: string;
  queryMode?: 'Metrics' | 'Logs';
  region?: string;
  metricQueryType?: 0 | 1;
  metricEditorMode?: 0 | 1;
  namespace?: string;
  metricName?: string;
  dimensions?: Record<string, string | string[]>;
  matchExact?: boolean;
  statistic?: string;
  period?: string;
  label?: string;
  expression?: string;
  sqlExpression?: string;
  logGroups?: LogGroupRef[];
  logGroupNames?: string[];
  hide?: boolean;
  datasource?: DataSourceRef;
  /** Dashboard datasource: the panel whose results this target reuses. */
  panelId?: number;
}

/** A threshold step: from `value` up (the base step has `null`, below every value). */
export interface ThresholdStep {
  value: number | null;
  color: string;
}

/** A link in a dashboard's header (`dashboards`: every dashboard with one of the tags). */
export interface DashboardLinkJson {
  title: string;
  type: 'dashboards' | 'link';
  tags?: string[];
  url?: string;
  asDropdown?: boolean;
  includeVars?: boolean;
  keepTime?: boolean;
}

/** A panel transformation (Grafana's DataTransformerConfig): its id and options. */
export interface TransformationJson {
  id: string;
  options: Record<string, unknown>;
}

export interface PanelJson {
  id: number;
  type: string;
  title: string;
  description?: string;
  gridPos: GridPos;
  unit?: string;
  targets?: Target[];
  datasource?: DataSourceRef;
  /** Relative time override (`1h`): the panel queries the last hour whatever the dashboard's range. */
  timeFrom?: string;
  /** Transformations applied to the panel's results, in order. */
  transformations?: TransformationJson[];
  options?: { reduceOptions?: { calcs?: string[] } };
  fieldConfig?: {
    defaults?: {
      unit?: string;
      thresholds?: { mode?: string; steps?: ThresholdStep[] };
      links?: { title: string; url: string }[];
    };
  };
}

export interface VariableOptionJson {
  text: string | string[];
  value: string | string[];
  selected?: boolean;
}

export interface VariableJson {
  type: string;
  name: string;
  label?: string;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
  current?: { text?: unknown; value?: unknown };
  options?: VariableOptionJson[];
  query?: unknown;
  /** 0 never, 1 on dashboard load, 2 on time range change (Grafana's VariableRefresh). */
  refresh?: 0 | 1 | 2;
  regex?: string;
  /** How the options are sorted (Grafana's VariableSort: 0 none, 1 alphabetical, 2 descending…). */
  sort?: number;
  hide?: 0 | 1 | 2;
}

export interface DashboardJson {
  uid: string;
  title: string;
  description?: string;
  refresh?: string;
  time?: { from: string; to: string };
  tags?: string[];
  links?: DashboardLinkJson[];
  panels: PanelJson[];
  templating: { list: VariableJson[] };
}

/** Grafana's built-in datasource that hands a panel another panel's results (no new query). */
export const DASHBOARD_DATASOURCE = { type: 'datasource', uid: '-- Dashboard --' } as const;

export type QueryKind = 'search' | 'insights' | 'math' | 'logs' | 'panel';

export const queryKind = (target: Target): QueryKind => {
  if (target.datasource?.uid === DASHBOARD_DATASOURCE.uid) return 'panel';
  if (target.queryMode === 'Logs') return 'logs';
  if (target.metricQueryType === 1) return 'insights';
  if (target.metricEditorMode === 1) return 'math';
  return 'search';
};

/** `SELECT FN(metric) FROM ns | SCHEMA(ns, keys…) [WHERE k = 'v' [AND …]] [GROUP BY k, …] [ORDER BY FN() ASC|DESC] [LIMIT n]` */
export interface InsightsQuery {
  statistic: string;
  metricName: string;
  namespace: string;
  /** Undefined: `FROM namespace` (any dimension set); else the exact dimension keys. */
  schema?: string[];
  where: { key: string; operator: '=' | '!='; value: string }[];
  groupBy: string[];
  orderBy?: { statistic: string; descending: boolean };
  limit?: number;
}

/** A query CloudWatch refuses, with its reason. */
export class InsightsSyntaxError extends Error {}

const INSIGHTS_FUNCTIONS = ['AVG', 'COUNT', 'MAX', 'MIN', 'SUM'];

/**
 * Metrics Insights returns at most 500 time series and analyses at most 10,000 metrics a query
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-metrics-insights-limits.html).
 */
export const INSIGHTS_MAX_SERIES = 500;
export const INSIGHTS_MAX_METRICS = 10_000;

/** Splits SQL into quoted identifiers, quoted values, words, numbers and punctuation. */
const tokenize = (sql: string): string[] => {
  const tokens: string[] = [];
  const pattern = /\s+|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[A-Za-z_][\w]*|\d+|!=|<>|[=(),*]/gy;
  let match: RegExpExecArray | null;
  let at = 0;
  while (at < sql.length && (match = pattern.exec(sql)) !== null) {
    if (match[0].trim() !== '') tokens.push(match[0]);
    at = pattern.lastIndex;
  }
  if (at < sql.length) throw new InsightsSyntaxError(`unexpected character at ${at}: ${sql[at]}`);
  return tokens;
};

const unquote = (token: string) => token.slice(1, -1).replace(/\\(.)/g, '$1');

/**
 * Parses Metrics Insights SQL by the rules of
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-metrics-insights-querylanguage.html:
 * keywords are case-insensitive; a namespace, metric name or label key that is a reserved keyword
 * or holds other characters than letters, digits and `_` must be double-quoted; values are
 * single-quoted. Throws InsightsSyntaxError where CloudWatch would refuse the query.
 */
export const parseInsights = (sql: string): InsightsQuery => {
  const tokens = tokenize(sql.trim());
  let position = 0;
  const peek = () => tokens[position];
  const isKeyword = (word: string) => peek()?.toUpperCase() === word;
  const expect = (word: string) => {
    const token = tokens[position++];
    if (token?.toUpperCase() !== word)
      throw new InsightsSyntaxError(`expected ${word}, found ${token ?? 'end of query'}`);
  };
  const identifier = (what: string): string => {
    const token = tokens[position++];
    if (token === undefined) throw new InsightsSyntaxError(`expected ${what}, found end of query`);
    if (token.startsWith('"')) return unquote(token);
    if (/^[A-Za-z_]\w*$/.test(token) && !needsQuotes(token)) return token;
    if (/^[A-Za-z_]\w*$/.test(token))
      throw new InsightsSyntaxError(
        `${token} is a reserved keyword: as ${what} it must be double-quoted ("${token}")`,
      );
    throw new InsightsSyntaxError(`expected ${what}, found ${token}`);
  };
  const fn = () => {
    const name = (tokens[position++] ?? '').toUpperCase();
    if (!INSIGHTS_FUNCTIONS.includes(name))
      throw new InsightsSyntaxError(
        `${name || 'end of query'} is not one of ${INSIGHTS_FUNCTIONS.join(', ')}`,
      );
    return name;
  };

  expect('SELECT');
  const statistic = fn();
  expect('(');
  const metricName = identifier('a metric name');
  expect(')');
  expect('FROM');
  let namespace: string;
  let schema: string[] | undefined;
  if (isKeyword('SCHEMA')) {
    position++;
    expect('(');
    namespace = identifier('a namespace');
    schema = [];
    while (peek() === ',') {
      position++;
      schema.push(identifier('a label key'));
    }
    expect(')');
  } else namespace = identifier('a namespace');

  const where: InsightsQuery['where'] = [];
  if (isKeyword('WHERE')) {
    position++;
    do {
      if (where.length > 0) position++;
      const key = identifier('a label key');
      const operator = tokens[position++];
      if (operator !== '=' && operator !== '!=' && operator !== '<>')
        throw new InsightsSyntaxError(
          `expected = or != after ${key}, found ${operator ?? 'end of query'}`,
        );
      const value = tokens[position++] ?? '';
      if (!value.startsWith("'"))
        throw new InsightsSyntaxError(
          `the value of ${key} must be in single quotes, found ${value}`,
        );
      where.push({ key, operator: operator === '=' ? '=' : '!=', value: unquote(value) });
    } while (isKeyword('AND'));
  }
  const groupBy: string[] = [];
  if (isKeyword('GROUP')) {
    position++;
    expect('BY');
    groupBy.push(identifier('a label key'));
    while (peek() === ',') {
      position++;
      groupBy.push(identifier('a label key'));
    }
  }
  let orderBy: InsightsQuery['orderBy'];
  if (isKeyword('ORDER')) {
    position++;
    expect('BY');
    const orderStatistic = fn();
    expect('(');
    expect(')');
    const direction =
      isKeyword('ASC') || isKeyword('DESC') ? tokens[position++]!.toUpperCase() : 'ASC';
    orderBy = { statistic: orderStatistic, descending: direction === 'DESC' };
  }
  let limit: number | undefined;
  if (isKeyword('LIMIT')) {
    position++;
    limit = Number(tokens[position++]);
    if (!Number.isInteger(limit)) throw new InsightsSyntaxError('LIMIT takes a whole number');
    if (limit > INSIGHTS_MAX_SERIES)
      throw new InsightsSyntaxError(`LIMIT is at most ${INSIGHTS_MAX_SERIES}`);
  }
  if (position !== tokens.length) throw new InsightsSyntaxError(`unexpected ${peek()}`);
  return {
    statistic,
    metricName,
    namespace,
    ...(schema ? { schema } : {}),
    where,
    groupBy,
    ...(orderBy ? { orderBy } : {}),
    ...(limit === undefined ? {} : { limit }),
  };
};

/**
 * The query ids a metric math expression refers to: every identifier that is not a function
 * call, a quoted string or a `$__` macro.
 */
export const mathReferences = (expression: string): string[] =>
  [
    ...expression
      .replace(/'[^']*'|"[^"]*"/g, ' ')
      .replace(/\$__\w+/g, ' ')
      .matchAll(/\b([A-Za-z_][A-Za-z0-9_]*)\b(?!\s*\()/g),
  ]
    .map((match) => match[1] as string)
    .filter((name) => !/^(REPEAT|LINEAR|ASC|DESC|AND|OR|NOT)$/.test(name));
