/**
 * Reading stored measurements: the port and its DynamoDB implementation. Always a Query on the
 * table (by run) or on the bySensor index (by sensor), never a Scan; the time range is a key
 * condition on the timestamp-first sort key.
 */
import {
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { timeKeyRange, type MeasurementView } from '#shared/measurement.ts';
import type { StartKey } from './cursor.ts';
import type { AccessPath } from './params.ts';

export interface MeasurementPageRequest {
  path: AccessPath;
  from?: number;
  to?: number;
  limit: number;
  startKey?: StartKey;
}

export interface MeasurementPage {
  /** At most `limit` readings in time order. */
  items: MeasurementView[];
  /** Where the next page starts; absent when the range is exhausted. */
  lastKey?: Record<string, unknown>;
}

export interface MeasurementQuery {
  page(request: MeasurementPageRequest): Promise<MeasurementPage>;
}

export const BY_SENSOR_INDEX = 'bySensor';

/** The one DynamoDB call the query makes; `(c) => documentClient.send(c)` in production. */
export type SendQuery = (command: QueryCommand) => Promise<QueryCommandOutput>;

const toView = (item: Record<string, unknown>): MeasurementView => ({
  runId: String(item.runId),
  sensorId: String(item.sensorId),
  type: String(item.type),
  reading: Number(item.reading),
  timestamp: String(item.timestamp),
  user: String(item.user),
});

export class DynamoMeasurementQuery implements MeasurementQuery {
  constructor(
    private readonly send: SendQuery,
    private readonly tableName: string,
    /**
     * DynamoDB applies `Limit` before a filter, so a run+sensor query may need several calls to
     * fill a page; this bounds them (the cursor covers the rest).
     */
    private readonly maxCallsPerPage = 5,
  ) {}

  async page(request: MeasurementPageRequest): Promise<MeasurementPage> {
    const { path } = request;
    const byRun = path.kind === 'run';
    const partition = byRun ? 'runId' : 'sensorId';
    const sortKey = byRun ? 'readingKey' : 'sensorKey';
    const { lower, upper } = timeKeyRange(request.from, request.to);

    const names: Record<string, string> = {
      '#pk': partition,
      '#type': 'type',
      '#ts': 'timestamp',
      '#user': 'user',
      '#sensorId': 'sensorId',
      '#runId': 'runId',
    };
    const values: Record<string, unknown> = { ':pk': byRun ? path.runId : path.sensorId };
    let condition = '#pk = :pk';
    if (lower !== undefined || upper !== undefined) names['#sk'] = sortKey;
    if (lower !== undefined && upper !== undefined) {
      condition += ' AND #sk BETWEEN :lower AND :upper';
      Object.assign(values, { ':lower': lower, ':upper': upper });
    } else if (lower !== undefined) {
      condition += ' AND #sk >= :lower';
      values[':lower'] = lower;
    } else if (upper !== undefined) {
      condition += ' AND #sk <= :upper';
      values[':upper'] = upper;
    }
    const filterSensor = byRun && path.sensorId !== undefined;
    if (filterSensor) values[':sensorId'] = path.sensorId;

    const base: QueryCommandInput = {
      TableName: this.tableName,
      ...(byRun ? {} : { IndexName: BY_SENSOR_INDEX }),
      KeyConditionExpression: condition,
      ...(filterSensor ? { FilterExpression: '#sensorId = :sensorId' } : {}),
      ProjectionExpression: '#runId, #sensorId, #type, reading, #ts, #user, readingKey, sensorKey',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ScanIndexForward: true,
    };

    // Without a filter every evaluated item is returned, so asking for what still fits the page
    // makes LastEvaluatedKey exact. With the sensor filter, `Limit` counts items before the
    // filter; a full page is asked for each time and any surplus is cut, the cursor then being
    // the key of the last item kept.
    const keyOf = (item: Record<string, unknown>) =>
      byRun
        ? { runId: item.runId, readingKey: item.readingKey }
        : {
            sensorId: item.sensorId,
            sensorKey: item.sensorKey,
            runId: item.runId,
            readingKey: item.readingKey,
          };
    const rows: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined = request.startKey;
    for (let call = 0; call < this.maxCallsPerPage; call++) {
      const result = await this.send(
        new QueryCommand({
          ...base,
          Limit: filterSensor ? request.limit : request.limit - rows.length,
          ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
        }),
      );
      rows.push(...(result.Items ?? []));
      startKey = result.LastEvaluatedKey;
      if (rows.length >= request.limit) {
        if (rows.length > request.limit) {
          rows.length = request.limit;
          startKey = keyOf(rows[rows.length - 1]!);
        }
        break;
      }
      if (startKey === undefined) break;
    }
    const items = rows.map(toView);
    return { items, ...(startKey === undefined ? {} : { lastKey: startKey }) };
  }
}
