/**
 * Reading stored readings back: the port and its DynamoDB implementation, used by the sensor
 * query API (services/sensor-query) and the run reports (services/run-sweeper). Always Queries,
 * never a Scan; the time range is a key condition on the pack keys (shared/reading-pack.ts).
 *
 * - By run and sensor: the one partition of the run's sensor, merged by readingKey.
 * - By run: the partitions of the run's sensors, merged by readingKey;
 * - by sensor: the partitions of the sensor's runs, merged by sensorKey; both named by the
 *   directory (shared/sensor-directory.ts) window by window (shared/directory-merge.ts).
 *
 * Each goes through mergePacks (shared/pack-merge.ts): each reading once (the copy of the
 * message accepted last), in time order, `limit` per page unless the calls run out. The cursor
 * holds the run or sensor and the last key handed out (CURSOR_ATTRIBUTES); the next page reads
 * every pack that can hold a later reading, whatever was stored since (shared/pack-merge.ts:
 * resuming).
 */
import {
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { mergeThroughDirectory, type PackBounds } from './directory-merge.ts';
import {
  runOfPartition,
  sensorKeyOfReadingKey,
  sensorPartition,
  timeKeyRange,
  toCanonicalTimestamp,
  type MeasurementView,
} from './measurement.ts';
import { mergePacks, type MergedPage, type ReadPacks } from './pack-merge.ts';
import { firstReadingOf, packLowerBound, toView } from './reading-pack.ts';
import {
  periodKey,
  listedOf,
  runSensorsPartition,
  sensorRunsPartition,
  WINDOW_LIMITS,
  type Listed,
} from './sensor-directory.ts';

/** What a query reads: a run's readings (of one sensor, or all), or a sensor's across runs. */
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
] as const;

/** Directory entries a listing call asks for: a window of a busy sensor or run in one call. */
const LISTING_LIMIT = 200;

/**
 * Partitions a page of a run or a sensor reads before it stops at a window's end (once it has
 * handed out a reading), unless its first window alone holds more: as many as a run read before
 * the directory, a partition per tenth of it.
 */
const MAX_STREAMS_PER_PAGE = 10;

/** Below every key of the range: the "last key handed out" of a query that handed none out. */
const floorKey = (from: number | undefined) => `${toCanonicalTimestamp(from ?? 0)}#`;

export class DynamoMeasurementQuery implements MeasurementQuery {
  constructor(
    private readonly send: SendQuery,
    private readonly tableName: string,
    /**
     * Calls per partition and page. A stream read through a pack waits for the others, so a page
     * may need several; the cursor carries on. A page that has not got anywhere by then reads
     * on (shared/pack-merge.ts: progress).
     */
    private readonly maxCallsPerPage = 5,
    /**
     * Strongly consistent reads (twice the read units): for the run reports, which must see
     * every pack written before they start, and the directory entries written before those.
     */
    private readonly consistentRead = false,
  ) {}

  async page(request: MeasurementPageRequest): Promise<MeasurementPage> {
    const { path, startKey } = request;
    const [idName, id, keyName] =
      path.kind === 'run'
        ? (['runId', path.runId, 'readingKey'] as const)
        : (['sensorId', path.sensorId, 'sensorKey'] as const);
    const after = startKey?.[keyName] ?? floorKey(request.from);
    // A cursor's key was checked to hold a real instant.
    const startsAtAfter = startKey !== undefined || request.from !== undefined;
    const range = {
      ...(request.from === undefined ? {} : { from: request.from }),
      ...(request.to === undefined ? {} : { to: request.to }),
    };
    const merged =
      path.kind === 'run' && path.sensorId !== undefined
        ? await this.mergeOne(sensorPartition(path.runId, path.sensorId), request, after)
        : await mergeThroughDirectory({
            ...range,
            list: (fromPeriod, toPeriod) =>
              this.list(
                path.kind === 'run'
                  ? runSensorsPartition(path.runId)
                  : sensorRunsPartition(path.sensorId),
                fromPeriod,
                toPeriod,
              ),
            streamOf:
              path.kind === 'run'
                ? (sensorId) => sensorPartition(path.runId, sensorId)
                : (runId) => sensorPartition(runId, path.sensorId),
            readWithin: (bounds) => this.readPacks(bounds),
            keyOf: (reading) => reading[keyName],
            ...(path.kind === 'sensor'
              ? {
                  // A sensor's partitions are keyed by readingKey, its readings ordered by sensorKey.
                  frontierOf: (stream: string, packKey: string) =>
                    sensorKeyOfReadingKey(firstReadingOf(packKey), runOfPartition(stream)),
                }
              : {}),
            after,
            startsAtAfter,
            limit: request.limit,
            maxCallsPerStream: this.maxCallsPerPage,
            windowLimits: WINDOW_LIMITS,
            maxStreams: MAX_STREAMS_PER_PAGE,
          });
    return {
      items: merged.readings.map(toView),
      ...(merged.resume === undefined
        ? {}
        : { lastKey: { [idName]: id, [keyName]: merged.resume.after } }),
      packReadings: merged.packReadings,
    };
  }

  /**
   * Every sensor the directory names for the run, in order: the partitions a whole read of the
   * run goes through one at a time (the run reports), where a page merging them all would read
   * each in small calls.
   */
  async sensorsOfRun(runId: string): Promise<string[]> {
    const sensors = new Set<string>();
    for await (const { member } of this.list(runSensorsPartition(runId), 0, undefined)) {
      sensors.add(member);
    }
    return [...sensors].sort();
  }

  /** A page of one run's sensor: its one partition, no directory. */
  private mergeOne(
    partition: string,
    request: MeasurementPageRequest,
    after: string,
  ): Promise<MergedPage> {
    const from = request.from === undefined ? undefined : toCanonicalTimestamp(request.from);
    const to = request.to === undefined ? undefined : toCanonicalTimestamp(request.to);
    // A pack holds readings up to PACK_SPAN_MS after its key: every reading after `after` is in
    // a pack keyed at most a span before it.
    const lower =
      request.startKey === undefined && request.from === undefined
        ? undefined
        : packLowerBound(Date.parse(after.slice(0, 24)));
    const upper = timeKeyRange(undefined, request.to).upper;
    return mergePacks({
      streams: [partition],
      read: this.readPacks({
        ...(lower === undefined ? {} : { lower }),
        ...(upper === undefined ? {} : { upper }),
      }),
      keyOf: (reading) => reading.readingKey,
      wanted: (reading) =>
        (from === undefined || reading.timestamp >= from) &&
        (to === undefined || reading.timestamp <= to),
      after,
      limit: request.limit,
      maxCalls: this.maxCallsPerPage,
      ...(lower === undefined ? {} : { lowerBound: lower }),
    });
  }

  /** Reads a partition's packs within the bounds, `limit` at a time. */
  private readPacks(bounds: PackBounds): ReadPacks {
    const base = this.keyCondition(bounds);
    return async (stream, limit, exclusiveStartKey) => {
      const result = await this.send(
        new QueryCommand({
          ...base,
          ExpressionAttributeValues: { ...base.ExpressionAttributeValues, ':pk': stream },
          Limit: limit,
          ...(exclusiveStartKey === undefined ? {} : { ExclusiveStartKey: exclusiveStartKey }),
        }),
      );
      return {
        packs: result.Items ?? [],
        ...(result.LastEvaluatedKey === undefined ? {} : { lastKey: result.LastEvaluatedKey }),
      };
    };
  }

  /** The directory entries of a partition from `fromPeriod` to `toPeriod` (included), in order. */
  private async *list(
    partition: string,
    fromPeriod: number,
    toPeriod: number | undefined,
  ): AsyncGenerator<Listed> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const result = await this.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression:
            toPeriod === undefined
              ? '#pk = :pk AND #sk >= :lower'
              : '#pk = :pk AND #sk BETWEEN :lower AND :upper',
          ExpressionAttributeNames: { '#pk': 'runPartition', '#sk': 'packKey' },
          ExpressionAttributeValues: {
            ':pk': partition,
            ':lower': periodKey(fromPeriod),
            // `$` sorts after `#`: above every entry of the period `toPeriod`.
            ...(toPeriod === undefined ? {} : { ':upper': `${periodKey(toPeriod)}$` }),
          },
          ProjectionExpression: '#sk',
          Limit: LISTING_LIMIT,
          ...(this.consistentRead ? { ConsistentRead: true } : {}),
          ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
        }),
      );
      for (const item of result.Items ?? []) yield listedOf(String(item.packKey));
      startKey = result.LastEvaluatedKey;
    } while (startKey !== undefined);
  }

  /**
   * A Query on a partition's packs from `lower` to `upper` (both included, either optional). A
   * bound rather than a made-up ExclusiveStartKey, which DynamoDB documents only as a
   * LastEvaluatedKey handed back.
   */
  private keyCondition({ lower, upper }: PackBounds) {
    const names: Record<string, string> = { '#pk': 'runPartition' };
    for (const name of PROJECTED) names[`#${name}`] = name;
    const values: Record<string, unknown> = {};
    let condition = '#pk = :pk';
    if (lower !== undefined && upper !== undefined) {
      condition += ' AND #packKey BETWEEN :lower AND :upper';
      Object.assign(values, { ':lower': lower, ':upper': upper });
    } else if (lower !== undefined) {
      condition += ' AND #packKey >= :lower';
      values[':lower'] = lower;
    } else if (upper !== undefined) {
      condition += ' AND #packKey <= :upper';
      values[':upper'] = upper;
    }
    return {
      TableName: this.tableName,
      KeyConditionExpression: condition,
      ProjectionExpression: PROJECTED.map((name) => `#${name}`).join(', '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ScanIndexForward: true,
      ...(this.consistentRead ? { ConsistentRead: true } : {}),
    } satisfies QueryCommandInput;
  }
}
