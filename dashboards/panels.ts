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
import type { Query } from './queries.ts';

type Panel = TimeseriesBuilder | StatBuilder | BarGaugeBuilder | TableBuilder | LogsPanelBuilder;

interface Size {
  /** Width in grid columns (24 across). */
  w: number;
  h: number;
}

const sized = <P extends Panel>(panel: P, title: string, size: Size, targets: Query[]): P =>
  panel
    .title(title)
    .span(size.w)
    .height(size.h)
    .datasource(CLOUDWATCH_DATASOURCE)
    .targets(targets) as P;

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
const stagePrefix = stackNameFor(`$${DEPLOYMENT_VARIABLES.stage}` as StageName);

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
}

/** A variable listing the values of one dimension, as CloudWatch's ListMetrics reports them. */
export const dimensionValues = (name: string, label: string, spec: DimensionValuesSpec) => {
  const variable = new QueryVariableBuilder(name)
    .label(label)
    .datasource(CLOUDWATCH_DATASOURCE)
    .query({
      refId: 'CloudWatchVariableQueryEditor-VariableQuery',
      queryType: 'DimensionValues',
      region: 'default',
      namespace: spec.namespace,
      metricName: spec.metricName,
      dimensionKey: spec.dimensionKey,
      dimensionFilters: spec.dimensionFilters ?? {},
    })
    .refresh(VariableRefresh.OnTimeRangeChanged);
  if (spec.ofStage) variable.regex(`/^${stagePrefix}-/`);
  if (spec.multi) variable.multi(true).includeAll(true).current({ text: 'All', value: '$__all' });
  if (spec.allValue) variable.allValue(spec.allValue);
  return variable;
};

/** The stage's log groups (functions and API access logs): what Logs Insights panels read. */
export const logGroupsVariable = () =>
  new QueryVariableBuilder(DEPLOYMENT_VARIABLES.logGroups)
    .label('Log groups')
    .datasource(CLOUDWATCH_DATASOURCE)
    .query({
      refId: 'CloudWatchVariableQueryEditor-VariableQuery',
      queryType: 'LogGroups',
      region: 'default',
      logGroupPrefix: stagePrefix,
    })
    .refresh(VariableRefresh.OnDashboardLoad)
    .multi(true)
    .includeAll(true)
    .current({ text: 'All', value: '$__all' });

export type Variable = ReturnType<
  typeof stageVariable | typeof dimensionValues | typeof logGroupsVariable
>;

export interface DashboardSpec {
  identity: DashboardIdentity;
  description: string;
  variables: Variable[];
  rows: [title: string, panels: Panel[]][];
  time?: { from: string; to: string };
}

/** Builds the dashboard; panels are numbered in order, as Grafana expects unique ids. */
export const buildDashboard = (spec: DashboardSpec): Dashboard => {
  const builder = new DashboardBuilder(spec.identity.title)
    .uid(spec.identity.uid)
    .description(spec.description)
    .tags(['iot-playground', 'generated'])
    .timezone('browser')
    .refresh('30s')
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
  return dashboard;
};
