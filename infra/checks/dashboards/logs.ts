/**
 * Logs Insights queries as a dashboard runs them through Grafana
 * (grafana-cloudwatch-datasource src/query-runner/CloudWatchLogsQueryRunner.ts): one
 * `/api/ds/query` with a `logAction` StartQuery per query, whose frames carry the query ids; then
 * GetQueryResults for them at growing intervals (100 ms, then +300 ms up to 1 s,
 * src/utils/rxjs/increasingInterval.ts) until each result's `meta.custom.Status` is final; a
 * query still running at the deadline is stopped (StopQuery) and fails, as Grafana's logs
 * timeout fails it.
 */
import { LOGS_QUERY_DONE, QUERY_PATH, type DataResponseJson } from '#shared/grafana-query-api.ts';
import type { GrafanaClient } from './grafana-client.ts';
import { judgeAnswer, judgeResult, type QueryOutcome } from './outcomes.ts';

/** How long the check waits for a Logs Insights query to finish. */
export const LOGS_DEADLINE_MS = 120_000;

interface Started {
  refId: string;
  queryId: string;
  region: string;
}

const logAction = (
  subtype: 'GetQueryResults' | 'StopQuery',
  started: Started[],
  datasource: unknown,
) =>
  started.map(({ refId, queryId, region }) => ({
    refId,
    queryId,
    region,
    id: '',
    queryMode: 'Logs',
    intervalMs: 1,
    maxDataPoints: 1,
    datasource,
    type: 'logAction',
    subtype,
  }));

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The queries' outcomes, once each has finished (or failed to start, or timed out). */
export const runLogsQueries = async (
  client: GrafanaClient,
  body: { from: string; to: string; queries: Record<string, unknown>[] },
  headers: Record<string, string>,
  deadlineMs = LOGS_DEADLINE_MS,
): Promise<QueryOutcome[]> => {
  const refIds = body.queries.map((q) => String(q.refId));
  const datasource = body.queries[0]?.datasource;
  const start = await client.post(QUERY_PATH, body, headers);
  const outcomes = judgeAnswer(start, refIds).filter((o) => o.verdict === 'error');
  const results = (start.body as { results?: Record<string, DataResponseJson> }).results ?? {};
  let pending: Started[] = refIds.flatMap((refId) => {
    if (outcomes.some((o) => o.refId === refId || o.refId === '')) return [];
    const frame = results[refId]?.frames?.[0];
    const queryId = frame?.data?.values?.[0]?.[0];
    if (typeof queryId !== 'string') {
      outcomes.push({ refId, verdict: 'error', detail: 'StartQuery answered no query id' });
      return [];
    }
    const region = String(frame?.schema.meta?.custom?.Region ?? 'default');
    return [{ refId, queryId, region }];
  });
  const until = Date.now() + deadlineMs;
  for (let wait = 100; pending.length > 0; wait = Math.min(1000, wait + 300)) {
    if (Date.now() + wait > until) {
      await client.post(
        QUERY_PATH,
        { ...body, queries: logAction('StopQuery', pending, datasource) },
        headers,
      );
      for (const { refId } of pending)
        outcomes.push({
          refId,
          verdict: 'error',
          detail: `the Logs Insights query did not finish within ${deadlineMs / 1000} s (stopped)`,
        });
      break;
    }
    await pause(wait);
    const polled = await client.post(
      QUERY_PATH,
      { ...body, queries: logAction('GetQueryResults', pending, datasource) },
      headers,
    );
    const answers = (polled.body as { results?: Record<string, DataResponseJson> }).results;
    if (!answers) {
      outcomes.push(
        ...judgeAnswer(
          polled,
          pending.map((p) => p.refId),
        ),
      );
      break;
    }
    pending = pending.filter(({ refId }) => {
      const result = answers[refId];
      const status = String(result?.frames?.[0]?.schema.meta?.custom?.Status ?? '');
      if (result?.error !== undefined) outcomes.push(judgeResult(refId, result, true));
      else if (status === 'Complete') outcomes.push(judgeResult(refId, result, true));
      else if ((LOGS_QUERY_DONE as readonly string[]).includes(status))
        outcomes.push({
          refId,
          verdict: 'error',
          detail: `the Logs Insights query ended ${status}`,
        });
      else return true;
      return false;
    });
  }
  return outcomes;
};
