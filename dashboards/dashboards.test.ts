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
  mathReferences,
  parseInsights,
  queryKind,
  type DashboardJson,
  type Target,
} from '#shared/dashboard-model/index.ts';
import { dashboardJson, dashboards, GENERATED_DIR } from './index.ts';

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

  it('metric math refers only to queries of its own panel; logs read the function log groups', () => {
    for (const { panel, target } of allTargets) {
      if (queryKind(target) === 'math') {
        const ids = new Set((panel.targets ?? []).map((t) => t.id));
        for (const reference of mathReferences(target.expression ?? '')) {
          expect(ids, `${panel.title}: ${reference}`).toContain(reference);
        }
      }
      if (queryKind(target) === 'logs')
        expect(target.logGroups).toEqual([{ arn: '$logGroups', name: '$logGroups' }]);
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
