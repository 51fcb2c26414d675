/**
 * Panel and variable helpers: every panel reads the CloudWatch datasource by its provisioned
 * uid; the deployment variables pick a stage's resources from CloudWatch's own listings.
 */
import {
  BarGaugeDisplayMode,
  BigValueGraphMode,
  LegendDisplayMode,
  LegendPlacement,
  LogsSortOrder,
  ReduceDataOptionsBuilder,
  VizLegendOptionsBuilder,
  VizOrientation,
} from '@grafana/grafana-foundation-sdk/common';
import {
  CustomVariableBuilder,
  DashboardBuilder,
  QueryVariableBuilder,
  RowBuilder,
  VariableRefresh,
  type Dashboard,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as BarGaugeBuilder } from '@grafana/grafana-foundation-sdk/bargauge';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/datasource';
import { PanelBuilder as LogsPanelBuilder } from '@grafana/grafana-foundation-sdk/logs';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TableBuilder } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { STAGES, stackNameFor, type StageName } from '#infra/aws/stage-config.ts';
import {
  CLOUDWATCH_DATASOURCE,
  DEPLOYMENT_VARIABLES,
  type DashboardIdentity,
} from '#shared/grafana.ts';
import { functionNames } from '#infra/topology.ts';
import {
  VARIABLE_QUERY_REF_ID,
  VariableQueryType,
  type CloudWatchVariableQuery,
  type DimensionValuesQuery,
  type LogGroupsQuery,
  DASHBOARD_DATASOURCE,
} from '#shared/dashboard-model/index.ts';
import type { Query } from './queries.ts';

type Panel = TimeseriesBuilder | StatBuilder | BarGaugeBuilder | TableBuilder | LogsPanelBuilder;

interface Size {
  /** Width in grid columns (24 across). */
  w: number;
  h: number;
}

const sized = <P extends Panel>(panel: P, title: string, size: Size, targets: Query[]): P => {
  const reuses = targets.some(
    (t) =>
      (t.build() as { datasource?: { uid?: string } }).datasource?.uid === DASHBOARD_DATASOURCE.uid,
  );
  return panel
    .title(title)
    .span(size.w)
    .height(size.h)
    .datasource(reuses ? { ...DASHBOARD_DATASOURCE } : CLOUDWATCH_DATASOURCE)
    .targets(targets) as P;
};

const legend = () =>
  new VizLegendOptionsBuilder()
    .showLegend(true)
    .displayMode(LegendDisplayMode.List)
    .placement(LegendPlacement.Bottom);

export const timeseries = (title: string, size: Size, targets: Query[], unit = 'short') =>
  sized(new TimeseriesBuilder(), title, size, targets)
    .unit(unit)
    .legend(legend())
    .fillOpacity(10)
    .lineWidth(2);

/** One number per series, reduced over the time range by `calc` (`sum`, `lastNotNull`, …). */
export const stat = (title: string, size: Size, targets: Query[], calc: string, unit = 'short') =>
  sized(new StatBuilder(), title, size, targets)
    .unit(unit)
    .graphMode(BigValueGraphMode.Area)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs([calc]));

export const barGauge = (
  title: string,
  size: Size,
  targets: Query[],
  calc: string,
  unit = 'short',
) =>
  sized(new BarGaugeBuilder(), title, size, targets)
    .unit(unit)
    .orientation(VizOrientation.Horizontal)
    .displayMode(BarGaugeDisplayMode.Gradient)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs([calc]));

export const table = (title: string, size: Size, targets: Query[]) =>
  sized(new TableBuilder(), title, size, targets);

export const logsPanel = (title: string, size: Size, targets: Query[]) =>
  sized(new LogsPanelBuilder(), title, size, targets)
    .showTime(true)
    .wrapLogMessage(true)
    .sortOrder(LogsSortOrder.Descending);

/** The stage (`dev`, `prod`): every other deployment variable is read within it. */
export const stageVariable = () =>
  new CustomVariableBuilder(DEPLOYMENT_VARIABLES.stage)
    .label('Stage')
    .values(STAGES.join(','))
    .current({ text: STAGES[0], value: STAGES[0] });

/** CDK names every resource of a stage after its stack; Grafana fills in the stage. */
export const stagePrefix = stackNameFor(`$${DEPLOYMENT_VARIABLES.stage}` as StageName);

/** A multi-value variable's All, as Grafana saves it: arrays, so `logGroups` splits it. */
const ALL = { text: ['All'], value: ['$__all'] };

/**
 * When a variable lists its options again. `load`: once when the dashboard opens (a value from
 * the URL is kept, listed or not). `timeRange`: at every time range change, which every
 * auto-refresh of a relative range is; a value no longer listed is replaced.
 */
export type Relisting = 'load' | 'timeRange';

const REFRESH: Record<Relisting, VariableRefresh> = {
  load: VariableRefresh.OnDashboardLoad,
  timeRange: VariableRefresh.OnTimeRangeChanged,
};

interface DimensionValuesSpec {
  namespace: string;
  metricName: string;
  dimensionKey: string;
  dimensionFilters?: Record<string, string>;
  /** Keep only this stage's resources (their names start with the stack name). */
  ofStage?: boolean;
  multi?: boolean;
  /** What "All" means; without it, All lists every value the query found. */
  allValue?: string;
  relisting: Relisting;
}

/** A variable listing the values of one dimension, as CloudWatch's ListMetrics reports them. */
export const dimensionValues = (name: string, label: string, spec: DimensionValuesSpec) => {
  const query: DimensionValuesQuery = {
    refId: VARIABLE_QUERY_REF_ID,
    queryType: VariableQueryType.dimensionValues,
    region: 'default',
    namespace: spec.namespace,
    metricName: spec.metricName,
    dimensionKey: spec.dimensionKey,
    dimensionFilters: spec.dimensionFilters ?? {},
  };
  const variable = variableOf(name, label, query).refresh(REFRESH[spec.relisting]);
  if (spec.ofStage) variable.regex(`/^${stagePrefix}-/`);
  if (spec.multi) variable.multi(true).includeAll(true).current(ALL);
  if (spec.allValue) variable.allValue(spec.allValue);
  return variable;
};

const variableOf = (name: string, label: string, query: CloudWatchVariableQuery) =>
  new QueryVariableBuilder(name)
    .label(label)
    .datasource(CLOUDWATCH_DATASOURCE)
    .query({ ...query });

/**
 * The log groups of the stage's functions, and only those: the Grafana task role may query just
 * them, and one log group it may not read fails the whole Logs Insights query (AccessDenied). The
 * stage prefix alone also matches the API access logs and Grafana's own; the regex, applied to
 * each option's value (the ARN), keeps the groups CloudFormation names after the functions'
 * log group constructs (`<stack>-<function>LogGroup<hash>-<suffix>`).
 */
export const logGroupsVariable = () => {
  const query: LogGroupsQuery = {
    refId: VARIABLE_QUERY_REF_ID,
    queryType: VariableQueryType.logGroups,
    region: 'default',
    logGroupPrefix: `${stagePrefix}-`,
  };
  return variableOf(DEPLOYMENT_VARIABLES.logGroups, 'Log groups', query)
    .regex(functionLogGroupRegex(stagePrefix, functionNames))
    .refresh(VariableRefresh.OnDashboardLoad)
    .multi(true)
    .includeAll(true)
    .current(ALL);
};

export type Variable = ReturnType<
  typeof stageVariable | typeof dimensionValues | typeof logGroupsVariable
>;

export interface DashboardSpec {
  identity: DashboardIdentity;
  description: string;
  variables: Variable[];
  rows: [title: string, panels: Panel[]][];
  time?: { from: string; to: string };
  /**
   * How often an open tab refreshes on AWS: every refresh is a GetMetricData call billed per
   * metric (open-tab-cost.test.ts holds each dashboard to its budget at this rate).
   */
  refresh: string;
}

/** Builds the dashboard; panels are numbered in order, as Grafana expects unique ids. */
export const buildDashboard = (spec: DashboardSpec): Dashboard => {
  const builder = new DashboardBuilder(spec.identity.title)
    .uid(spec.identity.uid)
    .description(spec.description)
    .tags(['iot-playground', 'generated'])
    .timezone('browser')
    .refresh(spec.refresh)
    .time(spec.time ?? { from: 'now-1h', to: 'now' })
    .readonly()
    .variables(spec.variables);
  for (const [title, panels] of spec.rows) {
    builder.withRow(new RowBuilder(title));
    for (const panel of panels) builder.withPanel(panel);
  }
  const dashboard = builder.build();
  dashboard.panels?.forEach((panel, index) => {
    panel.id = index + 1;
  });
  linkPanelResults(dashboard);
  return dashboard;
};

const RESULTS_OF = 'results-of:';

/** Points each panel that reuses another panel's results at that panel's id. */
const linkPanelResults = (dashboard: Dashboard) => {
  const panels = (dashboard.panels ?? []) as { id?: number; title?: string; targets?: unknown[] }[];
  for (const panel of panels) {
    for (const target of (panel.targets ?? []) as { panelId?: number; refId?: string }[]) {
      if (!target.refId?.startsWith(RESULTS_OF)) continue;
      const title = target.refId.slice(RESULTS_OF.length);
      const source = panels.find((p) => p.title === title);
      if (!source?.id) throw new Error(`No panel titled ${title} to reuse`);
      target.panelId = source.id;
      target.refId = 'A';
    }
  }
};

/**
 * A query of Grafana's Dashboard datasource: the panel shows the results of the panel with this
 * title, without querying CloudWatch again (its metrics are billed once). The title rides in the
 * refId until buildDashboard has numbered the panels.
 */
export const resultsOf = (title: string): Query =>
  new DataqueryBuilder()
    .datasource({ ...DASHBOARD_DATASOURCE })
    .panelId(0)
    .refId(`${RESULTS_OF}${title}`);

/**
 * The ARN regex that keeps the functions' log groups of a stack (`prefix` may hold `$stage`,
 * which Grafana interpolates in a variable's regex): CloudFormation names a log group without a
 * name `<stack>-<logical id>-<random>`, and CDK gives each function's group the logical id
 * `<function>LogGroup<8 hex digits>` (ServiceFunction in infra/aws/constructs/function-factory.ts).
 */
export const functionLogGroupRegex = (prefix: string, functions: readonly string[]): string =>
  `/:log-group:${prefix}-(?:${functions.join('|')})LogGroup[0-9A-F]{8}-[A-Za-z0-9]+:\\*$/`;
