/**
 * Conformance corpus of the local Grafana/CloudWatch stand-in: each case is a documented
 * behaviour of CloudWatch (metric math, SEARCH as Grafana builds it, Metrics Insights, Logs
 * Insights) or of Grafana's CloudWatch datasource and variables, with the page or source file it
 * comes from, run against the local evaluator. A case fails if the stand-in accepts what the real
 * service refuses, or answers differently.
 */
import { describe, expect, it } from 'vitest';
import {
  insightsIdentifier,
  VARIABLE_QUERY_TYPES,
  INSIGHTS_RESERVED_KEYWORDS,
  parseInsights,
  type PanelJson,
  type Target,
  type VariableJson,
} from '#shared/dashboard-model/index.ts';
import { evaluatePanel, localLogGroupArn, type PanelResult, type Sources } from './evaluate.ts';
import { LogStore, SeriesStore } from '../meter/index.ts';
import { transformResult } from './transform.ts';
import {
  resolveVariables,
  type ListingCache,
  type ResolvedVariable,
  type Variables,
  type VariableSources,
} from './variables.ts';

const MATH =
  'https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html';
const MDQ =
  'https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDataQuery.html';
const GMD =
  'https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html';
const MI_SYNTAX =
  'https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-metrics-insights-querylanguage.html';
const MI_KEYWORDS =
  'https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-metrics-insights-reserved-keywords.html';
const LOGS_SYNTAX = 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax.html';
const START_QUERY =
  'https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_StartQuery.html';
const DS = 'grafana/grafana-cloudwatch-datasource';
const BUILDER = `${DS} pkg/cloudwatch/metric_data_query_builder.go (buildSearchExpression)`;
const QUERY_MODEL = `${DS} pkg/cloudwatch/models/cloudwatch_query.go`;
const FILTER = `${DS} src/utils/utils.ts (filterMetricsQuery)`;
const LOG_GROUPS = `${DS} src/utils/templateVariableUtils.ts (interpolateStringArrayUsingSingleOrMultiValuedVariable)`;
const VARIABLES = `${DS} src/variables.ts, src/types.ts (VariableQueryType)`;
const RESOURCES_API = `${DS} src/resources/ResourcesAPI.ts (memoizedGetRequest)`;
const SEARCH_SYNTAX =
  'https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/search-expression-syntax.html';
const MI_LIMITS =
  'https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-metrics-insights-limits.html';
const LOGS_FIELDS =
  'https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_AnalyzeLogData-discoverable-fields.html';
const LOGS_PARSE =
  'https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax-Parse.html';
const SCENES_CUSTOM = 'grafana/scenes packages/scenes/src/variables/variants/CustomVariable.ts';
const TRANSFORMERS = 'grafana/grafana packages/grafana-data/src/transformations/transformers';
const SCENES = 'grafana/scenes packages/scenes/src/variables/variants/MultiValueVariable.ts';
const SCENES_REGEX = 'grafana/scenes packages/scenes/src/variables/variants/query/utils.ts';

const T0 = 1_700_000_000_000;
/** Two periods of 5 s. */
const WINDOW = { fromMs: T0, toMs: T0 + 10_000, periodS: 5 };

/** A recorded world: readings of two sensors of one run, a Lambda metric, log lines. */
const world = (): Sources => {
  const series = new SeriesStore(() => T0);
  const reading = (sensor: string, type: string, values: number[], at: number) =>
    series.record(
      'NS',
      'Reading',
      { SensorId: sensor, User: 'alice', Type: type },
      values,
      T0 + at,
    );
  reading('s1', 't', [20, 22], 1000);
  reading('s1', 't', [30], 6000);
  reading('s2', 't', [10], 2000);
  reading('s2', 'h', [50], 2000);
  // The same metric under another dimension set.
  series.record('NS', 'Reading', { SensorId: 's1' }, [99], T0 + 1000);
  // A series with no data in the window (recorded long before it).
  reading('s3', 't', [1], -3_600_000);
  series.record('AWS/Lambda', 'Invocations', { FunctionName: 'f1' }, [1, 1, 1], T0 + 1000);
  series.record('AWS/Lambda', 'Invocations', { FunctionName: 'f1' }, [1], T0 + 7000);
  series.record('AWS/Lambda', 'Invocations', { FunctionName: 'f2' }, [1], T0 + 7000);
  const logs = new LogStore();
  const line = (at: number, group: string, message: object) =>
    logs.add({ timestamp: T0 + at, logGroup: group, message: JSON.stringify(message) });
  line(1000, '/aws/lambda/a', { level: 'ERROR', message: 'boom' });
  line(2000, '/aws/lambda/a', { level: 'INFO', message: 'ok' });
  line(3000, '/aws/lambda/b', { level: 'ERROR', message: 'bang' });
  // Powertools' logger writes an error as an object (LogFormatter.formatError).
  line(4000, '/aws/lambda/b', {
    level: 'ERROR',
    message: 'Record failed',
    error: { name: 'ThrottlingException', message: 'Rate exceeded', location: 'store.ts:1' },
  });
  return { series, logs };
};

/** A stage of 600 runs, one DataIngested metric each, every one with data in the window. */
const manyRuns = (): Sources => {
  const series = new SeriesStore(() => T0);
  for (let run = 0; run < 600; run++)
    series.record('NS', 'DataIngested', { RunId: `r${String(run).padStart(3, '0')}` }, [1], T0);
  return { series, logs: new LogStore() };
};

const panel = (...targets: Target[]): PanelJson => ({
  id: 1,
  type: 'timeseries',
  title: 'p',
  gridPos: { x: 0, y: 0, w: 1, h: 1 },
  targets,
});

/** A builder-mode metric query. */
const metric = (id: string, extra: Partial<Target> = {}): Target => ({
  refId: id.toUpperCase(),
  id,
  region: 'default',
  queryMode: 'Metrics',
  metricQueryType: 0,
  metricEditorMode: 0,
  namespace: 'NS',
  metricName: 'Reading',
  dimensions: { SensorId: '*', User: '*', Type: 't' },
  matchExact: true,
  statistic: 'Sum',
  label: "${PROP('Dim.SensorId')}",
  ...extra,
});

const lambda = (id: string, fn: string, extra: Partial<Target> = {}): Target =>
  metric(id, {
    namespace: 'AWS/Lambda',
    metricName: 'Invocations',
    dimensions: { FunctionName: fn },
    label: "${PROP('Dim.FunctionName')}",
    ...extra,
  });

const math = (id: string, expression: string, extra: Partial<Target> = {}): Target => ({
  refId: id.toUpperCase(),
  id,
  region: 'default',
  queryMode: 'Metrics',
  metricQueryType: 0,
  metricEditorMode: 1,
  expression,
  statistic: 'Average',
  label: id,
  ...extra,
});

const sql = (id: string, sqlExpression: string): Target => ({
  refId: id.toUpperCase(),
  id,
  region: 'default',
  queryMode: 'Metrics',
  metricQueryType: 1,
  metricEditorMode: 1,
  sqlExpression,
  statistic: 'Average',
  label: "${PROP('Dim.SensorId')}",
});

const logsQuery = (extra: Partial<Target>): Target => ({
  refId: 'L',
  region: 'default',
  queryMode: 'Logs',
  expression: 'fields @timestamp, @log, message | sort @timestamp desc',
  ...extra,
});

const variable = (
  name: string,
  value: string | string[],
  extra: Partial<ResolvedVariable> = {},
): ResolvedVariable => ({
  name,
  label: name,
  multi: Array.isArray(value),
  value,
  text: value,
  options: [],
  ...extra,
});

type Expectation =
  | { frames: { label: string; values: (number | null)[] }[] }
  | { error: RegExp }
  | { rows: string[][] }
  | { note: RegExp };

interface Case {
  name: string;
  source: string;
  targets: Target[];
  variables?: Variables;
  /** The recorded world, when not `world()`. */
  sources?: () => Sources;
  expect: Expectation;
}

const groupArns = ['/aws/lambda/a', '/aws/lambda/b'].map(localLogGroupArn);

const cases: Case[] = [
  // ── Metric math ──────────────────────────────────────────────────────────────────────
  {
    name: 'SUM of an array of series is one series, summed per timestamp',
    source: `${MATH} (SUM: time series array → time series)`,
    targets: [metric('m', { hide: true }), math('e', 'SUM(m)')],
    expect: { frames: [{ label: 'e', values: [52, 30] }] },
  },
  {
    name: 'SUM of one metric is a number, and an expression returning a number is refused',
    source: `${MATH} (SUM of a single time series returns a scalar)`,
    targets: [lambda('m', 'f1', { hide: true }), math('e', 'SUM(m)')],
    expect: { error: /Error in expression 'e'.*single number/ },
  },
  {
    name: 'AVG of one metric is a number that arithmetic spreads over a series',
    source: `${MATH} (AVG of a single time series returns a scalar)`,
    targets: [lambda('m', 'f1', { hide: true }), math('e', 'm / AVG(m)')],
    expect: { frames: [{ label: 'e', values: [1.5, 0.5] }] },
  },
  {
    name: 'MAX of an array is the largest value of each timestamp',
    source: `${MATH} (MAX)`,
    targets: [metric('m', { hide: true }), math('e', 'MAX(m)')],
    expect: { frames: [{ label: 'e', values: [42, 30] }] },
  },
  {
    name: 'MIN of an array is the smallest value of each timestamp',
    source: `${MATH} (MIN)`,
    targets: [metric('m', { hide: true }), math('e', 'MIN(m)')],
    expect: { frames: [{ label: 'e', values: [10, 30] }] },
  },
  {
    name: 'PERIOD of one metric is its period in seconds',
    source: `${MATH} (PERIOD: returns the period of the metric in seconds)`,
    targets: [lambda('m', 'f1', { hide: true }), math('e', 'm / PERIOD(m)')],
    expect: { frames: [{ label: 'e', values: [3 / 5, 1 / 5] }] },
  },
  {
    name: 'PERIOD of a search result (an array) is refused',
    source: `${MATH} (PERIOD takes a metric, not the result of an expression); ${BUILDER}`,
    targets: [metric('m', { hide: true }), math('e', 'SUM(m) / PERIOD(m)')],
    expect: { error: /Error in expression 'e': PERIOD takes one metric/ },
  },
  {
    name: 'PERIOD of another expression is refused',
    source: `${MATH} (PERIOD: valid input is metrics, not the results of other expressions)`,
    targets: [
      lambda('m', 'f1', { hide: true }),
      math('d', 'm * 2', { hide: true }),
      math('e', 'm / PERIOD(d)'),
    ],
    expect: { error: /PERIOD takes one metric/ },
  },
  {
    name: "Grafana's $__period_auto stands for the period the queries use",
    source: `${QUERY_MODEL} (applyMacros)`,
    targets: [metric('m', { hide: true }), math('e', 'SUM(m) / $__period_auto')],
    expect: { frames: [{ label: 'e', values: [52 / 5, 30 / 5] }] },
  },
  {
    name: 'a number combines with each point of a series',
    source: `${MATH} (arithmetic operators: scalar and time series)`,
    targets: [lambda('m', 'f1', { hide: true }), math('e', '(m + 1) * 2')],
    expect: { frames: [{ label: 'e', values: [8, 4] }] },
  },
  {
    name: 'two series combine point by point, a missing value counting as 0',
    source: `${MATH} (basic arithmetic: "Missing values in a time series are treated as 0")`,
    targets: [
      lambda('a', 'f1', { hide: true }),
      lambda('b', 'f2', { hide: true }),
      math('e', 'a + b'),
    ],
    expect: { frames: [{ label: 'e', values: [3, 2] }] },
  },
  {
    name: 'dividing by a missing value divides by 0: the point is dropped',
    source: `${MATH} ("If the value of a data point causes a function to attempt to divide by zero, the data point is dropped")`,
    targets: [
      lambda('a', 'f1', { hide: true }),
      lambda('b', 'f2', { hide: true }),
      math('e', 'a / b'),
    ],
    expect: { frames: [{ label: 'e', values: [null, 1] }] },
  },
  {
    name: 'AVG of an array counts a missing value as 0',
    source: `${MATH} (AVG: "Missing values are treated as 0")`,
    targets: [metric('m', { hide: true }), math('e', 'AVG(m)')],
    expect: { frames: [{ label: 'e', values: [26, 15] }] },
  },
  {
    name: 'a multi-value variable holding one value sends one metric: SUM of it is a number, refused',
    source: `${QUERY_MODEL} (IsInferredSearchExpression: a search only for more than one value or *); ${MATH} (SUM of a single time series returns a scalar)`,
    targets: [lambda('m', '$fn', { hide: true }), math('e', 'SUM(m)')],
    variables: {
      fn: variable('fn', ['$__all'], {
        text: ['All'],
        options: [{ text: 'f1', value: 'f1' }],
      }),
    },
    expect: { error: /Error in expression 'e'.*single number/ },
  },
  {
    name: 'the array form SUM([m]) of one metric stays a series',
    source: `${MATH} (SUM([m1,m2]): an array of time series returns a time series)`,
    targets: [lambda('m', '$fn', { hide: true }), math('e', 'SUM([m])')],
    variables: {
      fn: variable('fn', ['$__all'], {
        text: ['All'],
        options: [{ text: 'f1', value: 'f1' }],
      }),
    },
    expect: { frames: [{ label: 'e', values: [3, 1] }] },
  },
  {
    name: 'an array literal takes the series of searches and metrics alike, flattened',
    source: `${MATH} (SUM([METRICS("4xx"), METRICS("5xx")]): arrays in an array)`,
    targets: [
      metric('m', { hide: true }),
      lambda('n', 'f2', { hide: true }),
      math('e', 'SUM([m, n])'),
    ],
    expect: { frames: [{ label: 'e', values: [52, 31] }] },
  },
  {
    name: 'a number in an array is refused',
    source: `${MATH} (TS[]: an array of time series)`,
    targets: [lambda('m', 'f1', { hide: true }), math('e', 'SUM([m, 2])')],
    expect: { error: /Error in expression 'e': an array holds time series/ },
  },
  {
    name: 'SUM of a search that found nothing is a series of no data, which adds as 0',
    source: `${MATH} (SUM of TS[] returns TS; missing values treated as 0); ${BUILDER} (REMOVE_EMPTY)`,
    targets: [
      metric('none', { dimensions: { SensorId: '*', User: '*', Type: 'nothing' }, hide: true }),
      lambda('a', 'f1', { hide: true }),
      math('e', 'SUM([none]) + a'),
    ],
    expect: { frames: [{ label: 'e', values: [3, 1] }] },
  },
  {
    name: 'an array divided by a number stays an array, one series each',
    source: `${MATH} (functions applied to arrays return arrays)`,
    targets: [
      metric('m', { hide: true }),
      math('e', 'm / 2', { label: "${PROP('Dim.SensorId')} half" }),
    ],
    expect: {
      frames: [
        { label: 's1 half', values: [21, 15] },
        { label: 's2 half', values: [5, null] },
      ],
    },
  },
  {
    name: 'a math expression referring to an id not in the request is refused',
    source: `${GMD} (ValidationError); ${DS} pkg/cloudwatch/time_series_query.go ("Error in expression '<id>'")`,
    targets: [metric('m', { hide: true }), math('e', 'SUM(x)')],
    expect: { error: /Error in expression 'e': Unrecognized metric or expression id x/ },
  },
  {
    name: 'an id that does not start with a lowercase letter is refused',
    source: `${MDQ} (Id: must start with a lowercase letter); ${QUERY_MODEL} (validMetricDataID)`,
    targets: [metric('M')],
    expect: { error: /failed to satisfy constraint.*\^\[a-z\]/ },
  },
  {
    name: 'ids must be unique in a request',
    source: `${MDQ} (Id: must be unique within one GetMetricData call)`,
    targets: [lambda('m', 'f1'), lambda('m', 'f2')],
    expect: { error: /must be unique: m/ },
  },
  {
    name: "one expression error fails the panel's whole request, good queries included",
    source: `${DS} pkg/cloudwatch/time_series_query.go (one error fails the batch)`,
    targets: [lambda('ok', 'f1'), metric('m', { hide: true }), math('e', 'SUM(m) / PERIOD(m)')],
    expect: { error: /^metric request error: / },
  },
  {
    name: 'a hidden query feeds math but returns no series',
    source: `${MDQ} (ReturnData false)`,
    targets: [lambda('m', 'f1', { hide: true }), math('e', 'm * 10')],
    expect: { frames: [{ label: 'e', values: [30, 10] }] },
  },
  {
    name: 'a math query without a statistic is refused by the backend',
    source: `${QUERY_MODEL} (validateAndSetDefaults: "query must have either statistic or statistics field")`,
    targets: [lambda('m', 'f1', { hide: true }), { ...math('e', 'm * 2'), statistic: undefined }],
    expect: { error: /query must have either statistic or statistics field/ },
  },
  {
    name: 'a query without an id is known to math as query<refId>',
    source: `${QUERY_MODEL} (validateAndSetDefaults: q.Id = "query" + refId)`,
    targets: [
      { ...lambda('x', 'f1', { hide: true }), id: undefined, refId: 'A' },
      math('e', 'queryA * 2'),
    ],
    expect: { frames: [{ label: 'e', values: [6, 2] }] },
  },
  // ── Builder queries as Grafana sends them ───────────────────────────────────────────────
  {
    name: 'a `*` dimension makes a search: one series per metric, empty ones removed',
    source: `${BUILDER} (REMOVE_EMPTY(SEARCH(...)))`,
    targets: [metric('m')],
    expect: {
      frames: [
        { label: 's1', values: [42, 30] },
        { label: 's2', values: [10, null] },
      ],
    },
  },
  {
    name: 'a multi-value variable with two values makes a search over those values',
    source: `${QUERY_MODEL} (IsInferredSearchExpression: more than one value)`,
    targets: [lambda('m', '$fn')],
    variables: { fn: variable('fn', ['f1', 'f2']) },
    expect: {
      frames: [
        { label: 'f1', values: [3, 1] },
        { label: 'f2', values: [null, 1] },
      ],
    },
  },
  {
    name: 'a search returns at most 500 series',
    source: `${SEARCH_SYNTAX} (a search returns up to 500 time series); ${BUILDER}`,
    sources: manyRuns,
    targets: [
      metric('m', {
        metricName: 'DataIngested',
        dimensions: { RunId: '*' },
        hide: true,
      }),
      math('e', 'SUM(m * 0 + 1)', { label: 'metrics counted' }),
    ],
    expect: { frames: [{ label: 'metrics counted', values: [500, null] }] },
  },
  {
    name: 'single values make one metric (MetricStat), a series even without data',
    source: `${DS} pkg/cloudwatch/metric_data_query_builder.go (GMDApiModeMetricStat)`,
    targets: [lambda('m', 'nothing-here')],
    expect: { frames: [{ label: 'nothing-here', values: [null, null] }] },
  },
  {
    name: 'matchExact false also matches metrics with more dimensions',
    source: `${BUILDER} (no schema when matchExact is false)`,
    targets: [metric('m', { dimensions: { SensorId: 's1' }, matchExact: false, label: 'any' })],
    expect: {
      frames: [
        { label: 'any', values: [42, 30] },
        { label: 'any', values: [99, null] },
      ],
    },
  },
  {
    name: 'a query without a region is not sent at all',
    source: FILTER,
    targets: [{ ...lambda('m', 'f1'), region: undefined }],
    expect: { frames: [] },
  },
  {
    name: 'a builder query without a statistic is not sent, so math cannot refer to it',
    source: FILTER,
    targets: [{ ...lambda('m', 'f1', { hide: true }), statistic: undefined }, math('e', 'm * 2')],
    expect: { error: /Unrecognized metric or expression id m/ },
  },
  // ── Metrics Insights ───────────────────────────────────────────────────────────────────
  {
    name: 'SUM grouped by a label key: one series per group',
    source: MI_SYNTAX,
    targets: [
      sql('g', 'SELECT SUM(Reading) FROM SCHEMA("NS", SensorId, "User", "Type") GROUP BY SensorId'),
    ],
    expect: {
      frames: [
        { label: 's1', values: [42, 30] },
        { label: 's2', values: [60, null] },
      ],
    },
  },
  {
    name: 'User unquoted in SCHEMA is a syntax error',
    source: MI_KEYWORDS,
    targets: [
      sql('g', 'SELECT SUM(Reading) FROM SCHEMA("NS", SensorId, User, "Type") GROUP BY SensorId'),
    ],
    expect: { error: /Error in expression 'g': Syntax error: User is a reserved keyword/ },
  },
  {
    name: 'Type unquoted in GROUP BY is a syntax error',
    source: MI_KEYWORDS,
    targets: [
      sql('g', 'SELECT SUM(Reading) FROM SCHEMA("NS", SensorId, "User", "Type") GROUP BY Type'),
    ],
    expect: { error: /Type is a reserved keyword/ },
  },
  {
    name: 'User unquoted in WHERE is a syntax error',
    source: MI_KEYWORDS,
    targets: [
      sql(
        'g',
        `SELECT SUM(Reading) FROM SCHEMA("NS", SensorId, "User", "Type") WHERE User = 'alice'`,
      ),
    ],
    expect: { error: /User is a reserved keyword/ },
  },
  {
    name: 'reserved keywords are not case sensitive: user is reserved too',
    source: `${MI_KEYWORDS} ("Reserved keywords are not case sensitive")`,
    targets: [sql('g', 'SELECT SUM(Reading) FROM SCHEMA("NS", SensorId, user, "Type")')],
    expect: { error: /user is a reserved keyword/ },
  },
  {
    name: 'WHERE on a quoted key filters; values are single-quoted',
    source: MI_SYNTAX,
    targets: [
      sql(
        'g',
        `SELECT MAX(Reading) FROM SCHEMA("NS", SensorId, "User", "Type") WHERE "Type" = 'h' GROUP BY SensorId`,
      ),
    ],
    expect: { frames: [{ label: 's2', values: [50, null] }] },
  },
  {
    name: 'WHERE != excludes a value',
    source: `${MI_SYNTAX} (WHERE operators)`,
    targets: [
      sql(
        'g',
        `SELECT COUNT(Reading) FROM SCHEMA("NS", SensorId, "User", "Type") WHERE SensorId != 's1' GROUP BY SensorId`,
      ),
    ],
    expect: { frames: [{ label: 's2', values: [2, null] }] },
  },
  {
    name: 'a label value in double quotes is an identifier, not a value: refused',
    source: `${MI_SYNTAX} ("What needs quotes or escape characters?")`,
    targets: [
      sql(
        'g',
        'SELECT SUM(Reading) FROM SCHEMA("NS", SensorId, "User", "Type") WHERE SensorId = "s1"',
      ),
    ],
    expect: { error: /must be in single quotes/ },
  },
  {
    name: 'SCHEMA matches only metrics with exactly those keys',
    source: `${MI_SYNTAX} (SCHEMA)`,
    targets: [sql('g', 'SELECT SUM(Reading) FROM SCHEMA("NS", SensorId)')],
    expect: { frames: [{ label: '', values: [99, null] }] },
  },
  {
    name: 'FROM a namespace without SCHEMA aggregates every dimension set into one series',
    source: `${MI_SYNTAX} (FROM namespace)`,
    targets: [{ ...sql('g', 'SELECT SUM(Reading) FROM "NS"'), label: 'all' }],
    expect: { frames: [{ label: 'all', values: [201, 30] }] },
  },
  {
    name: 'ORDER BY SUM() DESC LIMIT keeps the largest groups',
    source: `${MI_SYNTAX} (ORDER BY, LIMIT)`,
    targets: [
      sql(
        'g',
        'SELECT SUM(Reading) FROM SCHEMA("NS", SensorId, "User", "Type") GROUP BY SensorId ORDER BY SUM() DESC LIMIT 1',
      ),
    ],
    expect: { frames: [{ label: 's1', values: [42, 30] }] },
  },
  {
    name: 'only AVG, COUNT, MAX, MIN and SUM aggregate',
    source: `${MI_SYNTAX} (FUNCTION)`,
    targets: [sql('g', 'SELECT P99(Reading) FROM SCHEMA("NS", SensorId)')],
    expect: { error: /P99 is not one of AVG, COUNT, MAX, MIN, SUM/ },
  },
  {
    name: 'a namespace with a slash must be quoted',
    source: `${MI_SYNTAX} (namespaces with / must be in double quotes)`,
    targets: [sql('g', 'SELECT SUM(Invocations) FROM SCHEMA(AWS/Lambda, FunctionName)')],
    expect: { error: /Syntax error/ },
  },
  {
    name: 'Metrics Insights returns at most 500 series, whatever the groups',
    source: `${MI_LIMITS} ("A single query can return no more than 500 time series")`,
    sources: manyRuns,
    targets: [
      {
        ...sql('g', 'SELECT SUM(DataIngested) FROM SCHEMA("NS", RunId) GROUP BY RunId'),
        hide: true,
      },
      math('e', 'SUM(g * 0 + 1)', { label: 'groups' }),
    ],
    expect: { frames: [{ label: 'groups', values: [500, null] }] },
  },
  {
    name: 'Metrics Insights LIMIT above 500 is refused',
    source: `${MI_SYNTAX} (LIMIT: "The maximum value that you can specify is 500")`,
    targets: [sql('g', 'SELECT SUM(Reading) FROM "NS" LIMIT 501')],
    expect: { error: /LIMIT is at most 500/ },
  },
  {
    name: 'one GetMetricData request holds one Metrics Insights query',
    source: `${GMD} ("each GetMetricData operation can include only one query"); ${DS} pkg/cloudwatch/get_metric_query_batches.go`,
    targets: [
      { ...sql('a', 'SELECT SUM(Reading) FROM "NS"'), hide: true },
      { ...sql('b', 'SELECT MAX(Reading) FROM "NS"'), hide: true },
      math('e', 'a + b'),
    ],
    expect: { error: /only one Metrics Insights query/ },
  },
  // ── Logs Insights and log group selection ───────────────────────────────────────────────
  {
    name: 'logGroups take the variable values (ARNs): All reads every group',
    source: LOG_GROUPS,
    targets: [logsQuery({ logGroups: [{ arn: '$lg', name: '$lg' }] })],
    variables: {
      lg: variable('lg', ['$__all'], {
        text: ['All'],
        options: groupArns.map((arn, i) => ({
          text: ['/aws/lambda/a', '/aws/lambda/b'][i] as string,
          value: arn,
        })),
      }),
    },
    expect: {
      rows: [
        [new Date(T0 + 4000).toISOString(), '/aws/lambda/b', 'Record failed'],
        [new Date(T0 + 3000).toISOString(), '/aws/lambda/b', 'bang'],
        [new Date(T0 + 2000).toISOString(), '/aws/lambda/a', 'ok'],
        [new Date(T0 + 1000).toISOString(), '/aws/lambda/a', 'boom'],
      ],
    },
  },
  {
    name: 'logGroupNames take the variable text: with All selected that is the group "All"',
    source: `${LOG_GROUPS} (key 'text'); ${START_QUERY} (ResourceNotFoundException)`,
    targets: [logsQuery({ logGroupNames: ['$lg'] })],
    variables: { lg: variable('lg', ['$__all'], { text: ['All'], options: [] }) },
    expect: { error: /ResourceNotFoundException.*All/ },
  },
  {
    name: 'All kept as a plain string is one joined value, not a list of ARNs',
    source: `${LOG_GROUPS} (a string value is interpolated whole)`,
    targets: [logsQuery({ logGroups: [{ arn: '$lg', name: '$lg' }] })],
    variables: {
      lg: variable('lg', '$__all', {
        multi: true,
        text: 'All',
        options: groupArns.map((arn) => ({ text: arn, value: arn })),
      }),
    },
    expect: { error: /ResourceNotFoundException/ },
  },
  {
    name: 'StartQuery takes at most 50 log groups',
    source: `${START_QUERY} (logGroupIdentifiers: maximum 50 items)`,
    targets: [logsQuery({ logGroupNames: Array.from({ length: 51 }, (_, i) => `/g/${i}`) })],
    expect: { error: /at most 50 log groups/ },
  },
  {
    name: 'filter on a JSON field, sort descending, limit',
    source: `${LOGS_SYNTAX} (fields, filter, sort, limit)`,
    targets: [
      logsQuery({
        logGroupNames: ['/aws/lambda/a', '/aws/lambda/b'],
        expression:
          'fields @log, message | filter level = "ERROR" | sort @timestamp desc | limit 1',
      }),
    ],
    expect: { rows: [['/aws/lambda/b', 'Record failed']] },
  },
  {
    name: 'a JSON object is flattened into dotted fields: error.message, error.name',
    source: `${LOGS_FIELDS}; ${LOGS_PARSE} ("JSON log events are flattened during ingestion")`,
    targets: [
      logsQuery({
        logGroupNames: ['/aws/lambda/b'],
        expression:
          'fields message, error.name, error.message | filter level = "ERROR" | sort @timestamp desc | limit 1',
      }),
    ],
    expect: { rows: [['Record failed', 'ThrottlingException', 'Rate exceeded']] },
  },
  {
    name: 'an object is not a field itself: `error` of an error object is empty',
    source: `${LOGS_FIELDS} (discovered fields are the JSON's leaves)`,
    targets: [
      logsQuery({
        logGroupNames: ['/aws/lambda/b'],
        expression: 'fields message, error | sort @timestamp desc | limit 1',
      }),
    ],
    expect: { rows: [['Record failed', '']] },
  },
  {
    name: 'limit above 10,000 is refused',
    source: `${LOGS_SYNTAX} (limit: up to 10,000 log events)`,
    targets: [
      logsQuery({ logGroupNames: ['/aws/lambda/a'], expression: 'fields @message | limit 20000' }),
    ],
    expect: { error: /limit must be between 1 and 10000/ },
  },
  {
    name: 'a Logs Insights command the stand-in does not implement is a note, not an error',
    source: `${LOGS_SYNTAX} (stats)`,
    targets: [
      logsQuery({ logGroupNames: ['/aws/lambda/a'], expression: 'stats count() by bin(1m)' }),
    ],
    expect: { note: /cannot answer this panel: Logs Insights command stats/ },
  },
];

describe('conformance of the local CloudWatch evaluator', () => {
  it('holds at least 40 cases, each with its source', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    for (const c of cases) expect(c.source, c.name).toMatch(/docs\.aws\.amazon\.com|grafana\//);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const result = evaluatePanel(
      panel(...c.targets),
      (c.sources ?? world)(),
      WINDOW,
      c.variables ?? {},
    );
    const expectation = c.expect;
    if ('error' in expectation) {
      expect(result.errors.join('\n'), c.source).toMatch(expectation.error);
      expect(result.frames ?? [], 'a refused request returns no series').toEqual([]);
    } else if ('note' in expectation) {
      expect(result.errors).toEqual([]);
      expect(result.notes.join('\n')).toMatch(expectation.note);
    } else if ('rows' in expectation) {
      expect(result.errors, c.source).toEqual([]);
      expect(result.table?.rows).toEqual(expectation.rows);
    } else {
      expect(result.errors, c.source).toEqual([]);
      expect(result.frames, c.source).toEqual(expectation.frames);
    }
  });
});

describe('Metrics Insights reserved keywords, the full AWS list as data', () => {
  it(`has the ${INSIGHTS_RESERVED_KEYWORDS.size} words of ${MI_KEYWORDS}`, () => {
    expect(INSIGHTS_RESERVED_KEYWORDS.size).toBe(917);
    for (const word of ['USER', 'TYPE', 'OPERATION', 'TIMESTAMP', 'ZONE', 'ABORT'])
      expect(INSIGHTS_RESERVED_KEYWORDS.has(word)).toBe(true);
  });

  it('every reserved word is refused unquoted as a label key and accepted quoted', () => {
    for (const word of INSIGHTS_RESERVED_KEYWORDS) {
      const key = word.charAt(0) + word.slice(1).toLowerCase();
      // A word with other characters than letters, digits and _ (END-EXEC) fails unquoted anyway.
      const refusal = /^[A-Za-z_]\w*$/.test(key) ? /reserved keyword/ : /unexpected character/;
      expect(
        () => parseInsights(`SELECT SUM(m) FROM SCHEMA("NS", ${key}) GROUP BY ${key}`),
        word,
      ).toThrow(refusal);
      expect(insightsIdentifier(key)).toBe(`"${key}"`);
      expect(
        parseInsights(`SELECT SUM(m) FROM SCHEMA("NS", ${insightsIdentifier(key)})`).schema,
      ).toEqual([key]);
    }
    expect(insightsIdentifier('SensorId')).toBe('SensorId');
  });
});

/** ListMetrics and DescribeLogGroups as the variable tests see them. */
const listing = (runs: string[]): VariableSources => ({
  dimensionValues: (_ns, _metric, key) => (key === 'RunId' ? runs : ['s1', 's2']),
  logGroups: () => [],
});

const queryVariable = (name: string, extra: Partial<VariableJson> = {}): VariableJson => ({
  type: 'query',
  name,
  refresh: 2,
  query: {
    queryType: 'dimensionValues',
    namespace: 'NS',
    metricName: 'Reading',
    dimensionKey: 'RunId',
  },
  ...extra,
});

describe('variables as Grafana resolves them', () => {
  const params = (query: string) => new URLSearchParams(query);

  it(`lists nothing for a query type Grafana does not have (${VARIABLES})`, () => {
    expect(VARIABLE_QUERY_TYPES).toContain('dimensionValues');
    const resolved = resolveVariables(
      [
        queryVariable('run', {
          query: {
            queryType: 'DimensionValues',
            namespace: 'NS',
            metricName: 'Reading',
            dimensionKey: 'RunId',
          },
        }),
      ],
      params(''),
      listing(['r1']),
      'load',
    );
    expect(resolved.run?.options).toEqual([]);
    expect(resolved.run?.note).toMatch(/no variable query type "DimensionValues"/);
  });

  it(`keeps a URL value that is not listed when the dashboard loads (${SCENES}: skipNextValidation)`, () => {
    const resolved = resolveVariables(
      [queryVariable('run')],
      params('var-run=new'),
      listing(['r1', 'r2']),
      'load',
    );
    expect(resolved.run?.value).toBe('new');
  });

  it(`replaces it by the first option at the next refresh on time range change (${SCENES})`, () => {
    const resolved = resolveVariables(
      [queryVariable('run')],
      params('var-run=new'),
      listing(['r1', 'r2']),
      'refresh',
    );
    expect(resolved.run?.value).toBe('r1');
  });

  it('keeps it at a refresh when the variable is listed only on dashboard load', () => {
    const resolved = resolveVariables(
      [queryVariable('run', { refresh: 1 })],
      params('var-run=new'),
      listing(['r1']),
      'refresh',
    );
    expect(resolved.run?.value).toBe('new');
  });

  it(`a multi-value variable with no listed value falls back to the first option (${SCENES})`, () => {
    const resolved = resolveVariables(
      [queryVariable('run', { multi: true })],
      params('var-run=gone'),
      listing(['r1', 'r2']),
      'refresh',
    );
    expect(resolved.run?.value).toEqual(['r1']);
  });

  it(`with no options and includeAll the value is All (${SCENES})`, () => {
    const resolved = resolveVariables(
      [
        queryVariable('run', {
          multi: true,
          includeAll: true,
          current: { text: ['r9'], value: ['r9'] },
        }),
      ],
      params(''),
      listing([]),
      'load',
    );
    expect(resolved.run?.value).toBe('$__all');
  });

  it(`URL "All" or the allValue itself mean All; All expands to allValue (${SCENES}: updateFromUrl)`, () => {
    const sensor = queryVariable('sensor', { multi: true, includeAll: true, allValue: '*' });
    for (const query of ['var-sensor=All', 'var-sensor=*']) {
      const resolved = resolveVariables([sensor], params(query), listing(['r1']), 'load');
      expect(resolved.sensor?.value).toEqual(['$__all']);
    }
    const withAllValue = resolveVariables(
      [sensor],
      params('var-sensor=All'),
      listing(['r1', 'r2']),
      'load',
    );
    const withoutAllValue = resolveVariables(
      [{ ...sensor, allValue: undefined }],
      params('var-sensor=All'),
      listing(['r1', 'r2']),
      'load',
    );
    const expand = (v: ResolvedVariable | undefined) =>
      evaluatePanel(panel(lambda('m', '$sensor')), world(), WINDOW, { sensor: v! }).frames?.length;
    expect(expand(withAllValue.sensor)).toBe(2); // '*' matches f1 and f2
    expect(withoutAllValue.sensor?.options.map((o) => o.value)).toEqual(['r1', 'r2']);
  });

  it(`ListMetrics answers are kept for the page's life: a queue that reports later is not listed (${RESOURCES_API})`, () => {
    const queues = ['q'];
    const sources: VariableSources = {
      dimensionValues: () => [...queues],
      logGroups: () => [],
    };
    const queue = queryVariable('queue', {
      multi: true,
      includeAll: true,
      current: { text: ['All'], value: ['$__all'] },
      query: {
        queryType: 'dimensionValues',
        namespace: 'AWS/SQS',
        metricName: 'ApproximateNumberOfMessagesVisible',
        dimensionKey: 'QueueName',
      },
    });
    const page: ListingCache = new Map();
    const opened = resolveVariables([queue], params(''), sources, 'load', page);
    expect(opened.queue?.options.map((o) => o.value)).toEqual(['q']);
    queues.push('q-dlq'); // the dead-letter queue receives its first message
    const refreshed = resolveVariables([queue], params(''), sources, 'refresh', page);
    expect(refreshed.queue?.options.map((o) => o.value)).toEqual(['q']);
    // A new page (a reload) lists again.
    const reloaded = resolveVariables([queue], params(''), sources, 'load', new Map());
    expect(reloaded.queue?.options.map((o) => o.value)).toEqual(['q', 'q-dlq']);
  });

  it(`sort 2 orders the options alphabetically descending: the first is the largest (${SCENES_REGEX}: sortVariableValues)`, () => {
    const runs = ['0190a-old', '0199f-latest', '0195c-middle'];
    const sorted = resolveVariables(
      [queryVariable('run', { sort: 2 })],
      params(''),
      listing(runs),
      'load',
    );
    expect(sorted.run?.options.map((o) => o.value)).toEqual([
      '0199f-latest',
      '0195c-middle',
      '0190a-old',
    ]);
    // With no value from the URL, the first option is selected.
    expect(sorted.run?.value).toBe('0199f-latest');
    const unsorted = resolveVariables([queryVariable('run')], params(''), listing(runs), 'load');
    expect(unsorted.run?.value).toBe('0190a-old');
  });

  it(`a custom variable lists "text : value" pairs, other variables interpolated (${SCENES_CUSTOM})`, () => {
    const resolved = resolveVariables(
      [
        { type: 'custom', name: 'stage', query: 'dev' },
        {
          type: 'custom',
          name: 'fn',
          query: 'ingest : $stage-ingest-1A2B,consumer : $stage-consumer-3C4D,plain',
          multi: true,
          includeAll: true,
          current: { text: ['All'], value: ['$__all'] },
        },
      ],
      params(''),
      listing([]),
      'load',
    );
    expect(resolved.fn?.options).toEqual([
      { text: 'ingest', value: 'dev-ingest-1A2B' },
      { text: 'consumer', value: 'dev-consumer-3C4D' },
      { text: 'plain', value: 'plain' },
    ]);
  });

  it('a regex takes the values of the variables before it (grafana/scenes packages/scenes/src/variables/variants/query/QueryVariable.ts: the regex is interpolated)', () => {
    const resolved = resolveVariables(
      [
        { type: 'custom', name: 'stage', query: 'dev' },
        queryVariable('run', { regex: '/^$stage-/' }),
      ],
      params(''),
      listing(['dev-1', 'prod-1', 'dev-2']),
      'load',
    );
    expect(resolved.run?.options.map((o) => o.value)).toEqual(['dev-1', 'dev-2']);
  });

  it(`a regex keeps the options whose value matches, a capture group renames them (${SCENES_REGEX})`, () => {
    const resolved = resolveVariables(
      [queryVariable('run', { regex: '/^r(\\d)$/' })],
      params(''),
      listing(['r1', 'x2', 'r3', 'r1']),
      'load',
    );
    expect(resolved.run?.options).toEqual([
      { text: '1', value: '1' },
      { text: '3', value: '3' },
    ]);
  });
});

describe(`panel transformations (${TRANSFORMERS})`, () => {
  const result: PanelResult = {
    times: [100, 160, 220, 280],
    frames: [
      { label: 'rate', values: [1, 2, 0.4, null] },
      { label: 'other', values: [3, null, null, null] },
    ],
    errors: [],
    notes: [],
  };

  it('sortBy Time descending, then limit 2: the newest two rows, newest first (sortBy.ts, limit.ts)', () => {
    // A frame's rows are its periods with data: CloudWatch returns no point for an empty one.
    expect(
      transformResult(result, [
        { id: 'sortBy', options: { fields: {}, sort: [{ field: 'Time', desc: true }] } },
        { id: 'limit', options: { limitField: 2 } },
      ]),
    ).toEqual({
      errors: [],
      notes: [],
      frames: [
        { label: 'rate', times: [220, 160], values: [0.4, 2] },
        { label: 'other', times: [100], values: [3] },
      ],
    });
  });

  it('a transformation the stand-in does not implement is a note, the data left as it is', () => {
    const shown = transformResult(result, [{ id: 'reduce', options: {} }]);
    expect(shown.frames).toEqual(result.frames);
    expect(shown.notes.join()).toMatch(/cannot answer this panel: transformation reduce/);
  });
});
