/**
 * check:dashboards against a stubbed Grafana: a small HTTP server answering Grafana's API as
 * documented (https://grafana.com/docs/grafana/latest/developers/http_api/data_source/), with a
 * dashboard of our own. An error frame fails the check and names dashboard, panel and query; an
 * empty result is reported apart; the requests carry what Grafana's frontend sends.
 */
import { once } from 'node:events';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './cli.ts';

const NOW = 1_700_000_000_000;
const CLOUDWATCH = { type: 'cloudwatch', uid: 'cloudwatch' };

const metric = (refId: string, type: string) => ({
  refId,
  id: refId.toLowerCase(),
  datasource: CLOUDWATCH,
  queryMode: 'Metrics',
  metricQueryType: 0,
  metricEditorMode: 0,
  region: 'default',
  namespace: 'IoTPlayground/Sensors',
  metricName: 'SensorReading',
  dimensions: { RunId: '$runId', SensorId: '$sensorId', Type: type },
  matchExact: true,
  statistic: 'Average',
  period: '',
});

const panel = (id: number, title: string, targets: object[], extra: object = {}) => ({
  id,
  type: 'timeseries',
  title,
  gridPos: { x: 0, y: 0, w: 12, h: 8 },
  datasource: CLOUDWATCH,
  targets,
  ...extra,
});

/** A variable listing a dimension's values of the readings metric. */
const dimensionValues = (dimensionKey: string, dimensionFilters: object) => ({
  queryType: 'dimensionValues',
  region: 'default',
  namespace: 'IoTPlayground/Sensors',
  metricName: 'SensorReading',
  dimensionKey,
  dimensionFilters,
});

/** A dashboard of our own; `sensorId` comes first but depends on `runId`. */
const DASHBOARD = {
  uid: 'stub-dashboard',
  title: 'Stub — Sensors',
  time: { from: 'now-1h', to: 'now' },
  templating: {
    list: [
      {
        type: 'query',
        name: 'sensorId',
        multi: true,
        includeAll: true,
        allValue: '*',
        current: { text: ['All'], value: ['$__all'] },
        datasource: CLOUDWATCH,
        refresh: 1,
        query: dimensionValues('SensorId', { RunId: '$runId' }),
      },
      {
        type: 'query',
        name: 'runId',
        datasource: CLOUDWATCH,
        refresh: 1,
        query: dimensionValues('RunId', {}),
      },
      {
        type: 'query',
        name: 'logGroups',
        multi: true,
        includeAll: true,
        current: { text: ['All'], value: ['$__all'] },
        datasource: CLOUDWATCH,
        refresh: 1,
        query: { queryType: 'logGroups', region: 'default', logGroupPrefix: 'app-' },
      },
    ],
  },
  panels: [
    panel(1, 'Temperature', [metric('R', 'temperature')]),
    panel(2, 'Humidity', [metric('R', 'humidity')]),
    panel(3, 'Pressure', [metric('R', 'pressure')], { timeFrom: '15m' }),
    panel(4, 'Pressure (last)', [
      { refId: 'A', panelId: 3, datasource: { type: 'datasource', uid: '-- Dashboard --' } },
    ]),
    panel(5, 'Logs', [
      {
        refId: 'LOGS',
        id: 'logs',
        datasource: CLOUDWATCH,
        queryMode: 'Logs',
        region: 'default',
        logGroups: [{ arn: '$logGroups', name: '$logGroups' }],
        expression: 'fields @timestamp, @message | limit 5',
      },
    ]),
  ],
};

interface Seen {
  path: string;
  params: URLSearchParams;
  body: any;
  authorization: string | undefined;
}

const seen: Seen[] = [];
/** Which panel's query answers with an error frame (by the Type it asks). */
let failing = 'temperature';
let polls = 0;

const frame = (refId: string, values: number[]) => ({
  schema: {
    refId,
    fields: [
      { name: 'Time', type: 'time' },
      { name: 'Value', type: 'number' },
    ],
  },
  data: { values: [values.map((_, i) => NOW - i * 60_000), values] },
});

const readBody = async (request: IncomingMessage) => {
  let text = '';
  for await (const chunk of request) text += String(chunk);
  return text ? JSON.parse(text) : undefined;
};

/** The answer to a Logs Insights log action: one frame with the datasource's meta. */
const logsAnswer = (custom: object, fields: object[], values: unknown[][]) => ({
  results: {
    LOGS: {
      status: 200,
      frames: [{ schema: { refId: 'LOGS', meta: { custom }, fields }, data: { values } }],
    },
  },
});

/** Grafana's answers, by path. */
const answer = (path: string, params: URLSearchParams, body: any): [number, unknown] => {
  if (path === '/api/health') return [200, { database: 'ok', version: '12.0.2' }];
  if (path === '/api/datasources/uid/cloudwatch')
    return [
      200,
      { uid: 'cloudwatch', type: 'cloudwatch', jsonData: { defaultRegion: 'eu-west-1' } },
    ];
  if (path === '/api/datasources/uid/cloudwatch/resources/dimension-values')
    return params.get('dimensionKey') === 'RunId'
      ? [200, [{ value: 'run-a' }, { value: 'run-b' }]]
      : [200, [{ value: 's1' }, { value: 's2' }]];
  if (path === '/api/datasources/uid/cloudwatch/resources/log-groups')
    return [200, [{ value: { arn: 'arn:aws:logs:eu-west-1:1:log-group:app-a:*', name: 'app-a' } }]];
  if (path !== '/api/ds/query') return [404, { message: 'Not found' }];
  const query = body.queries[0];
  if (query.subtype === 'StartQuery')
    return [
      200,
      logsAnswer({ Region: 'eu-west-1' }, [{ name: 'queryId', type: 'string' }], [['q-1']]),
    ];
  if (query.subtype === 'GetQueryResults') {
    polls++;
    // Running at the first poll, complete at the second.
    if (polls < 2) return [200, logsAnswer({ Status: 'Running' }, [], [])];
    const fields = [
      { name: '@timestamp', type: 'time' },
      { name: '@message', type: 'string' },
    ];
    return [200, logsAnswer({ Status: 'Complete' }, fields, [[NOW], ['hello']])];
  }
  const type = query.dimensions?.Type?.[0];
  if (type === failing)
    return [
      400,
      {
        results: {
          R: {
            error:
              'metric request error: AccessDenied: not authorized to perform cloudwatch:GetMetricData',
            errorSource: 'downstream',
            status: 403,
          },
        },
      },
    ];
  if (type === 'humidity') return [200, { results: { R: { status: 200, frames: [] } } }];
  return [200, { results: { R: { status: 200, frames: [frame('R', [1, 2, 3])] } } }];
};

let server: Server;
let url: string;
let dir: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    void (async () => {
      const parsed = new URL(request.url ?? '/', 'http://stub');
      const body = await readBody(request);
      seen.push({
        path: parsed.pathname,
        params: parsed.searchParams,
        body,
        authorization: request.headers.authorization,
      });
      const [status, json] = answer(parsed.pathname, parsed.searchParams, body);
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(json));
    })();
  });
  await once(server.listen(0, '127.0.0.1'), 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(join(tmpdir(), 'check-dashboards-'));
  await writeFile(join(dir, 'stub.json'), JSON.stringify(DASHBOARD));
});
afterAll(() => {
  server?.close();
});
beforeEach(() => {
  seen.length = 0;
  failing = 'temperature';
  polls = 0;
});

const check = async (args: string[] = [], env: Record<string, string> = {}) => {
  let out = '';
  const code = await runCli(['--grafana-url', url, '--dashboards', dir, ...args], {
    out: (text) => (out += text),
    env,
    now: () => NOW,
  });
  return { code, out, lines: out.split('\n') };
};

const queries = () => seen.filter((s) => s.path === '/api/ds/query').map((s) => s.body);

describe('check:dashboards against a stubbed Grafana', () => {
  it('fails on an error frame, naming dashboard, panel and query, and tells empty apart', async () => {
    const summary = join(dir, 'summary.md');

    const { code, lines } = await check(['--summary', summary]);

    expect(code).toBe(1);
    const error = lines.find((line) => line.startsWith('ERROR'));
    expect(error).toMatch(
      /Stub — Sensors\s+Temperature \(#1\)\s+R\s+metric request error: AccessDenied/,
    );
    expect(lines.filter((line) => line.startsWith('ERROR'))).toHaveLength(1);
    expect(lines.find((line) => line.includes('Humidity (#2)'))).toMatch(/^empty\s.*no frames/);
    expect(lines.find((line) => line.includes('Pressure (#3)'))).toMatch(
      /^ok\s.*1 series, 3 values/,
    );
    expect(lines.find((line) => line.includes('Pressure (last) (#4)'))).toMatch(
      /^reused\s.*panel #3/,
    );
    expect(lines.find((line) => line.includes('Logs (#5)'))).toMatch(/^ok\s.*LOGS\s+1 rows/);
    expect(lines.at(-2)).toMatch(
      /1 dashboards, 3 variables, 5 panels: 7 queries asked of Grafana — 5 with data, 1 empty, 1 failed: FAILED/,
    );
    const markdown = await readFile(summary, 'utf8');
    expect(markdown).toMatch(/^### check:dashboards — FAILED/);
    expect(markdown).toMatch(
      /\| ERROR \| Stub — Sensors \| Temperature \(#1\) \| R \| metric request error: AccessDenied/,
    );
  });

  it('passes when nothing fails, and fails on empty results only when asked to', async () => {
    failing = 'none';

    const passing = await check();
    const strict = await check(['--fail-on-empty']);

    expect(passing.code).toBe(0);
    expect(passing.lines.at(-2)).toMatch(/0 failed: passed$/);
    expect(strict.code).toBe(1);
  });

  it('resolves a variable after the one it depends on, and sends what the frontend sends', async () => {
    await check([], { GRAFANA_TOKEN: 'glsa_test' });

    const listings = seen.filter((s) => s.path.endsWith('/dimension-values'));
    expect(listings.map((s) => s.params.get('dimensionKey'))).toEqual(['RunId', 'SensorId']);
    expect(JSON.parse(listings[1]?.params.get('dimensionFilters') ?? '')).toEqual({
      RunId: ['run-a'],
    });
    // The datasource's default region replaces 'default' (getActualRegion).
    expect(listings.every((s) => s.params.get('region') === 'eu-west-1')).toBe(true);
    expect(seen.every((s) => s.authorization === 'Bearer glsa_test')).toBe(true);

    const temperature = queries().find((b) => b.queries[0].dimensions?.Type?.[0] === 'temperature');
    expect(temperature).toMatchObject({ from: String(NOW - 3_600_000), to: String(NOW) });
    expect(temperature.queries[0]).toMatchObject({
      refId: 'R',
      datasource: CLOUDWATCH,
      type: 'timeSeriesQuery',
      region: 'eu-west-1',
      // The run the listing gave first; All with a custom all value is that value.
      dimensions: { RunId: ['run-a'], SensorId: ['*'], Type: ['temperature'] },
      maxDataPoints: 960,
    });
    expect(temperature.queries[0].intervalMs).toBe(5000);
    // The panel's relative time: the last 15 minutes.
    const pressure = queries().find((b) => b.queries[0].dimensions?.Type?.[0] === 'pressure');
    expect(Number(pressure.to) - Number(pressure.from)).toBe(900_000);
    // Logs Insights: StartQuery with the log groups' ARNs, then polled until Complete.
    const start = queries().find((b) => b.queries[0].subtype === 'StartQuery');
    expect(start.queries[0]).toMatchObject({
      type: 'logAction',
      queryString: 'fields @timestamp, @message | limit 5',
      logGroups: [
        {
          arn: 'arn:aws:logs:eu-west-1:1:log-group:app-a:*',
          name: 'arn:aws:logs:eu-west-1:1:log-group:app-a:*',
        },
      ],
    });
    expect(polls).toBe(2);
    // The Dashboard datasource's panel is not queried.
    expect(queries().some((b) => b.queries.some((q: any) => q.panelId !== undefined))).toBe(false);
  });

  it("takes a variable's value as a URL gives it (--var), listed or not", async () => {
    await check(['--var', 'runId=run-z', '--var', 'sensorId=s2', '--var', 'sensorId=s9']);

    const sensors = seen.find((s) => s.params.get('dimensionKey') === 'SensorId');
    expect(JSON.parse(sensors?.params.get('dimensionFilters') ?? '')).toEqual({ RunId: ['run-z'] });
    const temperature = queries().find((b) => b.queries[0].dimensions?.Type?.[0] === 'temperature');
    expect(temperature.queries[0].dimensions).toMatchObject({
      RunId: ['run-z'],
      SensorId: ['s2', 's9'],
    });
  });

  it('answers 2 to a usage error and 1 when Grafana cannot be reached', async () => {
    let out = '';
    const io = { out: (text: string) => (out += text), env: {} };

    expect(await runCli(['--summary', 'x.md'], io)).toBe(2);
    expect(out).toMatch(/--grafana-url/);
    expect(await runCli(['--grafana-url', 'http://127.0.0.1:9', '--dashboards', dir], io)).toBe(1);
    expect(out).toMatch(/cannot reach Grafana at http:\/\/127\.0\.0\.1:9/);
  });
});
