/**
 * The generated dashboards through the local renderer, which refuses what Grafana and CloudWatch
 * refuse (infra/local/grafana/conformance.test.ts): on a recorded stage with a run, every panel
 * answers without an error and shows data, and the figures the Sensors and Cost dashboards
 * compute are the ones the recorded usage implies.
 */
import { describe, expect, it } from 'vitest';
import { runDashboardUrl, SENSORS_DASHBOARD } from '#shared/grafana.ts';
import { PRICES } from '#shared/prices.ts';
import {
  PIPELINE_NAMESPACE,
  PipelineDimension,
  PipelineMetric,
  RUN_NAMESPACE,
  RunDimension,
  RunMetric,
  SENSOR_NAMESPACE,
  SensorMetric,
} from '#shared/metrics-contract.ts';
import { functionNames, topology } from '#infra/topology.ts';
import { panelData, type PanelResult, resolveVariables } from '#infra/local/grafana/index.ts';
import { LogStore, SeriesStore } from '#infra/local/meter/index.ts';
import {
  AWS_METRICS,
  VARIABLE_QUERY_TYPES,
  type CloudWatchVariableQuery,
  parseInsights,
  queryKind,
  type DashboardJson,
} from '#shared/dashboard-model/index.ts';
import { dashboards } from './index.ts';

const generated = JSON.parse(JSON.stringify(dashboards())) as Record<string, DashboardJson>;

const NOW = 1_700_000_000_000;
const RUN = 'run-1';
const SENSORS = ['s1', 's2'];
const TYPES = ['temperature', 'humidity', 'pressure'];
const { lambda, api, sqs, dynamodb, logs } = AWS_METRICS;

/** A stage as the local stack records it: one run of two sensors, every service busy. */
const recordedStage = () => {
  const series = new SeriesStore(() => NOW);
  const at = (secondsAgo: number) => NOW - secondsAgo * 1000;
  for (const secondsAgo of [600, 300, 30]) {
    for (const sensor of SENSORS) {
      for (const type of TYPES) {
        const dimensions = { SensorId: sensor, User: 'alice', RunId: RUN, Type: type };
        series.record(SENSOR_NAMESPACE, SensorMetric.reading, dimensions, [20, 22], at(secondsAgo));
        series.record(SENSOR_NAMESPACE, SensorMetric.ingested, dimensions, [2], at(secondsAgo));
      }
    }
    for (const name of functionNames) {
      for (const metricName of Object.values(lambda.metrics))
        series.record(lambda.namespace, metricName, { FunctionName: name }, [1], at(secondsAgo));
    }
    for (const metricName of Object.values(api.metrics))
      series.record(api.namespace, metricName, { ApiId: 'local' }, [1000], at(secondsAgo));
    for (const queue of ['q', 'q-dlq'])
      for (const metricName of Object.values(sqs.metrics))
        series.record(sqs.namespace, metricName, { QueueName: queue }, [10], at(secondsAgo));
    for (const table of ['t1', 't2']) {
      series.record(
        dynamodb.namespace,
        dynamodb.metrics.writeUnits,
        { TableName: table },
        [5],
        at(secondsAgo),
      );
      series.record(
        dynamodb.namespace,
        dynamodb.metrics.readUnits,
        { TableName: table },
        [5],
        at(secondsAgo),
      );
      series.record(
        dynamodb.namespace,
        dynamodb.metrics.throttled,
        { TableName: table, Operation: 'BatchWriteItem' },
        [0],
        at(secondsAgo),
      );
    }
    series.record(
      dynamodb.namespace,
      dynamodb.metrics.writeUnits,
      { TableName: 't1', GlobalSecondaryIndexName: 'bySensor' },
      [5],
      at(secondsAgo),
    );
    for (const name of functionNames)
      series.record(
        logs.namespace,
        logs.metrics.incomingBytes,
        { LogGroupName: `/aws/lambda/${name}` },
        [1024],
        at(secondsAgo),
      );
    for (const metricName of Object.values(PipelineMetric)) {
      const service =
        metricName === PipelineMetric.stored ||
        metricName === PipelineMetric.duplicatesSkipped ||
        metricName === PipelineMetric.endToEndLag ||
        metricName === PipelineMetric.batchSize ||
        metricName === PipelineMetric.recordFailures ||
        metricName === PipelineMetric.writeRetries ||
        metricName === PipelineMetric.parked
          ? topology.functions.ingestConsumer.service
          : topology.functions.ingest.service;
      series.record(
        PIPELINE_NAMESPACE,
        metricName,
        { [PipelineDimension.service]: service },
        [12],
        at(secondsAgo),
      );
    }
    for (const metricName of [RunMetric.started, RunMetric.refused])
      series.record(
        RUN_NAMESPACE,
        metricName,
        { [RunDimension.service]: topology.functions.runApi.service },
        [1],
        at(secondsAgo),
      );
    for (const metricName of [RunMetric.running, RunMetric.limit])
      series.record(
        RUN_NAMESPACE,
        metricName,
        { [RunDimension.service]: topology.functions.runSweeper.service },
        [1],
        at(secondsAgo),
      );
    series.record(
      RUN_NAMESPACE,
      RunMetric.finished,
      {
        [RunDimension.service]: topology.functions.runApi.service,
        [RunDimension.status]: 'COMPLETED',
      },
      [1],
      at(secondsAgo),
    );
  }
  const logStore = new LogStore();
  for (const name of functionNames)
    logStore.add({
      timestamp: at(60),
      logGroup: `/aws/lambda/${name}`,
      message: JSON.stringify({
        level: 'ERROR',
        message: 'Run started',
        runId: RUN,
        user: 'alice',
      }),
    });
  return { series, logs: logStore };
};

const render = (name: string, query = 'from=now-15m&to=now') => {
  const dashboard = generated[name] as DashboardJson;
  const data = panelData(dashboard, new URLSearchParams(query), recordedStage(), NOW);
  const byTitle = Object.fromEntries(
    dashboard.panels
      .filter((panel) => panel.type !== 'row')
      .map((panel) => [panel.title, data.panels[panel.id] as PanelResult]),
  );
  return { data, byTitle };
};

const sensorsQuery = () =>
  new URL(
    runDashboardUrl(
      'http://grafana.example',
      { id: RUN, startedAt: new Date(NOW - 900_000).toISOString() },
      'dev',
    ),
  ).search;

describe('generated dashboards on the local renderer', () => {
  it.each(Object.keys(generated))('%s: every panel answers with data and no refusal', (name) => {
    const { byTitle } = render(name, name === 'sensors' ? sensorsQuery() : undefined);
    for (const [title, result] of Object.entries(byTitle)) {
      expect(result.errors, title).toEqual([]);
      expect(result.notes, title).toEqual([]);
      const hasData =
        (result.table?.rows.length ?? 0) > 0 ||
        (result.frames ?? []).some((frame) => frame.values.some((v) => v !== null));
      expect(hasData, `${title} shows data`).toBe(true);
    }
  });

  it('defect 1: every CloudWatch variable uses a query type Grafana executes, and lists values', () => {
    for (const dashboard of Object.values(generated)) {
      for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
        const query = variable.query as CloudWatchVariableQuery;
        expect(VARIABLE_QUERY_TYPES, `${dashboard.uid} $${variable.name}`).toContain(
          query.queryType,
        );
      }
      const resolved = resolveVariables(
        dashboard.templating.list,
        new URLSearchParams(),
        {
          dimensionValues: (ns, metricName, key, filters) =>
            recordedStage().series.dimensionValues(ns, metricName, key, filters),
          logGroups: () => [
            {
              text: '/aws/lambda/ingest',
              value: 'arn:aws:logs:local:000000000000:log-group:/aws/lambda/ingest:*',
            },
          ],
        },
        'load',
      );
      for (const variable of Object.values(resolved)) {
        expect(variable.note, variable.name).toBeUndefined();
        expect(
          variable.options.length,
          `${dashboard.uid} $${variable.name} has options`,
        ).toBeGreaterThan(0);
      }
    }
  });

  it('defect 2: every Metrics Insights query parses by the AWS rules (reserved keywords quoted)', () => {
    const sql = Object.values(generated).flatMap((d) =>
      d.panels.flatMap((p) => (p.targets ?? []).filter((t) => queryKind(t) === 'insights')),
    );
    expect(sql.length).toBeGreaterThanOrEqual(4);
    for (const target of sql) expect(() => parseInsights(target.sqlExpression ?? '')).not.toThrow();
    expect(sql.map((t) => t.sqlExpression).join('\n')).toMatch(/"User"/);
  });

  it('defect 3: the Sensors rate is readings per second, with no PERIOD of a search', () => {
    const { data, byTitle } = render('sensors', sensorsQuery());
    const rate = byTitle['Readings per second'];
    expect(rate?.errors).toEqual([]);
    const perPeriod = SENSORS.length * TYPES.length * 2;
    const values = (rate?.frames?.[0]?.values ?? []).filter((v) => v !== null);
    // Three recorded periods since the run started (the link opens a minute before it).
    expect(values).toEqual(new Array(3).fill(perPeriod / data.window.periodS));
    expect(byTitle['Readings per second (last)']).toEqual(rate);
    expect(byTitle['Readings stored']?.frames?.[0]?.values.filter((v) => v !== null)).toEqual(
      new Array(3).fill(perPeriod),
    );
  });

  it('defects 4 and 6: the Cost dashboard prices the recorded usage, logs included', () => {
    const { data, byTitle } = render('cost');
    const lines = Object.fromEntries(
      (byTitle['Estimated spend per hour by service']?.frames ?? []).map((f) => [
        f.label,
        f.values.find((v) => v !== null),
      ]),
    );
    const perHour = 3600 / data.window.periodS;
    // One HTTP API: its count is one metric, priced as it is (no SUM of a single series).
    expect(lines['API requests']).toBeCloseTo(
      1000 * (PRICES.apiPerMillionRequests / 1e6) * perHour,
      10,
    );
    expect(lines['Lambda requests']).toBeCloseTo(
      functionNames.length * (PRICES.lambdaPerMillionRequests / 1e6) * perHour,
      10,
    );
    expect(lines['Logs ingested']).toBeCloseTo(
      ((functionNames.length * 1024) / 1024 ** 3) * PRICES.logsPerGbIngested * perHour,
      12,
    );
    const parts = Object.entries(lines).filter(([label]) => label !== 'Total');
    expect(parts.length).toBe(8);
    expect(lines.Total).toBeCloseTo(
      parts.reduce((sum, [, v]) => sum + (v ?? 0), 0),
      10,
    );
    const perMillion = byTitle['Cost per million stored measurements']?.frames?.[0]?.values.find(
      (v) => v !== null,
    );
    expect(perMillion).toBeCloseTo(((lines.Total ?? 0) / perHour / 12) * 1e6, 6);
  });

  it('defect 5: the logs panels read the function log groups by ARN, with All selected', () => {
    for (const [name, title] of [
      ['sensors', 'Lambda logs'],
      ['runs', 'Recent runs (run API logs)'],
      ['pipeline', 'Error logs'],
    ] as const) {
      const dashboard = generated[name] as DashboardJson;
      const target = dashboard.panels.find((p) => p.title === title)?.targets?.[0];
      expect(target?.logGroups).toEqual([{ arn: '$logGroups', name: '$logGroups' }]);
      expect(target?.logGroupNames).toBeUndefined();
      const { byTitle } = render(name, name === 'sensors' ? sensorsQuery() : undefined);
      expect(byTitle[title]?.errors).toEqual([]);
      expect(byTitle[title]?.table?.rows.length).toBeGreaterThan(0);
    }
  });

  it("defect 7: the link's run and stage stay selected across refreshes, listed or not", () => {
    const sensors = generated.sensors as DashboardJson;
    const link = new URLSearchParams(sensorsQuery());
    expect(link.get(`var-${SENSORS_DASHBOARD.variables.stage}`)).toBe('dev');
    // ListMetrics lists a new run's metrics only minutes later: here it lists another run only.
    const listing = {
      dimensionValues: () => ['older-run'],
      logGroups: () => [],
    };
    const loaded = resolveVariables(sensors.templating.list, link, listing, 'load');
    const kept = new URLSearchParams(link);
    for (const variable of Object.values(loaded)) {
      kept.delete(`var-${variable.name}`);
      for (const value of [variable.value].flat()) kept.append(`var-${variable.name}`, value);
    }
    const refreshed = resolveVariables(sensors.templating.list, kept, listing, 'refresh');
    expect(refreshed.runId?.value).toBe(RUN);
    expect(refreshed.stage?.value).toBe('dev');
  });
});
