/**
 * What an answer of `POST /api/ds/query` says about each query: an error (the query failed, as
 * the panel would show in red), empty (no frame, or frames without a value), or data. Shapes from
 * https://grafana.com/docs/grafana/latest/developers/http_api/data_source/ ("Query a data
 * source": 400 when a query fails, the results still in the body) and grafana-plugin-sdk-go
 * backend/json.go (a result's `error` and `status`; a result may sit under '' when the
 * datasource cannot tell which query failed).
 */
import type {
  DataResponseJson,
  FrameJson,
  QueryDataResponseJson,
} from '#shared/grafana-query-api.ts';
import { reasonOf, type GrafanaAnswer } from './grafana-client.ts';

export type Verdict = 'data' | 'empty' | 'error';

export interface QueryOutcome {
  /** '' when the failure concerns the whole request. */
  refId: string;
  verdict: Verdict;
  detail: string;
}

/** Values a frame holds outside its time fields (nulls are gaps, not values). */
const valueCount = (frame: FrameJson): number => {
  const fields = frame.schema?.fields ?? [];
  const columns = frame.data?.values ?? [];
  return fields.reduce((count, field, i) => {
    if (field.type === 'time') return count;
    return count + (columns[i] ?? []).filter((v) => v !== null && v !== undefined).length;
  }, 0);
};

const rowCount = (frame: FrameJson): number =>
  Math.max(0, ...(frame.data?.values ?? []).map((column) => column.length));

const noticesOf = (frames: FrameJson[], severity: string): string[] =>
  frames.flatMap((frame) =>
    (frame.schema?.meta?.notices ?? []).filter((n) => n.severity === severity).map((n) => n.text),
  );

/** One result's verdict; `rows` counts log lines rather than values. */
export const judgeResult = (
  refId: string,
  result: DataResponseJson | undefined,
  rows = false,
): QueryOutcome => {
  if (result === undefined) return { refId, verdict: 'empty', detail: 'no result for this query' };
  if (result.error !== undefined || (result.status ?? 200) >= 400)
    return {
      refId,
      verdict: 'error',
      detail: result.error || `status ${result.status} without a message`,
    };
  const frames = result.frames ?? [];
  const errors = noticesOf(frames, 'error');
  if (errors.length > 0) return { refId, verdict: 'error', detail: errors.join('; ') };
  const warnings = noticesOf(frames, 'warning');
  const withData = frames.filter((frame) => valueCount(frame) > 0);
  if (withData.length === 0) {
    const shape =
      frames.length === 0
        ? 'no frames'
        : rows
          ? 'no rows'
          : `${frames.length} frame(s) without values`;
    return { refId, verdict: 'empty', detail: [shape, ...warnings].join('; ') };
  }
  const amount = rows
    ? `${withData.reduce((n, f) => n + rowCount(f), 0)} rows`
    : `${withData.length} series, ${withData.reduce((n, f) => n + valueCount(f), 0)} values`;
  return { refId, verdict: 'data', detail: [amount, ...warnings].join('; ') };
};

/**
 * Every outcome of one request: the errors wherever they sit, then each expected query. When the
 * request failed, a query without a result of its own is not reported again.
 */
export const judgeAnswer = (
  answer: GrafanaAnswer,
  expected: string[],
  rows = false,
): QueryOutcome[] => {
  const results = (answer.body as Partial<QueryDataResponseJson> | undefined)?.results;
  if (!results || typeof results !== 'object')
    return [
      {
        refId: '',
        verdict: 'error',
        detail: answer.status >= 400 ? reasonOf(answer) : 'the answer has no results',
      },
    ];
  const errors = Object.entries(results)
    .map(([refId, result]) => judgeResult(refId, result, rows))
    .filter((outcome) => outcome.verdict === 'error');
  if (answer.status >= 400 && errors.length === 0)
    errors.push({
      refId: '',
      verdict: 'error',
      detail: `${reasonOf(answer)} with no error in the results`,
    });
  const failed = errors.length > 0;
  const others = expected
    .filter((refId) => !errors.some((e) => e.refId === refId))
    .filter((refId) => !(failed && results[refId] === undefined))
    .map((refId) => judgeResult(refId, results[refId], rows));
  return [...errors, ...others];
};
