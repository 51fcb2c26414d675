/**
 * Reading stored measurements: the port and its DynamoDB implementation. Always Queries, never
 * a Scan; the time range is a key condition on the timestamp-first sort keys.
 *
 * - By sensor: one Query stream on the bySensor index, its LastEvaluatedKey the cursor.
 * - By run: a run's readings are spread over RUN_PARTITIONS partitions, so its partitions are
 *   read side by side and merged by readingKey (unique in a run, and time-ordered). A reading
 *   is handed out only once every partition has been read past it, so pages are exact and in
 *   time order; the cursor is the last readingKey handed out, and every partition resumes after
 *   it.
 */
import {
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import {
  RUN_PARTITIONS,
  runPartitions,
  timeKeyRange,
  type MeasurementView,
} from '#shared/measurement.ts';
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

/** One partition of a run being merged: what was read and not handed out, and how far. */
interface PartitionStream {
  partition: string;
  buffered: Record<string, unknown>[];
  /** The next Query's ExclusiveStartKey; the partition is exhausted when `done`. */
  startKey?: Record<string, unknown>;
  /** readingKey up to which the partition has been read (every key ≤ it is buffered or out). */
  readThrough?: string;
  done: boolean;
}

const readingKeyOf = (item: Record<string, unknown>) => String(item.readingKey);

export class DynamoMeasurementQuery implements MeasurementQuery {
  constructor(
    private readonly send: SendQuery,
    private readonly tableName: string,
    /**
     * DynamoDB applies `Limit` before a filter, so a run+sensor query may need several calls to
     * fill a page; this bounds them, per partition (the cursor covers the rest).
     */
    private readonly maxCallsPerPage = 5,
  ) {}

  page(request: MeasurementPageRequest): Promise<MeasurementPage> {
    return request.path.kind === 'run'
      ? this.runPage(request, request.path)
      : this.sensorPage(request, request.path);
  }

  /**
   * Key condition of a time range on sort key `sortKey`, for partition attribute `partition`;
   * `after` (a sort key inside the range) moves the lower bound up to it, included: the caller
   * drops the item at `after` itself. A bound rather than a made-up ExclusiveStartKey, which
   * DynamoDB documents only as a LastEvaluatedKey handed back.
   */
  private keyCondition(
    request: MeasurementPageRequest,
    partition: string,
    sortKey: string,
    after?: string,
  ) {
    const range = timeKeyRange(request.from, request.to);
    const { upper } = range;
    const lower = after ?? range.lower;
    const names: Record<string, string> = {
      '#pk': partition,
      '#type': 'type',
      '#ts': 'timestamp',
      '#user': 'user',
      '#sensorId': 'sensorId',
      '#runId': 'runId',
    };
    const values: Record<string, unknown> = {};
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
    return {
      TableName: this.tableName,
      KeyConditionExpression: condition,
      ProjectionExpression: '#runId, #sensorId, #type, reading, #ts, #user, readingKey, sensorKey',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ScanIndexForward: true,
    } satisfies QueryCommandInput;
  }

  private async sensorPage(
    request: MeasurementPageRequest,
    path: { sensorId: string },
  ): Promise<MeasurementPage> {
    const base = this.keyCondition(request, 'sensorId', 'sensorKey');
    const result = await this.send(
      new QueryCommand({
        ...base,
        IndexName: BY_SENSOR_INDEX,
        ExpressionAttributeValues: { ...base.ExpressionAttributeValues, ':pk': path.sensorId },
        Limit: request.limit,
        ...(request.startKey === undefined ? {} : { ExclusiveStartKey: request.startKey }),
      }),
    );
    // Without a filter every evaluated item is returned: LastEvaluatedKey is exact.
    return {
      items: (result.Items ?? []).map(toView),
      ...(result.LastEvaluatedKey === undefined ? {} : { lastKey: result.LastEvaluatedKey }),
    };
  }

  private async runPage(
    request: MeasurementPageRequest,
    path: { runId: string; sensorId?: string },
  ): Promise<MeasurementPage> {
    const after = request.startKey?.readingKey;
    const base = this.keyCondition(request, 'runPartition', 'readingKey', after);
    const filterSensor = path.sensorId !== undefined;
    const streams: PartitionStream[] = runPartitions(path.runId).map((partition) => ({
      partition,
      buffered: [],
      ...(after === undefined ? {} : { readThrough: after }),
      done: false,
    }));
    const handedOut: Record<string, unknown>[] = [];
    let calls = 0;

    const read = async (stream: PartitionStream) => {
      calls++;
      // A filter counts `Limit` before filtering: ask for a whole page. Without one, a share of
      // what the page still needs, with room for partitions that hold more than their share.
      const wanted = request.limit - handedOut.length;
      const result = await this.send(
        new QueryCommand({
          ...base,
          ExpressionAttributeValues: {
            ...base.ExpressionAttributeValues,
            ':pk': stream.partition,
            ...(filterSensor ? { ':sensorId': path.sensorId } : {}),
          },
          ...(filterSensor ? { FilterExpression: '#sensorId = :sensorId' } : {}),
          Limit: filterSensor
            ? request.limit
            : Math.min(wanted, Math.ceil((1.25 * wanted) / RUN_PARTITIONS) + 5),
          ...(stream.startKey === undefined ? {} : { ExclusiveStartKey: stream.startKey }),
        }),
      );
      stream.buffered.push(...(result.Items ?? []).filter((item) => readingKeyOf(item) !== after));
      stream.startKey = result.LastEvaluatedKey;
      if (result.LastEvaluatedKey === undefined) stream.done = true;
      else stream.readThrough = readingKeyOf(result.LastEvaluatedKey);
    };

    for (;;) {
      // Read every partition that has nothing buffered and is not exhausted.
      const empty = streams.filter((stream) => !stream.done && stream.buffered.length === 0);
      if (empty.length > 0 && calls + empty.length > this.maxCallsPerPage * RUN_PARTITIONS) break;
      await Promise.all(empty.map(read));
      // Everything up to the least-read open partition is known: hand it out in order.
      const open = streams.filter((stream) => !stream.done).map((stream) => stream.readThrough!);
      const frontier = open.length === 0 ? undefined : open.reduce((a, b) => (b < a ? b : a));
      const ready = streams
        .flatMap((stream) => stream.buffered)
        .filter((item) => frontier === undefined || readingKeyOf(item) <= frontier)
        .sort((a, b) => (readingKeyOf(a) < readingKeyOf(b) ? -1 : 1));
      const taken = ready.slice(0, request.limit - handedOut.length);
      handedOut.push(...taken);
      const takenKeys = new Set(taken.map(readingKeyOf));
      for (const stream of streams) {
        stream.buffered = stream.buffered.filter((item) => !takenKeys.has(readingKeyOf(item)));
      }
      const exhausted = streams.every((stream) => stream.done && stream.buffered.length === 0);
      if (exhausted) return { items: handedOut.map(toView) };
      if (handedOut.length >= request.limit) break;
    }
    // Resume after the last reading handed out; when none was (the filter let nothing pass),
    // after what every partition has been read through.
    const last = handedOut.at(-1);
    const open = streams.filter((stream) => !stream.done);
    const resumeAfter =
      last !== undefined
        ? readingKeyOf(last)
        : open.some((stream) => stream.readThrough === undefined)
          ? after
          : open.map((stream) => stream.readThrough!).reduce((a, b) => (b < a ? b : a));
    return {
      items: handedOut.map(toView),
      ...(resumeAfter === undefined
        ? {}
        : { lastKey: { runId: path.runId, readingKey: resumeAfter } }),
    };
  }
}
