import { PIPELINE_FUNCTIONS } from './pipeline.ts';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  CLOUDWATCH_DATASOURCE,
  DASHBOARDS,
  runDashboardUrl,
  SENSORS_DASHBOARD,
} from '#shared/grafana.ts';
import {
  PIPELINE_NAMESPACE,
  PipelineDimension,
  PipelineMetric,
  RUN_NAMESPACE,
  RunDimension,
  RunMetric,
  SENSOR_NAMESPACE,
  SensorDimension,
  SensorMetric,
} from '#shared/metrics-contract.ts';
import {
  AWS_EXTRA_DIMENSIONS,
  AWS_METRICS,
  type DimensionValuesQuery,
  DASHBOARD_DATASOURCE,
  deploymentKey,
  deploymentMarker,
  mathReferences,
  parseInsights,
  queryKind,
  type DashboardJson,
  type Target,
} from '#shared/dashboard-model/index.ts';
import { functionNames } from '#infra/topology.ts';
import { dashboardJson, dashboards, GENERATED_DIR } from './index.ts';
import { logGroupsQueried } from './open-tab-cost.ts';

const generated = dashboards() as unknown as Record<string, DashboardJson>;

/** Metric names and the dimension keys they may carry, per namespace. */
const known: Record<string, { metrics: string[]; dimensions: string[] }> = {
  [SENSOR_NAMESPACE]: {
    metrics: Object.values(SensorMetric),
    dimensions: Object.values(SensorDimension),
  },
  [PIPELINE_NAMESPACE]: {
    metrics: Object.values(PipelineMetric),
    dimensions: Object.values(PipelineDimension),
  },
  [RUN_NAMESPACE]: { metrics: Object.values(RunMetric), dimensions: Object.values(RunDimension) },
  ...Object.fromEntries(
    Object.values(AWS_METRICS).map((service) => [
      service.namespace,
      {
        metrics: Object.values(service.metrics) as string[],
        dimensions: [...service.dimensions, ...(AWS_EXTRA_DIMENSIONS[service.namespace] ?? [])],
      },
    ]),
  ),
};

interface NamedMetric {
  namespace: string;
  metricName: string;
  dimensions: string[];
}

/** The metric a query names, or undefined for math and logs. */
const namedMetric = (target: Target): NamedMetric | undefined => {
  switch (queryKind(target)) {
    case 'search':
      return {
        namespace: target.namespace ?? '',
        metricName: target.metricName ?? '',
        dimensions: Object.keys(target.dimensions ?? {}),
      };
    case 'insights': {
      const sql = parseInsights(target.sqlExpression ?? '');
      return { namespace: sql.namespace, metricName: sql.metricName, dimensions: sql.schema ?? [] };
    }
    default:
      return undefined;
  }
};

const allTargets = Object.entries(generated).flatMap(([file, dashboard]) =>
  dashboard.panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ file, panel, target })),
  ),
);

describe('generated dashboards', () => {
  it.each(Object.keys(generated))('%s.json is what the code generates', async (name) => {
    const committed = await readFile(new URL(`${name}.json`, GENERATED_DIR), 'utf8').catch(
      () => '(missing: run npm run dashboards)',
    );
    expect(committed, 'run `npm run dashboards` and commit the result').toBe(
      dashboardJson(dashboards()[name]!),
    );
  });

  it('uses the identities of shared/grafana.ts and unique panel ids', () => {
    expect(Object.values(generated).map((d) => d.uid)).toEqual(
      Object.values(DASHBOARDS).map((d) => d.uid),
    );
    for (const dashboard of Object.values(generated)) {
      const ids = dashboard.panels.map((panel) => panel.id);
      expect(new Set(ids).size).toBe(ids.length);
    }
  });

  it('reads every panel and query through the provisioned CloudWatch datasource', async () => {
    const provisioning = await readFile(
      new URL('../infra/aws/grafana/provisioning/datasources/cloudwatch.yaml', import.meta.url),
      'utf8',
    );
    expect(provisioning).toMatch(new RegExp(`^\\s+uid: ${CLOUDWATCH_DATASOURCE.uid}$`, 'm'));
    for (const { panel, target } of allTargets) {
      // A panel either queries CloudWatch or shows another panel's results (no second query).
      const source = queryKind(target) === 'panel' ? DASHBOARD_DATASOURCE : CLOUDWATCH_DATASOURCE;
      expect(panel.datasource).toEqual(source);
      expect(target.datasource).toEqual(source);
    }
  });

  it('names no physical resource: deployments are chosen by variables', () => {
    const text = JSON.stringify(generated);
    expect(text).not.toMatch(/IotPlayground-(dev|prod)/);
    expect(text).not.toMatch(/arn:aws|amazonaws\.com|\b\d{12}\b/);
  });
});

describe('metrics contract on the dashboards', () => {
  it('every query names a contract metric or a listed AWS metric, with known dimensions', () => {
    const metricQueries = allTargets.flatMap(({ target }) => {
      const named = namedMetric(target);
      return named ? [named] : [];
    });
    expect(metricQueries.length).toBeGreaterThan(30);
    for (const named of metricQueries) {
      const namespace = known[named.namespace];
      expect(namespace, `namespace ${named.namespace}`).toBeDefined();
      expect(namespace!.metrics, `${named.namespace} ${named.metricName}`).toContain(
        named.metricName,
      );
      for (const dimension of named.dimensions) {
        expect(namespace!.dimensions, `${named.metricName} by ${dimension}`).toContain(dimension);
      }
    }
  });

  it('metric math refers only to queries of its own panel; logs read function log groups by ARN', () => {
    for (const { panel, target } of allTargets) {
      if (queryKind(target) === 'math') {
        const ids = new Set((panel.targets ?? []).map((t) => t.id));
        for (const reference of mathReferences(target.expression ?? '')) {
          expect(ids, `${panel.title}: ${reference}`).toContain(reference);
        }
      }
      if (queryKind(target) === 'logs') {
        // By ARN (`logGroups`), never the legacy names, and only the functions' groups: the
        // Grafana task role may query nothing else (log-group-selection.test.ts).
        expect(target.logGroupNames).toBeUndefined();
        for (const fn of logGroupsQueried(target))
          expect(target.logGroups).toContainEqual({
            arn: deploymentMarker(deploymentKey.functionLogGroupArn(fn)),
            name: deploymentMarker(deploymentKey.logGroupName(fn)),
          });
      }
    }
  });

  it('every metric of the contract is on some dashboard', () => {
    const shown = new Set(
      allTargets.flatMap(({ target }) => {
        const named = namedMetric(target);
        return named ? [`${named.namespace} ${named.metricName}`] : [];
      }),
    );
    const contract = [
      ...Object.values(SensorMetric).map((m) => `${SENSOR_NAMESPACE} ${m}`),
      ...Object.values(PipelineMetric).map((m) => `${PIPELINE_NAMESPACE} ${m}`),
      ...Object.values(RunMetric).map((m) => `${RUN_NAMESPACE} ${m}`),
    ];
    expect(contract.filter((metric) => !shown.has(metric))).toEqual([]);
  });

  it("grafanaUrl's dashboard uid and variables exist on the Sensors dashboard", () => {
    const url = new URL(
      runDashboardUrl(
        'http://grafana.example/',
        { id: 'run-1', startedAt: '2026-01-01T00:00:00Z' },
        'prod',
      ),
    );
    const [, d, uid, slug] = url.pathname.split('/');
    expect([d, slug]).toEqual(['d', SENSORS_DASHBOARD.slug]);
    const sensors = Object.values(generated).find((dashboard) => dashboard.uid === uid);
    expect(sensors?.title).toBe(SENSORS_DASHBOARD.title);
    const names = sensors!.templating.list.map((variable) => variable.name);
    const linked = [...url.searchParams.keys()]
      .filter((key) => key.startsWith('var-'))
      .map((key) => key.slice(4));
    expect(linked.sort()).toEqual(['runId', 'stage']);
    expect(url.searchParams.get('var-stage')).toBe('prod');
    // No refresh in the link: the dashboard's own refresh is what an open tab costs.
    expect(url.searchParams.has('refresh')).toBe(false);
    for (const name of [...linked, ...Object.values(SENSORS_DASHBOARD.variables)]) {
      expect(names).toContain(name);
    }
  });
});

const panelsOf = (name: string) => (generated[name] as DashboardJson).panels;
const panelTitled = (name: string, title: string) => {
  const panel = panelsOf(name).find((p) => p.title === title);
  if (!panel) throw new Error(`No panel ${title} on ${name}`);
  return panel;
};

describe('second reading (issue 26)', () => {
  it('finding 1: every metric math sum takes the array form, a series whether it sums one metric or many', () => {
    const maths = allTargets.filter(({ target }) => queryKind(target) === 'math');
    expect(maths.length).toBeGreaterThan(10);
    for (const { panel, target } of maths) {
      // SUM(x) of one metric is a number: a search over a variable holding one value is one.
      expect(target.expression, panel.title).not.toMatch(/\b(SUM|AVG|MAX|MIN)\((?!\[)/);
    }
  });

  it('finding 2: a logs panel names only the groups it needs, over a short range', () => {
    const logsPanels = Object.entries(generated).flatMap(([name, d]) =>
      d.panels
        .filter((p) => (p.targets ?? []).some((t) => queryKind(t) === 'logs'))
        .map((p) => [name, p] as const),
    );
    expect(logsPanels.map(([name, p]) => `${name}: ${p.title}`).sort()).toEqual([
      'pipeline: Error logs (last 5m)',
      'runs: Recent runs (run API logs)',
      'sensors: Run logs (last 5m)',
    ]);
    const groups = (name: string, title: string) =>
      (panelTitled(name, title).targets ?? []).flatMap(logGroupsQueried).sort();
    expect(groups('runs', 'Recent runs (run API logs)')).toEqual(['runApi']);
    // A run's own requests: not the consumer, whose group holds every reading's metrics.
    expect(groups('sensors', 'Run logs (last 5m)')).toEqual(['ingest', 'runApi', 'runSweeper']);
    // Ingestion's and the runs' functions (the infrastructure panel's has alarms of its own).
    expect(groups('pipeline', 'Error logs (last 5m)')).toEqual([...PIPELINE_FUNCTIONS].sort());
    for (const title of ['Run logs (last 5m)', 'Error logs (last 5m)']) {
      const panel = panelsOf(title.startsWith('Run') ? 'sensors' : 'pipeline').find(
        (p) => p.title === title,
      );
      expect(panel?.timeFrom, title).toBe('5m');
    }
  });

  it('finding 3: write throttle events per table and per index sit beside ThrottledRequests', () => {
    const panel = panelTitled('pipeline', 'Throttled requests and write throttle events');
    const named = (panel.targets ?? []).map((t) => [t.metricName, Object.keys(t.dimensions ?? {})]);
    expect(named).toEqual([
      ['ThrottledRequests', ['TableName', 'Operation']],
      ['WriteThrottleEvents', ['TableName']],
      ['WriteThrottleEvents', ['TableName', 'GlobalSecondaryIndexName']],
    ]);
  });

  it('findings 4 and 5: SQS is priced from the requests the functions count, reads of indexes too', () => {
    const panel = panelTitled('cost', 'Estimated spend per hour by service');
    const byId = Object.fromEntries((panel.targets ?? []).map((t) => [t.id, t]));
    expect(byId.c_sqs?.expression).toContain(
      'SUM([enq]) + SUM([msgs]) / 5 + SUM([batches]) + SUM([sqs_empty])',
    );
    // A request accepted: one SendMessageBatch; a batch of m messages: ⌈m/10⌉ receives and deletes.
    expect([byId.enq?.metricName, byId.enq?.statistic]).toEqual([
      'MeasurementsAccepted',
      'SampleCount',
    ]);
    expect([byId.batches?.metricName, byId.batches?.statistic]).toEqual([
      'ConsumerBatchSize',
      'SampleCount',
    ]);
    expect([byId.msgs?.metricName, byId.msgs?.statistic]).toEqual(['ConsumerBatchSize', 'Sum']);
    // No message counts: SQS bills requests of 1 to 10 messages.
    expect(
      (panel.targets ?? []).filter((t) => /NumberOfMessages/.test(t.metricName ?? '')),
    ).toEqual([]);
    expect(panel.description).toMatch(/SQS requests from the functions' counts/);
    expect(byId.gsir?.dimensions).toEqual({
      TableName: '$table',
      GlobalSecondaryIndexName: '*',
    });
    expect(byId.c_ddbr?.expression).toContain('SUM([gsir])');
  });

  it('finding 6: no search spans every run (a search returns at most 500 of two weeks of metrics)', () => {
    for (const { file, panel, target } of allTargets) {
      if (queryKind(target) !== 'search' || target.namespace !== SENSOR_NAMESPACE) continue;
      expect(target.dimensions?.[SensorDimension.runId], `${file}: ${panel.title}`).toBe('$runId');
    }
    const cost = panelTitled('cost', 'Estimated spend per hour by service');
    const count = (cost.targets ?? []).find((t) => t.id === 'cm');
    expect(queryKind(count!)).toBe('insights');
  });

  it('findings 7 and 8: the stage, its API, functions, queues, tables and log groups come from the deployment', () => {
    for (const dashboard of Object.values(generated)) {
      for (const variable of dashboard.templating.list) {
        if (variable.type !== 'query') continue;
        // ListMetrics lists only the sensors' runs and sensors, which no deployment knows.
        expect(
          (variable.query as DimensionValuesQuery).namespace,
          `${dashboard.uid} $${variable.name}`,
        ).toBe(SENSOR_NAMESPACE);
      }
    }
    const pipeline = (generated.pipeline as DashboardJson).templating.list;
    const variable = (name: string) => pipeline.find((v) => v.name === name);
    expect(variable('api')).toMatchObject({
      type: 'custom',
      query: deploymentMarker(deploymentKey.httpApi()),
    });
    expect(variable('api')?.multi).toBeFalsy();
    expect(String(variable('queue')?.query)).toBe(
      `measurements : ${deploymentMarker(deploymentKey.queue('measurements'))},measurements dead letters : ${deploymentMarker(deploymentKey.deadLetterQueue('measurements'))}`,
    );
    expect(String(variable('function')?.query).split(',')).toHaveLength(PIPELINE_FUNCTIONS.length);
    // The Cost board prices every function.
    const costFunctions = (generated.cost as DashboardJson).templating.list.find(
      (v) => v.name === 'function',
    );
    expect(String(costFunctions?.query).split(',')).toHaveLength(functionNames.length);
  });

  it('finding 9: Sensors lists runs newest first and once, so it opens on the latest run', () => {
    const run = (generated.sensors as DashboardJson).templating.list.find(
      (v) => v.name === SENSORS_DASHBOARD.variables.runId,
    );
    expect(run?.sort).toBe(2); // alphabetical, descending: run ids are time-ordered
    expect(run?.refresh).toBe(1);
  });

  it('finding 10: the error logs read the fields Logs Insights makes of an error object', () => {
    const [target] = panelTitled('pipeline', 'Error logs (last 5m)').targets ?? [];
    expect(target?.expression).toMatch(/fields .*error\.name, error\.message/);
    expect(target?.expression).not.toMatch(/\berror\s*(\||,)/);
  });

  it("finding 11: every stat and bar gauge sets thresholds: none keeps Grafana's red from 80", () => {
    const reducing = Object.values(generated).flatMap((d) =>
      d.panels.filter((p) => p.type === 'stat' || p.type === 'bargauge'),
    );
    expect(reducing.length).toBeGreaterThanOrEqual(9);
    for (const panel of reducing) {
      const steps = panel.fieldConfig?.defaults?.thresholds?.steps;
      expect(steps, panel.title).toBeDefined();
      expect(steps?.[0], panel.title).toEqual({ value: null, color: 'green' });
      expect(
        steps?.some((s) => s.value === 80),
        panel.title,
      ).toBe(false);
    }
    expect(
      panelTitled('runs', 'Starts refused at the limit').fieldConfig?.defaults?.thresholds?.steps,
    ).toEqual([
      { value: null, color: 'green' },
      { value: 1, color: 'red' },
    ]);
  });

  it('finding 12: readings per second in readings/s, its last stat without the period still filling', () => {
    for (const title of ['Readings per second', 'Readings per second (last full period)'])
      expect(panelTitled('sensors', title).fieldConfig?.defaults?.unit, title).toBe(
        'suffix:readings/s',
      );
    const last = panelTitled('sensors', 'Readings per second (last full period)');
    expect(last.transformations).toEqual([
      { id: 'sortBy', options: { fields: {}, sort: [{ field: 'Time', desc: true }] } },
      { id: 'limit', options: { limitField: 2 } },
    ]);
    expect(last.options?.reduceOptions?.calcs).toEqual(['lastNotNull']);
    const reqps = Object.values(generated).flatMap((d) =>
      d.panels.filter((p) => p.fieldConfig?.defaults?.unit === 'reqps'),
    );
    expect(reqps).toEqual([]);
  });

  it('links: each dashboard links to the others, keeping the time and variables; a run opens in Sensors', () => {
    for (const dashboard of Object.values(generated)) {
      expect(dashboard.tags).toContain('iot-playground');
      expect(dashboard.links).toEqual([
        {
          title: 'IoT Playground',
          type: 'dashboards',
          icon: '',
          tooltip: '',
          tags: ['iot-playground'],
          asDropdown: false,
          targetBlank: false,
          includeVars: true,
          keepTime: true,
        },
      ]);
    }
    const recent = panelTitled('runs', 'Recent runs (run API logs)') as unknown as {
      fieldConfig: {
        overrides: { matcher: { options: string }; properties: { value: unknown }[] }[];
      };
    };
    const [override] = recent.fieldConfig.overrides;
    expect(override?.matcher.options).toBe('runId');
    expect(JSON.stringify(override?.properties)).toContain(
      `/d/${SENSORS_DASHBOARD.uid}/${SENSORS_DASHBOARD.slug}?var-runId=\${__value.raw}&var-stage=\${stage}`,
    );
  });
});

describe('typed CloudWatch variable queries', () => {
  it('a misspelt queryType does not compile (tsc checks this file)', () => {
    const query: DimensionValuesQuery = {
      refId: 'CloudWatchVariableQueryEditor-VariableQuery',
      // @ts-expect-error Grafana's VariableQueryType is lower camel case: `dimensionValues`.
      queryType: 'DimensionValues',
      region: 'default',
      namespace: SENSOR_NAMESPACE,
      metricName: SensorMetric.ingested,
      dimensionKey: SensorDimension.runId,
      dimensionFilters: {},
    };
    expect(query.queryType).toBe('DimensionValues');
  });
});
