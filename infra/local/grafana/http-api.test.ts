/**
 * The local Grafana's HTTP API against Grafana's documented API and the CloudWatch datasource's
 * backend: request and response shapes, where an error is filed, how Logs Insights queries run,
 * and the resource endpoints the dashboards' variables use. Each case names its source.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueryDataResponseJson } from '#shared/grafana-query-api.ts';
import { LogStore, SeriesStore } from '../meter/index.ts';
import { localLogGroupArn } from './evaluate.ts';
import { grafanaPages } from './pages.ts';

const HTTP_API = 'https://grafana.com/docs/grafana/latest/developers/http_api/data_source/';
const SDK_JSON = 'grafana/grafana-plugin-sdk-go backend/json.go (writeDataResponseJSON)';
const DS = 'grafana/grafana-cloudwatch-datasource';
const TIME_SERIES = `${DS} pkg/cloudwatch/time_series_query.go (getQueryRefIdFromErrorString)`;
const LOG_ACTIONS = `${DS} pkg/cloudwatch/log_actions.go, src/query-runner/CloudWatchLogsQueryRunner.ts`;
const SYNC_LOGS = `${DS} pkg/cloudwatch/log_sync_query.go, pkg/cloudwatch/cloudwatch.go (QueryData)`;
const RESOURCES = `${DS} pkg/cloudwatch/resource_handler.go, models/resources/*.go`;

const NOW = 1_700_000_000_000;
const CLOUDWATCH = { type: 'cloudwatch', uid: 'cloudwatch' };
const GROUP = '/aws/lambda/runApi';

let server: Server;
let base: string;

beforeAll(async () => {
  const series = new SeriesStore(() => NOW);
  for (const [secondsAgo, value] of [
    [120, 3],
    [60, 4],
  ] as const) {
    series.record(
      'AWS/Lambda',
      'Invocations',
      { FunctionName: 'f1' },
      [value],
      NOW - secondsAgo * 1000,
    );
    series.record(
      'AWS/Lambda',
      'Invocations',
      { FunctionName: 'f2' },
      [1],
      NOW - secondsAgo * 1000,
    );
  }
  series.record('NS', 'Reading', { RunId: 'r1', SensorId: 's2' }, [1], NOW - 1000);
  series.record('NS', 'Reading', { RunId: 'r1', SensorId: 's1' }, [1], NOW - 1000);
  series.record('NS', 'Reading', { RunId: 'r2', SensorId: 's3' }, [1], NOW - 1000);
  const logs = new LogStore();
  logs.add({
    timestamp: NOW - 5000,
    logGroup: GROUP,
    message: '{"level":"ERROR","message":"boom"}',
  });
  logs.add({ timestamp: NOW - 4000, logGroup: GROUP, message: '{"level":"INFO","message":"ok"}' });
  logs.add({ timestamp: NOW - 4000, logGroup: '/aws/lambda/ingest', message: 'plain' });
  const grafana = grafanaPages({ series, logs }, () => NOW);
  server = createServer((request, response) => {
    void grafana(request, response);
  });
  await once(server.listen(0, '127.0.0.1'), 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/grafana`;
});
afterAll(() => {
  server?.close();
});

const query = async (body: unknown) => {
  const response = await fetch(`${base}/api/ds/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as QueryDataResponseJson };
};

/** A builder query as the CloudWatch frontend sends it, variables already interpolated. */
const invocations = (refId: string, extra: object = {}) => ({
  refId,
  id: refId.toLowerCase(),
  datasource: CLOUDWATCH,
  queryMode: 'Metrics',
  metricQueryType: 0,
  metricEditorMode: 0,
  region: 'us-east-1',
  namespace: 'AWS/Lambda',
  metricName: 'Invocations',
  dimensions: { FunctionName: ['f1'] },
  matchExact: true,
  statistic: 'Sum',
  period: '',
  type: 'timeSeriesQuery',
  intervalMs: 2000,
  maxDataPoints: 1800,
  ...extra,
});

const range = { from: String(NOW - 600_000), to: String(NOW) };

describe('POST /api/ds/query: metrics', () => {
  it(`answers the documented request with the documented frames (${HTTP_API}, ${SDK_JSON})`, async () => {
    const { status, body } = await query({ ...range, queries: [invocations('A')] });

    expect(status).toBe(200);
    const result = body.results.A;
    expect(result?.status).toBe(200);
    expect(result?.error).toBeUndefined();
    const frame = result?.frames?.[0];
    expect(frame?.schema.refId).toBe('A');
    expect(frame?.schema.fields.map((f) => [f.name, f.type])).toEqual([
      ['Time', 'time'],
      ['Value', 'number'],
    ]);
    // Only the periods with a value, as GetMetricData returns them.
    const [times, values] = frame?.data?.values ?? [];
    expect(values).toEqual([3, 4]);
    expect(times).toHaveLength(2);
    expect((times as number[]).every((t) => t >= NOW - 600_000 && t < NOW)).toBe(true);
  });

  it('returns nothing for a hidden query and the series of the math that reads it', async () => {
    const { status, body } = await query({
      ...range,
      queries: [
        invocations('M', { hide: true, dimensions: { FunctionName: ['f1', 'f2'] } }),
        {
          refId: 'TOTAL',
          id: 'total',
          datasource: CLOUDWATCH,
          queryMode: 'Metrics',
          metricQueryType: 0,
          metricEditorMode: 1,
          region: 'us-east-1',
          expression: 'SUM(m)',
          statistic: 'Average',
          label: 'All',
        },
      ],
    });

    expect(status).toBe(200);
    expect(Object.keys(body.results)).toEqual(['TOTAL']);
    expect(body.results.TOTAL?.frames?.[0]?.data?.values[1]).toEqual([4, 5]);
  });

  it(`files a refused request under the query its message names, with a 400 (${TIME_SERIES}, ${HTTP_API})`, async () => {
    const { status, body } = await query({
      ...range,
      queries: [
        invocations('A'),
        {
          ...invocations('B', { metricEditorMode: 1, expression: 'a + nothere', id: 'bad_math' }),
        },
      ],
    });

    expect(status).toBe(400);
    expect(Object.keys(body.results)).toEqual(['B']);
    expect(body.results.B?.error).toMatch(
      /^metric request error: ValidationError: Error in expression 'bad_math': Unrecognized metric or expression id nothere/,
    );
    expect(body.results.B?.status).toBeGreaterThanOrEqual(400);
  });

  it(`files an error that names no query under '' (${TIME_SERIES})`, async () => {
    const { status, body } = await query({
      ...range,
      queries: [invocations('A', { id: 'Upper' })],
    });

    expect(status).toBe(400);
    expect(Object.keys(body.results)).toEqual(['']);
    expect(body.results['']?.error).toMatch(/metricDataQueries\.member\.id/);
  });

  it(`answers 404 for a datasource it does not have, 400 for no query (${HTTP_API})`, async () => {
    const unknown = await query({
      ...range,
      queries: [invocations('A', { datasource: { type: 'cloudwatch', uid: 'other' } })],
    });
    const none = await query({ ...range, queries: [] });

    expect(unknown.status).toBe(404);
    expect(none.status).toBe(400);
  });
});

describe('POST /api/ds/query: Logs Insights', () => {
  const logs = (extra: object) => ({
    refId: 'LOGS',
    datasource: CLOUDWATCH,
    queryMode: 'Logs',
    region: 'us-east-1',
    id: '',
    intervalMs: 1,
    maxDataPoints: 1,
    ...extra,
  });
  const start = (groups: string[], queryString: string) =>
    query({
      ...range,
      queries: [
        logs({
          type: 'logAction',
          subtype: 'StartQuery',
          queryString,
          logGroups: groups.map((arn) => ({ arn, name: arn })),
          logGroupNames: [],
        }),
      ],
    });

  it(`starts a query, then answers its result with the status Complete (${LOG_ACTIONS})`, async () => {
    const started = await start(
      [localLogGroupArn(GROUP)],
      'fields @timestamp, message | filter level = "ERROR" | sort @timestamp desc | limit 10',
    );
    const queryId = started.body.results.LOGS?.frames?.[0]?.data?.values[0]?.[0];
    expect(started.status).toBe(200);
    expect(typeof queryId).toBe('string');

    const polled = await query({
      ...range,
      queries: [logs({ type: 'logAction', subtype: 'GetQueryResults', queryId })],
    });
    const frame = polled.body.results.LOGS?.frames?.[0];
    expect(polled.body.results.LOGS?.error).toBeUndefined();
    expect(polled.status).toBe(200);
    expect(frame?.schema.meta?.custom?.Status).toBe('Complete');
    expect(frame?.schema.fields.map((f) => [f.name, f.type])).toEqual([
      ['@timestamp', 'time'],
      ['message', 'string'],
    ]);
    expect(frame?.data?.values).toEqual([[NOW - 5000], ['boom']]);

    const stopped = await query({
      ...range,
      queries: [logs({ type: 'logAction', subtype: 'StopQuery', queryId })],
    });
    expect(stopped.body.results.LOGS?.frames?.[0]?.data?.values).toEqual([[true]]);
  });

  it(`refuses an unknown log group at StartQuery, as CloudWatch Logs does (${LOG_ACTIONS})`, async () => {
    const { status, body } = await start([localLogGroupArn('/aws/lambda/nope')], 'fields @message');

    expect(status).toBe(400);
    expect(body.results.LOGS?.error).toMatch(
      /^failed to execute log action with subtype: StartQuery: ResourceNotFoundException/,
    );
  });

  it(`runs a logs query without a type to completion in one request (${SYNC_LOGS})`, async () => {
    const { status, body } = await query({
      ...range,
      queries: [
        logs({
          expression: 'fields @timestamp, @message',
          logGroups: [{ arn: localLogGroupArn('/aws/lambda/ingest'), name: 'ingest' }],
        }),
      ],
    });

    expect(status).toBe(200);
    expect(body.results.LOGS?.frames?.[0]?.data?.values[1]).toEqual(['plain']);
  });
});

describe('datasource resources', () => {
  const get = async (path: string, init?: RequestInit) => {
    const response = await fetch(`${base}/api/datasources/uid/cloudwatch${path}`, init);
    return { status: response.status, body: (await response.json()) as any };
  };

  it(`gives the datasource's settings with its default region (${HTTP_API})`, async () => {
    const { status, body } = await get('');

    expect(status).toBe(200);
    expect(body).toMatchObject({ uid: 'cloudwatch', type: 'cloudwatch' });
    expect(body.jsonData.defaultRegion).toMatch(/^[a-z]{2}-[a-z]+-\d$/);
    expect((await fetch(`${base}/api/datasources/uid/other`)).status).toBe(404);
  });

  it(`lists dimension values as {value}, sorted, within the filters (${RESOURCES})`, async () => {
    const filters = encodeURIComponent(JSON.stringify({ RunId: ['r1'] }));
    const { status, body } = await get(
      `/resources/dimension-values?region=us-east-1&namespace=NS&metricName=Reading&dimensionKey=SensorId&dimensionFilters=${filters}`,
    );

    expect(status).toBe(200);
    expect(body).toEqual([{ value: 's1' }, { value: 's2' }]);
  });

  it(`refuses a resource request without region, and any method but GET (${RESOURCES})`, async () => {
    const noRegion = await get('/resources/dimension-values?namespace=NS&metricName=Reading');
    const post = await get('/resources/dimension-values?region=x', { method: 'POST' });

    expect(noRegion.status).toBe(400);
    expect(noRegion.body).toEqual({
      Message: 'error in DimensionValuesHandler: region is required',
      Error: 'region is required',
      StatusCode: 400,
    });
    expect(post.status).toBe(405);
  });

  it(`lists log groups by prefix as {value: {arn, name}} (${RESOURCES})`, async () => {
    const { body } = await get(
      '/resources/log-groups?region=us-east-1&logGroupNamePrefix=%2Faws%2Flambda%2Frun&listAllLogGroups=true',
    );

    expect(body).toEqual([
      { value: { arn: localLogGroupArn(GROUP), name: GROUP }, accountId: '000000000000' },
    ]);
  });

  it(`lists a namespace's metrics (${RESOURCES})`, async () => {
    const { body } = await get('/resources/metrics?region=us-east-1&namespace=AWS%2FLambda');

    expect(body).toEqual([{ value: { name: 'Invocations', namespace: 'AWS/Lambda' } }]);
  });
});
