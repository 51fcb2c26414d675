/**
 * What the local evaluation answers (evaluate.ts `PanelResult`), as the data frames Grafana's
 * CloudWatch backend sends: one frame per series with a `Time` and a `Value` field
 * (pkg/cloudwatch/response_parser.go `buildDataFrames`), and one `CloudWatchLogsResponse` frame
 * per Logs Insights result (pkg/cloudwatch/log_query.go `logsResultsToDataframes`).
 */
import type { FieldJson, FrameJson, NoticeJson } from '#shared/grafana-query-api.ts';
import type { PanelResult } from './evaluate.ts';

const TIME_FIELD: FieldJson = {
  name: 'Time',
  type: 'time',
  typeInfo: { frame: 'time.Time', nullable: true },
};

/** What the local stack cannot answer, shown as Grafana shows a frame's warnings. */
const notices = (notes: string[]): { notices?: NoticeJson[] } =>
  notes.length === 0 ? {} : { notices: notes.map((text) => ({ severity: 'warning', text })) };

/**
 * The series of one query. GetMetricData returns only the periods that have a value, so the
 * periods the evaluation leaves empty are left out, as CloudWatch leaves them out.
 */
export const metricFrames = (
  refId: string,
  id: string,
  result: PanelResult,
  periodS: number,
): FrameJson[] => {
  const times = result.times ?? [];
  const frames: FrameJson[] = (result.frames ?? []).map((frame) => {
    const points = frame.values.flatMap((value, i) =>
      value === null ? [] : [[(times[i] ?? 0) * 1000, value] as const],
    );
    return {
      schema: {
        name: frame.label,
        refId,
        meta: { custom: { period: periodS, id } },
        fields: [
          { ...TIME_FIELD, config: { interval: periodS * 1000 } },
          {
            name: 'Value',
            type: 'number',
            typeInfo: { frame: 'float64', nullable: true },
            config: { displayNameFromDS: frame.label },
          },
        ],
      },
      data: { values: [points.map(([time]) => time), points.map(([, value]) => value)] },
    };
  });
  if (result.notes.length > 0 && frames.length === 0)
    return [{ schema: { refId, meta: notices(result.notes), fields: [] }, data: { values: [] } }];
  return frames;
};

const isNumber = (text: string) => text.trim() !== '' && Number.isFinite(Number(text));

/**
 * A Logs Insights result. Fields come in the order of the results; `@timestamp` is a time
 * field named "Time"; a field whose every value is a number is a number field. No rows, no
 * fields, as CloudWatch returns no result fields then.
 */
export const logsFrame = (
  refId: string,
  result: PanelResult,
  status: 'Complete' | 'Running' = 'Complete',
): FrameJson => {
  const table = result.table ?? { fields: [], rows: [] };
  const rows = table.rows;
  const fields: FieldJson[] = [];
  const values: unknown[][] = [];
  if (rows.length > 0) {
    table.fields.forEach((name, column) => {
      const cells = rows.map((row) => row[column] ?? '');
      if (name === '@timestamp') {
        fields.push({ ...TIME_FIELD, name, config: { displayName: 'Time' } });
        values.push(cells.map((cell) => Date.parse(cell)));
      } else if (cells.every(isNumber)) {
        fields.push({ name, type: 'number', typeInfo: { frame: 'float64', nullable: true } });
        values.push(cells.map(Number));
      } else {
        fields.push({ name, type: 'string', typeInfo: { frame: 'string', nullable: true } });
        values.push(cells);
      }
    });
  }
  return {
    schema: {
      name: refId,
      refId,
      meta: {
        custom: { Status: status },
        stats: [
          { displayName: 'Records scanned', value: rows.length },
          { displayName: 'Records matched', value: rows.length },
        ],
        ...(fields.some((f) => f.type === 'time') ? { preferredVisualisationType: 'logs' } : {}),
        ...notices(result.notes),
      },
      fields,
    },
    data: { values },
  };
};
