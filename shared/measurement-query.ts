/**
 * Reading stored readings back: the port and its DynamoDB implementation, used by the sensor
 * query API (services/sensor-query) and the run reports (services/run-sweeper). Always Queries,
 * never a Scan; the time range is a key condition on the pack keys (shared/reading-pack.ts).
 *
 * - By run: the run's RUN_PARTITIONS partitions, read side by side and merged by readingKey.
 * - By sensor: the sensor's partition of the bySensor index, one stream merged by sensorKey.
 *
 * Both go through mergePacks (shared/pack-merge.ts): each reading once (the copy of the message
 * accepted last), in time order, `limit` per page unless the calls run out. The cursor holds the
 * run or sensor and the last key handed out (CURSOR_ATTRIBUTES); the next page reads every pack
 * that can hold a later reading, whatever was stored since (shared/pack-merge.ts: resuming).
 */
import {
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import {
  runPartitions,
  timeKeyRange,
  toCanonicalTimestamp,
  type MeasurementView,
} from './measurement.ts';
import { mergePacks } from './pack-merge.ts';
import { packLowerBound, toView } from './reading-pack.ts';

/** Which key the query runs on: the table (a run's readings) or the bySensor index. */
export type ReadingsPath =
  { kind: 'run'; runId: string; sensorId?: string } | { kind: 'sensor'; sensorId: string };

/**
 * Attributes of a cursor per access path: the run or sensor, and the last key handed out (the
 * next page hands out every reading that sorts after it).
 */
export const CURSOR_ATTRIBUTES = {
  run: ['runId', 'readingKey'],
  sensor: ['sensorId', 'sensorKey'],
} as const;

export interface MeasurementPageRequest {
  path: ReadingsPath;
  from?: number;
  to?: number;
  limit: number;
  /** A cursor of CURSOR_ATTRIBUTES[path.kind], checked by the caller. */
  startKey?: Record<string, string>;
}

export interface MeasurementPage {
  /** At most `limit` readings in time order. */
  items: MeasurementView[];
  /** Where the next page starts; absent when the range is exhausted. */
  lastKey?: Record<string, string>;
  /** Readings of the packs counted by this page; over a whole run, every stored copy once. */
  packReadings: number;
}

export interface MeasurementQuery {
  page(request: MeasurementPageRequest): Promise<MeasurementPage>;
}

const BY_SENSOR_INDEX = 'bySensor';

/** The one DynamoDB call the query makes; `(c) => documentClient.send(c)` in production. */
export type SendQuery = (command: QueryCommand) => Promise<QueryCommandOutput>;

/** What unpack needs of a pack, and no more. */
const PROJECTED = [
  'runId',
  'sensorId',
  'types',
  'typeIndex',
  'user',
  'batchId',
  'acceptedAt',
  'offsets',
  'values',
  'ids',
  'packKey',
  'sensorPackKey',
] as const;

/** Where a path's packs are and how its readings are keyed. */
interface Access {
  indexName?: string;
  partitionKey: 'runPartition' | 'sensorId';
  sortKey: 'packKey' | 'sensorPackKey';
  streams: string[];
  /** The cursor's name of the path and its value. */
  id: ['runId' | 'sensorId', string];
  /** The key readings are ordered and told apart by (a sensor's runs may share timestamps). */
  keyName: 'readingKey' | 'sensorKey';
  /** Only this sensor's packs of a run (a FilterExpression). */
  sensorId?: string;
}

const accessOf = (path: ReadingsPath): Access =>
  path.kind === 'run'
    ? {
        partitionKey: 'runPartition',
        sortKey: 'packKey',
        streams: runPartitions(path.runId),
        id: ['runId', path.runId],
        keyName: 'readingKey',
        ...(path.sensorId === undefined ? {} : { sensorId: path.sensorId }),
      }
    : {
        indexName: BY_SENSOR_INDEX,
        partitionKey: 'sensorId',
        sortKey: 'sensorPackKey',
        streams: [path.sensorId],
        id: ['sensorId', path.sensorId],
        keyName: 'sensorKey',
      };

/** Below every key of the range: the "last key handed out" of a query that handed none out. */
const floorKey = (from: number | undefined) => `${toCanonicalTimestamp(from ?? 0)}#`;

export class DynamoMeasurementQuery implements MeasurementQuery {
  constructor(
    private readonly send: SendQuery,
    private readonly tableName: string,
    /**
     * Calls per stream and page. DynamoDB applies `Limit` before a filter, and a stream read
     * through a pack waits for the others, so a page may need several; the cursor carries on.
     * A page that has not got anywhere by then reads on (shared/pack-merge.ts: progress).
     */
    private readonly maxCallsPerPage = 5,
    /**
     * Strongly consistent reads (twice the read units): for the run reports, which must see
     * every pack written before they start (the base table only; an index cannot).
     */
    private readonly consistentRead = false,
  ) {}

  async page(request: MeasurementPageRequest): Promise<MeasurementPage> {
    const access = accessOf(request.path);
    const { startKey } = request;
    const from = request.from === undefined ? undefined : toCanonicalTimestamp(request.from);
    const to = request.to === undefined ? undefined : toCanonicalTimestamp(request.to);
    const after = startKey?.[access.keyName] ?? floorKey(request.from);
    // A pack holds readings up to PACK_SPAN_MS after its key: every reading after `after` is in a
    // pack keyed at most a span before it. A cursor's key was checked to hold a real instant.
    const lower =
      startKey === undefined && request.from === undefined
        ? undefined
        : packLowerBound(Date.parse(after.slice(0, 24)));
    const base = this.keyCondition(access, lower, timeKeyRange(undefined, request.to).upper);
    const merged = await mergePacks({
      streams: access.streams,
      sortKey: access.sortKey,
      keyOf: (reading) => reading[access.keyName],
      wanted: (reading) =>
        (from === undefined || reading.timestamp >= from) &&
        (to === undefined || reading.timestamp <= to),
      after,
      limit: request.limit,
      maxCalls: this.maxCallsPerPage * access.streams.length,
      filtered: access.sensorId !== undefined,
      read: async (stream, limit, exclusiveStartKey) => {
        const result = await this.send(
          new QueryCommand({
            ...base,
            ExpressionAttributeValues: { ...base.ExpressionAttributeValues, ':pk': stream },
            Limit: limit,
            ...(this.consistentRead ? { ConsistentRead: true } : {}),
            ...(exclusiveStartKey === undefined ? {} : { ExclusiveStartKey: exclusiveStartKey }),
          }),
        );
        return {
          packs: result.Items ?? [],
          ...(result.LastEvaluatedKey === undefined ? {} : { lastKey: result.LastEvaluatedKey }),
        };
      },
    });
    const [idName, id] = access.id;
    return {
      items: merged.readings.map(toView),
      ...(merged.resume === undefined
        ? {}
        : { lastKey: { [idName]: id, [access.keyName]: merged.resume.after } }),
      packReadings: merged.packReadings,
    };
  }

  /**
   * A Query on the path's packs from `lower` to `upper` (both included, either optional). A
   * bound rather than a made-up ExclusiveStartKey, which DynamoDB documents only as a
   * LastEvaluatedKey handed back.
   */
  private keyCondition(access: Access, lower: string | undefined, upper: string | undefined) {
    const names: Record<string, string> = { '#pk': access.partitionKey };
    for (const name of PROJECTED) names[`#${name}`] = name;
    const values: Record<string, unknown> = {};
    let condition = '#pk = :pk';
    if (lower !== undefined || upper !== undefined) names['#sk'] = access.sortKey;
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
    if (access.sensorId !== undefined) values[':sensorId'] = access.sensorId;
    return {
      TableName: this.tableName,
      ...(access.indexName === undefined ? {} : { IndexName: access.indexName }),
      KeyConditionExpression: condition,
      ...(access.sensorId === undefined ? {} : { FilterExpression: '#sensorId = :sensorId' }),
      ProjectionExpression: PROJECTED.map((name) => `#${name}`).join(', '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ScanIndexForward: true,
    } satisfies QueryCommandInput;
  }
}
