import { describe, expect, it } from 'vitest';
import type { PanelJson, Target } from '../../../dashboards/model.ts';
import { evaluatePanel, type Sources } from './evaluate.ts';
import { LogStore } from './recorder.ts';
import { SeriesStore } from './series-store.ts';

const T0 = 1_700_000_000_000;
const window = { fromMs: T0, toMs: T0 + 10_000, periodS: 5 };

const sources = (): Sources => {
  const series = new SeriesStore(() => T0);
  const reading = (sensor: string, user: string, values: number[], at: number) =>
    series.record('NS', 'Reading', { SensorId: sensor, User: user }, values, T0 + at);
  reading('s1', 'alice', [20, 22], 1000);
  reading('s1', 'alice', [30], 6000);
  reading('s2', 'bob', [10], 2000);
  // Another dimension set of the same metric: an exact match leaves it out.
  series.record('NS', 'Reading', { SensorId: 's1' }, [99], T0 + 1000);
  const logs = new LogStore();
  logs.add({
    timestamp: T0 + 1000,
    logGroup: '/aws/lambda/a',
    message: '{"level":"ERROR","message":"boom"}',
  });
  logs.add({
    timestamp: T0 + 2000,
    logGroup: '/aws/lambda/a',
    message: '{"level":"INFO","message":"ok"}',
  });
  logs.add({
    timestamp: T0 + 3000,
    logGroup: '/aws/lambda/b',
    message: '{"level":"ERROR","message":"bang"}',
  });
  return { series, logs };
};

const panel = (...targets: Target[]): PanelJson => ({
  id: 1,
  type: 'timeseries',
  title: 'p',
  gridPos: { x: 0, y: 0, w: 1, h: 1 },
  targets,
});

const search = (id: string, extra: Partial<Target> = {}): Target => ({
  refId: id.toUpperCase(),
  id,
  queryMode: 'Metrics',
  metricQueryType: 0,
  metricEditorMode: 0,
  namespace: 'NS',
  metricName: 'Reading',
  dimensions: { SensorId: '$sensor', User: '*' },
  matchExact: true,
  statistic: 'Average',
  label: "${PROP('Dim.SensorId')}",
  ...extra,
});

describe('local evaluation of CloudWatch queries', () => {
  it('searches one series per dimension set, with the statistic per period', () => {
    const result = evaluatePanel(panel(search('a')), sources(), window, { sensor: ['*'] });
    expect(result.times).toEqual([T0 / 1000, T0 / 1000 + 5]);
    expect(result.frames).toEqual([
      { label: 's1', values: [21, 30] },
      { label: 's2', values: [10, null] },
    ]);
    const one = evaluatePanel(panel(search('a', { statistic: 'Maximum' })), sources(), window, {
      sensor: ['s1'],
    });
    expect(one.frames).toEqual([{ label: 's1', values: [22, 30] }]);
  });

  it('groups Metrics Insights queries and applies metric math over hidden queries', () => {
    const result = evaluatePanel(
      panel(
        {
          refId: 'G',
          id: 'g',
          metricQueryType: 1,
          metricEditorMode: 1,
          sqlExpression:
            'SELECT SUM(Reading) FROM SCHEMA("NS", SensorId, User) WHERE User = \'$user\' GROUP BY SensorId',
          label: "${PROP('Dim.SensorId')}",
        },
        search('m', { hide: true, statistic: 'SampleCount' }),
        {
          refId: 'R',
          id: 'r',
          metricEditorMode: 1,
          expression: 'SUM(m) / PERIOD(m)',
          label: 'rate',
        },
      ),
      sources(),
      window,
      { user: ['alice'], sensor: ['*'] },
    );
    expect(result.frames).toEqual([
      { label: 's1', values: [42, 30] },
      { label: 'rate', values: [3 / 5, 1 / 5] },
    ]);
    expect(result.notes).toEqual([]);
  });

  it('answers the Logs Insights subset and says on the panel what it cannot answer', () => {
    const logs = (expression: string): Target => ({
      refId: 'L',
      queryMode: 'Logs',
      logGroupNames: ['$logGroups'],
      expression,
    });
    const errors = evaluatePanel(
      panel(
        logs(
          'fields @timestamp, @log, message | filter level = "ERROR" | sort @timestamp desc | limit 1',
        ),
      ),
      sources(),
      window,
      { logGroups: ['*'] },
    );
    expect(errors.table).toEqual({
      fields: ['@timestamp', '@log', 'message'],
      rows: [[new Date(T0 + 3000).toISOString(), '/aws/lambda/b', 'bang']],
    });
    const stats = evaluatePanel(panel(logs('stats count() by bin(1m)')), sources(), window, {});
    expect(stats.notes).toEqual([
      'The local stack cannot answer query L: Logs Insights command stats.',
    ]);
  });
});
