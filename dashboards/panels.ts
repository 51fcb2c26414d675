/**
 * Panel and variable helpers: every panel reads the CloudWatch datasource by its provisioned
 * uid; the deployment's own resources come from the deployment as Grafana starts
 * (shared/dashboard-model/deployment.ts), never from CloudWatch's listings.
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
  DashboardLinkBuilder,
  DashboardLinkType,
  QueryVariableBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
  type Dashboard,
  type DataTransformerConfig,
  type Threshold,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as BarGaugeBuilder } from '@grafana/grafana-foundation-sdk/bargauge';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/datasource';
import { PanelBuilder as LogsPanelBuilder } from '@grafana/grafana-foundation-sdk/logs';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TableBuilder } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import {
  CLOUDWATCH_DATASOURCE,
  DEPLOYMENT_VARIABLES,
  type DashboardIdentity,
} from '#shared/grafana.ts';
import {
  VARIABLE_QUERY_REF_ID,
  VariableQueryType,
  type CloudWatchVariableQuery,
  type DimensionValuesQuery,
  DASHBOARD_DATASOURCE,
  deploymentKey,
  deploymentMarker,
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

/**
 * What colors a stat or bar gauge. Left unset, Grafana's default turns every value from 80 up red
 * (the thresholds default of getAllStandardFieldConfigs, grafana/grafana
 * public/app/core/components/OptionsUI/registry.tsx): readings stored, humidity, pressure. So
 * each says what it means: `neutral` (one color, no alarm) or a step from which a value is bad.
 */
export type Thresholds = readonly Threshold[];

export const neutral: Thresholds = [{ value: null, color: 'green' }];

/** Green below `value`, `color` from it up. */
export const badFrom = (value: number, color = 'red'): Thresholds => [
  { value: null, color: 'green' },
  { value, color },
];

const thresholdsOf = (steps: Thresholds) =>
  new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([...steps]);

/** Readings per second, which are not requests (`reqps`): a custom suffix unit. */
export const READINGS_PER_SECOND = 'suffix:readings/s';

export const timeseries = (title: string, size: Size, targets: Query[], unit = 'short') =>
  sized(new TimeseriesBuilder(), title, size, targets)
    .unit(unit)
    .legend(legend())
    .fillOpacity(10)
    .lineWidth(2);

/** A stat's or bar gauge's number per series, reduced over the range by `calc`, its unit and colors. */
const reducing = <P extends StatBuilder | BarGaugeBuilder>(
  panel: P,
  calc: string,
  unit: string,
  thresholds: Thresholds,
): P => {
  panel.unit(unit);
  panel.thresholds(thresholdsOf(thresholds));
  panel.reduceOptions(new ReduceDataOptionsBuilder().calcs([calc]));
  return panel;
};

/** A stat's or bar gauge's title, size, queries, reduction, unit (`short`) and thresholds. */
type Reduced = [
  title: string,
  size: Size,
  targets: Query[],
  calc: string,
  unit?: string,
  thresholds?: Thresholds,
];

/** One number per series, reduced over the time range by `calc` (`sum`, `lastNotNull`, …). */
export const stat = (
  ...[title, size, targets, calc, unit = 'short', thresholds = neutral]: Reduced
) =>
  reducing(sized(new StatBuilder(), title, size, targets), calc, unit, thresholds).graphMode(
    BigValueGraphMode.Area,
  );

export const barGauge = (
  ...[title, size, targets, calc, unit = 'short', thresholds = neutral]: Reduced
) =>
  reducing(sized(new BarGaugeBuilder(), title, size, targets), calc, unit, thresholds)
    .orientation(VizOrientation.Horizontal)
    .displayMode(BarGaugeDisplayMode.Gradient);

/**
 * Keeps the last complete period of a series: its newest row is the period still filling (the
 * datasource rounds the end of the range up to the next minute, pkg/cloudwatch/
 * get_metric_data_executor.go), so a `lastNotNull` of what is left shows the one before it.
 */
export const lastCompletePeriod: DataTransformerConfig[] = [
  { id: 'sortBy', options: { fields: {}, sort: [{ field: 'Time', desc: true }] } },
  { id: 'limit', options: { limitField: 2 } },
];

export const table = (title: string, size: Size, targets: Query[]) =>
  sized(new TableBuilder(), title, size, targets);

export const logsPanel = (title: string, size: Size, targets: Query[]) =>
  sized(new LogsPanelBuilder(), title, size, targets)
    .showTime(true)
    .wrapLogMessage(true)
    .sortOrder(LogsSortOrder.Descending);

/** The deployment's stage, as the deployment gives it (a run's link names it too). */
export const stageVariable = () =>
  new CustomVariableBuilder(DEPLOYMENT_VARIABLES.stage)
    .label('Stage')
    .values(deploymentMarker(deploymentKey.stage()))
    .current({
      text: deploymentMarker(deploymentKey.stage()),
      value: deploymentMarker(deploymentKey.stage()),
    });

/** A multi-value variable's All, as Grafana saves it: arrays, which the datasource splits. */
const ALL = { text: ['All'], value: ['$__all'] };

/**
 * A variable listing the deployment's resources of one kind, each `text : value` (a friendly
 * name, the deployment's physical name): a Grafana custom variable, so they are all listed from
 * the start whether or not they have reported metrics, and nothing is asked of CloudWatch.
 */
export const deploymentResources = (
  name: string,
  label: string,
  resources: { text: string; key: string }[],
) => {
  const [only] = resources;
  // One resource: a single value, shown as itself (the stage's API id).
  if (resources.length === 1 && only) {
    const value = deploymentMarker(only.key);
    return new CustomVariableBuilder(name)
      .label(label)
      .values(value)
      .current({ text: value, value });
  }
  return new CustomVariableBuilder(name)
    .label(label)
    .values(resources.map((r) => `${r.text} : ${deploymentMarker(r.key)}`).join(','))
    .multi(true)
    .includeAll(true)
    .current(ALL);
};

/**
 * When a variable lists its options again. `load`: once when the dashboard opens (a value from
 * the URL is kept, listed or not). There is no point in listing again on a time range change:
 * the datasource answers every listing it made before from its cache for the page's life
 * (memoizedGetRequest, src/resources/ResourcesAPI.ts).
 */
interface DimensionValuesSpec {
  namespace: string;
  metricName: string;
  dimensionKey: string;
  dimensionFilters?: Record<string, string>;
  multi?: boolean;
  /** What "All" means; without it, All lists every value the query found. */
  allValue?: string;
  /** Newest first when the values sort by time (run ids do): the default is the first. */
  descending?: boolean;
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
  const variable = variableOf(name, label, query).refresh(VariableRefresh.OnDashboardLoad);
  if (spec.descending) variable.sort(VariableSort.AlphabeticalDesc);
  if (spec.multi) variable.multi(true).includeAll(true).current(ALL);
  if (spec.allValue) variable.allValue(spec.allValue);
  return variable;
};

const variableOf = (name: string, label: string, query: CloudWatchVariableQuery) =>
  new QueryVariableBuilder(name)
    .label(label)
    .datasource(CLOUDWATCH_DATASOURCE)
    .query({ ...query });

export type Variable = ReturnType<
  typeof stageVariable | typeof dimensionValues | typeof deploymentResources
>;

/**
 * Links in every dashboard's header to the others (Grafana lists the dashboards with the tag,
 * leaving out the one shown), keeping the time range and the variables: from Runs or Pipeline to
 * Sensors, from Sensors to the Pipeline of the same stage and time.
 */
const DASHBOARD_TAG = 'iot-playground';

const otherDashboards = () =>
  new DashboardLinkBuilder('IoT Playground')
    .type(DashboardLinkType.Dashboards)
    .tags([DASHBOARD_TAG])
    .asDropdown(false)
    .keepTime(true)
    .includeVars(true);

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
    .tags([DASHBOARD_TAG, 'generated'])
    .links([otherDashboards()])
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
  // The builder writes `placement: inControlsMenu`, which tucks the links into a menu; without
  // it Grafana shows them in the dashboard's header.
  for (const link of dashboard.links ?? []) delete link.placement;
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
