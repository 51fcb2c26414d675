/**
 * Grafana's query API on the wire: what `POST /api/ds/query` and the CloudWatch datasource's
 * resource endpoints take and answer. `npm run check:dashboards` reads these shapes from a
 * deployed Grafana; the local stack's Grafana (infra/local/grafana) writes them. Sources:
 * - https://grafana.com/docs/grafana/latest/developers/http_api/data_source/ ("Query a data
 *   source", "Fetch data source resources", their status codes);
 * - grafana/grafana-plugin-sdk-go backend/json.go (`writeDataResponseJSON`: `error`,
 *   `errorSource`, `status`, `frames`) and data/frame_json.go (a frame as `schema` + `data`);
 * - grafana/grafana-cloudwatch-datasource pkg/cloudwatch/models/resources/types.go
 *   (`ResourceResponse`, `LogGroup`) and models/http_error.go (`HttpError`).
 */

/** One field of a data frame's schema (`data.Field` as JSON). */
export interface FieldJson {
  name: string;
  type?: 'time' | 'number' | 'string' | 'boolean' | 'other';
  typeInfo?: { frame: string; nullable?: boolean };
  labels?: Record<string, string>;
  config?: Record<string, unknown>;
}

/** A frame's notices: what Grafana shows on the panel beside the data. */
export interface NoticeJson {
  severity: 'info' | 'warning' | 'error';
  text: string;
}

/** A data frame as Grafana sends it: the schema, then the values column by column. */
export interface FrameJson {
  schema: {
    name?: string;
    refId?: string;
    meta?: {
      custom?: Record<string, unknown>;
      notices?: NoticeJson[];
      stats?: { displayName: string; value: number }[];
      executedQueryString?: string;
      preferredVisualisationType?: string;
    };
    fields: FieldJson[];
  };
  data?: { values: unknown[][] };
}

/** One query's answer (`backend.DataResponse`): frames, or an error with its status. */
export interface DataResponseJson {
  status?: number;
  frames?: FrameJson[];
  error?: string;
  errorSource?: string;
}

/** The whole answer of `POST /api/ds/query`: one entry per refId (an error may sit under ''). */
export interface QueryDataResponseJson {
  results: Record<string, DataResponseJson>;
}

/** A resource endpoint's item (`ResourceResponse[T]`). */
export interface ResourceResponseJson<T> {
  accountId?: string;
  value: T;
}

/** An item of `/resources/log-groups`. */
export interface LogGroupJson {
  arn: string;
  name: string;
}

/** An item of `/resources/metrics`. */
export interface MetricJson {
  name: string;
  namespace: string;
}

/** A resource endpoint's error (`models.HttpError`, Go field names). */
export interface ResourceErrorJson {
  Message: string;
  Error: string;
  StatusCode: number;
}

export const QUERY_PATH = '/api/ds/query';

/** `GET <grafana>/api/datasources/uid/<uid>/resources/<resource>`. */
export const resourcePath = (uid: string, resource: string): string =>
  `/api/datasources/uid/${encodeURIComponent(uid)}/resources/${resource}`;

/** `GET <grafana>/api/datasources/uid/<uid>`: the datasource's settings (its default region). */
export const datasourcePath = (uid: string): string =>
  `/api/datasources/uid/${encodeURIComponent(uid)}`;

/**
 * The final statuses of a Logs Insights query, which a GetQueryResults frame carries in
 * `meta.custom.Status`: polling stops at one of them (`terminatedStates`,
 * pkg/cloudwatch/cloudwatch.go); only `Complete` holds the whole result.
 */
export const LOGS_QUERY_DONE = ['Complete', 'Failed', 'Cancelled', 'Timeout'] as const;
