/**
 * The generated dashboard JSON as its two readers see it (the contract test and the local
 * stack's renderer): panels, their CloudWatch targets, and the small query languages they use.
 */
export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Target {
  refId: string;
  id?: string;
  queryMode?: 'Metrics' | 'Logs';
  metricQueryType?: 0 | 1;
  metricEditorMode?: 0 | 1;
  namespace?: string;
  metricName?: string;
  dimensions?: Record<string, string | string[]>;
  matchExact?: boolean;
  statistic?: string;
  label?: string;
  expression?: string;
  sqlExpression?: string;
  logGroupNames?: string[];
  hide?: boolean;
  datasource?: { type?: string; uid?: string };
}

export interface PanelJson {
  id: number;
  type: string;
  title: string;
  gridPos: GridPos;
  unit?: string;
  targets?: Target[];
  datasource?: { type?: string; uid?: string };
  options?: { reduceOptions?: { calcs?: string[] } };
  fieldConfig?: { defaults?: { unit?: string } };
}

export interface VariableJson {
  type: string;
  name: string;
  label?: string;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
  current?: { text?: unknown; value?: unknown };
  query?: unknown;
}

export interface DashboardJson {
  uid: string;
  title: string;
  description?: string;
  refresh?: string;
  time?: { from: string; to: string };
  panels: PanelJson[];
  templating: { list: VariableJson[] };
}

export type QueryKind = 'search' | 'insights' | 'math' | 'logs';

export const queryKind = (target: Target): QueryKind => {
  if (target.queryMode === 'Logs') return 'logs';
  if (target.metricQueryType === 1) return 'insights';
  if (target.metricEditorMode === 1) return 'math';
  return 'search';
};

/** `SELECT SUM(Metric) FROM SCHEMA("ns", A, B) [WHERE A = 'x' [AND …]] [GROUP BY A] [ORDER BY …] [LIMIT n]` */
export interface InsightsQuery {
  statistic: string;
  metricName: string;
  namespace: string;
  schema: string[];
  where: Record<string, string>;
  groupBy: string[];
  limit?: number;
}

const INSIGHTS =
  /^SELECT\s+(\w+)\((\w+)\)\s+FROM\s+SCHEMA\(\s*"([^"]+)"\s*((?:,\s*\w+\s*)*)\)(?:\s+WHERE\s+(.+?))?(?:\s+GROUP BY\s+([\w\s,]+?))?(?:\s+ORDER BY\s+\w+\(\)\s+(?:ASC|DESC))?(?:\s+LIMIT\s+(\d+))?\s*$/i;

/** Parses the Metrics Insights subset the dashboards use; undefined for anything else. */
export const parseInsights = (sql: string): InsightsQuery | undefined => {
  const match = INSIGHTS.exec(sql.trim());
  if (!match) return undefined;
  const [, statistic, metricName, namespace, schema, where, groupBy, limit] = match;
  const conditions = (where ?? '').split(/\s+AND\s+/i).filter((c) => c.trim() !== '');
  const parsedWhere: Record<string, string> = {};
  for (const condition of conditions) {
    const equality = /^(\w+)\s*=\s*'([^']*)'$/.exec(condition.trim());
    if (!equality) return undefined;
    parsedWhere[equality[1] as string] = equality[2] as string;
  }
  return {
    statistic: (statistic as string).toUpperCase(),
    metricName: metricName as string,
    namespace: namespace as string,
    schema: (schema ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    where: parsedWhere,
    groupBy: (groupBy ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    ...(limit ? { limit: Number(limit) } : {}),
  };
};

/** Functions metric math may call in these dashboards. */
export const MATH_FUNCTIONS = ['SUM', 'PERIOD'] as const;

/** The query ids a metric math expression refers to. */
export const mathReferences = (expression: string): string[] =>
  [...expression.matchAll(/\b([a-z][A-Za-z0-9_]*)\b/g)]
    .map((match) => match[1] as string)
    .filter((name) => !(MATH_FUNCTIONS as readonly string[]).includes(name.toUpperCase()));
