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
import { functionNames, topology, type FunctionName } from '#infra/topology.ts';
import {
  localLogGroupArn,
  panelData,
  type PanelResult,
  resolveVariables,
} from '#infra/local/grafana/index.ts';
import { LogStore, SeriesStore } from '#infra/local/meter/index.ts';
import {
  AWS_METRICS,
  VARIABLE_QUERY_TYPES,
  type CloudWatchVariableQuery,
  deploymentValues,
  parseInsights,
  provisionDashboard,
  queryKind,
  type DashboardJson,
} from '#shared/dashboard-model/index.ts';
import { dashboardJson, dashboards } from './index.ts';

/** The recorded stage's own resources, as the deployment gives them to Grafana. */
const DEPLOYMENT = deploymentValues({
  stage: 'dev',
  httpApiId: 'local',
  functions: Object.fromEntries(
    functionNames.map((fn) => [
      fn,
      {
        name: fn,
        logGroupName: `/aws/lambda/${fn}`,
        logGroupArn: localLogGroupArn(`/aws/lambda/${fn}`),
      },
    ]),
  ) as Record<FunctionName, { name: string; logGroupName: string; logGroupArn: string }>,
  queues: {
    measurements: { name: 'q', deadLetterName: 'q-dlq' },
    reports: { name: 'r', deadLetterName: 'r-dlq' },
  },
  tables: { runs: 't1', sensorData: 't2', idempotency: 't3', deployments: 't4' },
  otherLogGroupNames: { apiAccess: 'api-access-logs', grafana: 'grafana' },
});

const generated = Object.fromEntries(
  Object.entries(dashboards()).map(([name, dashboard]) => [
    name,
    JSON.parse(provisionDashboard(dashboardJson(dashboard), DEPLOYMENT)) as DashboardJson,
  ]),
);

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
    for (const metricName of [
      dynamodb.metrics.writeUnits,
      dynamodb.metrics.readUnits,
      dynamodb.metrics.writeThrottleEvents,
    ])
      series.record(
        dynamodb.namespace,
        metricName,
        { TableName: 't1', GlobalSecondaryIndexName: 'bySensor' },
        [5],
        at(secondsAgo),
      );
    series.record(
      dynamodb.namespace,
      dynamodb.metrics.writeThrottleEvents,
      { TableName: 't2' },
      [3],
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
  // An error as Powertools' logger writes it: an object (LogFormatter.formatError).
  logStore.add({
    timestamp: at(20),
    logGroup: '/aws/lambda/ingestConsumer',
    message: JSON.stringify({
      level: 'ERROR',
      message: 'Record failed; SQS will deliver it again',
      error: {
        name: 'ThrottlingException',
        location: 'store.ts:42',
        message: 'Rate exceeded',
        stack: 'ThrottlingException: Rate exceeded',
      },
    }),
  });
  return { series, logs: logStore };
};

const render = (name: string, query = 'from=now-15m&to=now', stage = recordedStage()) => {
  const dashboard = generated[name] as DashboardJson;
  const data = panelData(dashboard, new URLSearchParams(query), stage, NOW);
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
    // The stat gets the newest two periods with data, newest first: lastNotNull is the second.
    expect(byTitle['Readings per second (last full period)']?.frames?.[0]?.values).toEqual(
      new Array(2).fill(perPeriod / data.window.periodS),
    );
    expect(byTitle['Readings stored']?.frames?.[0]?.values.filter((v) => v !== null)).toEqual(
      new Array(3).fill(perPeriod),
    );
  });

  it('defects 4 and 6: the Cost dashboard prices the recorded usage, logs included', () => {
    const { data, byTitle } = render('cost');
    const lines = costLines(byTitle);
    const perHour = 3600 / data.window.periodS;
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

  it('defect 5: the logs panels read function log groups by the ARNs the deployment gives', () => {
    for (const [name, title] of [
      ['sensors', 'Run logs (last 5m)'],
      ['runs', 'Recent runs (run API logs)'],
      ['pipeline', 'Error logs (last 5m)'],
    ] as const) {
      const dashboard = generated[name] as DashboardJson;
      const target = dashboard.panels.find((p) => p.title === title)?.targets?.[0];
      for (const group of target?.logGroups ?? [])
        expect(group.arn).toBe(localLogGroupArn(group.name));
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

/** The Cost dashboard's lines by label: the first value of each. */
const costLines = (byTitle: Record<string, PanelResult>) =>
  Object.fromEntries(
    (byTitle['Estimated spend per hour by service']?.frames ?? []).map((f) => [
      f.label,
      f.values.find((v) => v !== null),
    ]),
  );

describe('second reading (issue 26) on the local renderer', () => {
  it('finding 1: with one function, queue, table and log group selected, the Cost board still answers', () => {
    // What a variable listing one resource gives: one value, so Grafana sends a plain metric.
    const one =
      'var-function=runSweeper&var-queue=q-dlq&var-table=t1&var-logGroupNames=/aws/lambda/runSweeper';
    const { data, byTitle } = render('cost', `from=now-15m&to=now&${one}`);
    for (const [title, result] of Object.entries(byTitle)) expect(result.errors, title).toEqual([]);
    const perHour = 3600 / data.window.periodS;
    const lines = costLines(byTitle);
    expect(lines['Lambda requests']).toBeCloseTo(
      (PRICES.lambdaPerMillionRequests / 1e6) * perHour,
      12,
    );
    expect(lines.Total).toBeGreaterThan(0);
  });

  it('finding 1: a quiet stage (no API traffic, nothing in the queues) has a total all the same', () => {
    const stage = recordedStage();
    const quiet = new SeriesStore(() => NOW);
    for (const s of stage.series.find(lambda.namespace))
      for (const [second, point] of s.points)
        quiet.record(s.namespace, s.name, s.dimensions, point.values, second * 1000);
    const { byTitle } = render('cost', undefined, { series: quiet, logs: stage.logs });
    for (const [title, result] of Object.entries(byTitle)) expect(result.errors, title).toEqual([]);
    const lines = costLines(byTitle);
    expect(lines['API requests']).toBeUndefined();
    expect(lines.Total).toBeCloseTo(
      (lines['Lambda requests'] ?? 0) + (lines['Lambda GB-s (at 512 MB)'] ?? 0),
      12,
    );
  });

  it('finding 4: SQS is priced per request the functions count, not per message', () => {
    const { data, byTitle } = render('cost');
    const perHour = 3600 / data.window.periodS;
    // Per period: one ingest request accepted (a SendMessageBatch), one consumer batch of 12
    // messages (two ReceiveMessage and two DeleteMessageBatch, taken as 12/10 + ½ each), and
    // 10 empty receives on each queue.
    const requests = 1 + 2 * (12 / 10 + 0.5) + 2 * 10;
    expect(costLines(byTitle)["SQS requests (from the functions' counts)"]).toBeCloseTo(
      requests * (PRICES.sqsPerMillionRequests / 1e6) * perHour,
      12,
    );
  });

  it("finding 5: reads through an index are priced like the table's", () => {
    const { data, byTitle } = render('cost');
    const perHour = 3600 / data.window.periodS;
    // 5 read units on each of two tables and 5 through t1's bySensor index.
    expect(costLines(byTitle)['DynamoDB read units (tables + indexes)']).toBeCloseTo(
      15 * (PRICES.dynamoDbPerMillionReadUnits / 1e6) * perHour,
      12,
    );
  });

  it('finding 6: custom metrics are counted over the range, past 500 in the last two weeks', () => {
    const stage = recordedStage();
    // 40 runs of 5 sensors × 3 types: 600 DataIngested metrics, the last 10 runs in this hour.
    for (let run = 0; run < 40; run++)
      for (const sensor of ['s1', 's2', 's3', 's4', 's5'])
        for (const type of TYPES)
          stage.series.record(
            SENSOR_NAMESPACE,
            SensorMetric.ingested,
            {
              SensorId: sensor,
              User: 'bob',
              RunId: `r${String(run).padStart(2, '0')}`,
              Type: type,
            },
            [1],
            NOW - (run < 30 ? 7_000_000 : 30_000),
          );
    const { byTitle } = render('cost', 'from=now-1h&to=now', stage);
    const line = byTitle['Estimated spend per hour by service']?.frames?.find(
      (f) => f.label === 'Custom metrics (per-run sensor metrics)',
    );
    const counted =
      Math.max(...(line?.values ?? []).map((v) => v ?? 0)) /
      (2 * (PRICES.customMetricPerMonth / PRICES.hoursPerMonth));
    // The 150 of the last runs and the 6 of the recorded run (two sensors × three types).
    expect(counted).toBeCloseTo(150 + SENSORS.length * TYPES.length, 6);
  });

  it('finding 7: a dead-letter queue with no metrics is listed, and stays listed', () => {
    const pipeline = generated.pipeline as DashboardJson;
    const stage = recordedStage();
    const sources = {
      dimensionValues: () => [],
      logGroups: () => [],
    };
    const page = new Map();
    for (const phase of ['load', 'refresh'] as const) {
      const queue = resolveVariables(
        pipeline.templating.list,
        new URLSearchParams(),
        sources,
        phase,
        page,
      ).queue;
      expect(queue?.options).toEqual([
        { text: 'measurements', value: 'q' },
        { text: 'measurements dead letters', value: 'q-dlq' },
      ]);
    }
    expect(stage.series.find(sqs.namespace).every((s) => s.dimensions.QueueName !== 'none')).toBe(
      true,
    );
  });

  it("finding 8: the HTTP API is the stage's own, not the first of the region's APIs", () => {
    const stage = recordedStage();
    // Another stage's API, whose id sorts before this one's.
    stage.series.record(
      api.namespace,
      api.metrics.count,
      { ApiId: 'aaa-other-stage' },
      [7],
      NOW - 30_000,
    );
    const { byTitle } = render('pipeline', undefined, stage);
    expect(byTitle['API requests']?.frames?.map((f) => f.values.filter((v) => v !== null))).toEqual(
      [[1000, 1000, 1000]],
    );
  });

  it('finding 9: opened without a run, Sensors shows the latest run', () => {
    const series = new SeriesStore(() => NOW);
    // Time-ordered run ids (UUIDv7): the later start sorts last, and is listed first.
    const older = '0190a0c8-0000-7000-8000-000000000001';
    const latest = '0199a0c8-0000-7000-8000-000000000002';
    for (const runId of [latest, older])
      series.record(
        SENSOR_NAMESPACE,
        SensorMetric.ingested,
        { SensorId: 's1', User: 'alice', RunId: runId, Type: 'temperature' },
        [1],
        NOW - 60_000,
      );
    const { data } = render('sensors', 'from=now-15m&to=now', {
      series,
      logs: recordedStage().logs,
    });
    expect(data.variables.find((v) => v.name === SENSORS_DASHBOARD.variables.runId)?.text).toBe(
      latest,
    );
  });

  it('finding 10: the error logs show the error name and message Powertools logged', () => {
    const { byTitle } = render('pipeline');
    const table = byTitle['Error logs (last 5m)']?.table;
    const row = table?.rows.find((r) => r.includes('ThrottlingException'));
    expect(table?.fields).toEqual(['@timestamp', '@log', 'message', 'error.name', 'error.message']);
    expect(row?.slice(2)).toEqual([
      'Record failed; SQS will deliver it again',
      'ThrottlingException',
      'Rate exceeded',
    ]);
  });

  it('finding 3: the throttles panel shows write throttle events of tables and indexes', () => {
    const { byTitle } = render('pipeline');
    expect(
      (byTitle['Throttled requests and write throttle events']?.frames ?? []).map((f) => f.label),
    ).toEqual(
      expect.arrayContaining(['t2 write throttle events', 't1 bySensor write throttle events']),
    );
  });

  it('finding 12: the last-period stat leaves out the period still filling', () => {
    const stage = recordedStage();
    const dimensions = { SensorId: 's1', User: 'alice', RunId: RUN, Type: 'temperature' };
    // A full period just before now, and one reading in the period still filling.
    stage.series.record(SENSOR_NAMESPACE, SensorMetric.ingested, dimensions, [40], NOW - 6_000);
    stage.series.record(SENSOR_NAMESPACE, SensorMetric.ingested, dimensions, [1], NOW - 1_000);
    const { data, byTitle } = render('sensors', sensorsQuery(), stage);
    const chart = byTitle['Readings per second']?.frames?.[0]?.values ?? [];
    const filling = chart[chart.length - 1];
    const full = chart[chart.length - 2];
    expect(filling).toBe(1 / data.window.periodS);
    expect(full).toBe(40 / data.window.periodS);
    // What the stat shows: lastNotNull of the newest two periods, newest first.
    const shown = (
      byTitle['Readings per second (last full period)']?.frames?.[0]?.values ?? []
    ).filter((v) => v !== null);
    expect(shown.at(-1)).toBe(full);
  });
});
