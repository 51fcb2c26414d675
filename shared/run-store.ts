/**
 * Runs and their concurrency slots in DynamoDB. Used by the run API and the sweeper.
 *
 * The limit on concurrent runs holds without transactions: there are `maxConcurrentRuns`
 * slot items (`slot#0` …), and a start must claim one with a conditional write that only
 * succeeds while the slot is empty or its lease has run out. A lease ends at the run's
 * deadline, so a run past duration + grace frees its slot the moment the deadline passes,
 * whether or not anything wrote TIMEOUT yet.
 */
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { sleep } from './backoff.ts';
import type { Run, RunStatus } from './run.ts';

/** A page of runs and the key to continue from, as DynamoDB returned it. */
export interface RunPage {
  runs: Run[];
  lastKey?: Record<string, unknown>;
}

export interface SlotLease {
  slot: number;
  runId?: string;
  /** Epoch ms; the slot is free once this has passed. */
  leaseUntil?: number;
  /** Epoch ms of the claim; tells a start in progress from one that died before its run item. */
  claimedAt?: number;
}

export interface RunEnding {
  status: Exclude<RunStatus, 'RUNNING'>;
  finishedAt: string;
  errorMessage?: string;
  message?: string;
  /** Epoch ms from which no reading can arrive for the run: its report is built then. */
  reportDueAt: number;
}

/** Bounds of `startedAt` (ISO instants, inclusive) for a listing. */
export interface StartedRange {
  from?: string;
  to?: string;
}

/**
 * When a run may be ended: still live at `liveAt` (a finish or interrupt; with `ownedBy`, only
 * a run of that owner), or past its deadline at `expiredAt` (the sweeper).
 */
export type RunEndCondition = { liveAt: number; ownedBy?: string } | { expiredAt: number };

export interface RunStore {
  readSlots(count: number): Promise<SlotLease[]>;
  /** Claims `slot` for `runId` until `leaseUntil`; false when another run holds it. */
  claimSlot(slot: number, runId: string, leaseUntil: number, now: number): Promise<boolean>;
  /** Frees `slot` if `runId` still holds it. */
  releaseSlot(slot: number, runId: string): Promise<void>;
  putRun(run: Run, expiresAt: number): Promise<void>;
  getRun(id: string): Promise<Run | undefined>;
  /**
   * Ends a run that is RUNNING and either still live at `liveAt` (finish, interrupt) or past
   * its deadline at `expiredAt` (the sweeper). Returns the ended run, or undefined when the
   * run is unknown or the condition did not hold.
   */
  endRun(id: string, ending: RunEnding, when: RunEndCondition): Promise<Run | undefined>;
  /** RUNNING runs (sparse index), newest first. */
  listRunning(): Promise<Run[]>;
  /** All runs (or those started within `range`), newest first, a page at a time. */
  listPage(
    limit: number,
    startKey?: Record<string, unknown>,
    range?: StartedRange,
  ): Promise<RunPage>;
}

/** The one partition of the `byStartedAt` index; listing cursors must name it. */
export const RUN_LIST_PK = 'RUN';
const RUNNING_PK = 'RUNNING';
/** The one partition of the sparse `reportDue` index: ended runs whose report is not built. */
export const REPORT_DUE_PK = 'DUE';
const slotId = (slot: number) => `slot#${slot}`;

/** DynamoDB attributes that exist for the indexes, not for the API. */
type RunItem = Run & {
  listPk: string;
  startedKey: string;
  runningPk?: string;
  reportDuePk?: string;
  reportDueAt?: number;
  /** Batches and readings stored after the run ended, and its report's counts (report-store.ts). */
  lateStores?: number;
  lateReadings?: number;
  reportCounted?: number;
  reportAccepted?: number;
  reportLateReadings?: number;
  expiresAt: number;
};

const toRun = (item: Record<string, unknown>): Run => {
  const {
    listPk: _l,
    startedKey: _s,
    runningPk: _r,
    reportDuePk: _p,
    reportDueAt: _d,
    lateStores: _late,
    lateReadings: _lateReadings,
    reportCounted: _counted,
    reportAccepted: _accepted,
    reportLateReadings: _lateSeen,
    expiresAt: _e,
    ...run
  } = item as unknown as RunItem;
  return run;
};

/**
 * Every item of `keys` that exists, by BatchGetItem: 100 keys a call, and whatever DynamoDB
 * leaves unprocessed asked for again with a growing pause.
 */
export const batchGetAll = async (
  client: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly Record<string, unknown>[],
  consistentRead = false,
  projection: {
    ProjectionExpression?: string;
    ExpressionAttributeNames?: Record<string, string>;
  } = {},
): Promise<Record<string, unknown>[]> => {
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < keys.length; i += 100) {
    let pending = keys.slice(i, i + 100);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
      const out = await client.send(
        new BatchGetCommand({
          RequestItems: {
            [tableName]: { Keys: pending, ConsistentRead: consistentRead, ...projection },
          },
        }),
      );
      items.push(...(out.Responses?.[tableName] ?? []));
      pending = out.UnprocessedKeys?.[tableName]?.Keys ?? [];
    }
  }
  return items;
};

export class DynamoRunStore implements RunStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async readSlots(count: number): Promise<SlotLease[]> {
    const keys = Array.from({ length: count }, (_, slot) => ({ id: slotId(slot) }));
    const found = new Map(
      (await batchGetAll(this.client, this.tableName, keys, true)).map((item) => [
        item.id as string,
        item,
      ]),
    );
    return keys.map(({ id }, slot) => {
      const item = found.get(id);
      return {
        slot,
        runId: item?.runId as string | undefined,
        leaseUntil: item?.leaseUntil as number | undefined,
        claimedAt: item?.claimedAt as number | undefined,
      };
    });
  }

  async claimSlot(slot: number, runId: string, leaseUntil: number, now: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: slotId(slot) },
          UpdateExpression: 'SET runId = :runId, leaseUntil = :leaseUntil, claimedAt = :now',
          ConditionExpression: 'attribute_not_exists(runId) OR leaseUntil < :now',
          ExpressionAttributeValues: { ':runId': runId, ':leaseUntil': leaseUntil, ':now': now },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async releaseSlot(slot: number, runId: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: slotId(slot) },
          UpdateExpression: 'REMOVE runId, leaseUntil, claimedAt',
          ConditionExpression: 'runId = :runId',
          ExpressionAttributeValues: { ':runId': runId },
        }),
      );
    } catch (error) {
      // Already released, or its lease ran out and another run claimed it: nothing to do.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async putRun(run: Run, expiresAt: number): Promise<void> {
    const item: RunItem = {
      ...run,
      listPk: RUN_LIST_PK,
      startedKey: `${run.startedAt}#${run.id}`,
      ...(run.status === 'RUNNING' ? { runningPk: RUNNING_PK } : {}),
      expiresAt,
    };
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(id)',
      }),
    );
  }

  async getRun(id: string): Promise<Run | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { id }, ConsistentRead: true }),
    );
    return out.Item && out.Item.listPk === RUN_LIST_PK ? toRun(out.Item) : undefined;
  }

  async endRun(id: string, ending: RunEnding, when: RunEndCondition): Promise<Run | undefined> {
    const [deadlineTest, instant] =
      'liveAt' in when ? ['deadlineAt >= :at', when.liveAt] : ['deadlineAt < :at', when.expiredAt];
    // Ownership is part of the same conditional write: no read before it.
    const ownedBy = 'liveAt' in when ? when.ownedBy : undefined;
    // Optional texts are set only when given, so an absent one stays absent on the run.
    const texts = (['errorMessage', 'message'] as const).filter((f) => ending[f] !== undefined);
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression:
            `SET #status = :status, finishedAt = :finishedAt` +
            ', reportDuePk = :reportDuePk, reportDueAt = :reportDueAt' +
            texts.map((field) => `, #${field} = :${field}`).join('') +
            ' REMOVE runningPk',
          ConditionExpression:
            `#status = :running AND ${deadlineTest}` +
            (ownedBy === undefined ? '' : ' AND #owner = :owner'),
          ExpressionAttributeNames: {
            '#status': 'status',
            ...(ownedBy === undefined ? {} : { '#owner': 'owner' }),
            ...Object.fromEntries(texts.map((field) => [`#${field}`, field])),
          },
          ExpressionAttributeValues: {
            ':status': ending.status,
            ':finishedAt': ending.finishedAt,
            ':running': 'RUNNING',
            ':reportDuePk': REPORT_DUE_PK,
            ':reportDueAt': ending.reportDueAt,
            ...Object.fromEntries(texts.map((field) => [`:${field}`, ending[field]])),
            ':at': instant,
            ...(ownedBy === undefined ? {} : { ':owner': ownedBy }),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes ? toRun(out.Attributes) : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async listRunning(): Promise<Run[]> {
    const runs: Run[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'running',
          KeyConditionExpression: 'runningPk = :pk',
          ExpressionAttributeValues: { ':pk': RUNNING_PK },
          ScanIndexForward: false,
          ExclusiveStartKey: startKey,
        }),
      );
      runs.push(...(out.Items ?? []).map(toRun));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return runs;
  }

  async listPage(
    limit: number,
    startKey?: Record<string, unknown>,
    range: StartedRange = {},
  ): Promise<RunPage> {
    // Sort keys are `<startedAt>#<id>`; `$` sorts after `#`, so `<to>$` closes the range.
    const lower = range.from;
    const upper = range.to === undefined ? undefined : `${range.to}$`;
    const condition =
      lower !== undefined && upper !== undefined
        ? ' AND startedKey BETWEEN :lower AND :upper'
        : lower !== undefined
          ? ' AND startedKey >= :lower'
          : upper !== undefined
            ? ' AND startedKey <= :upper'
            : '';
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'byStartedAt',
        KeyConditionExpression: `listPk = :pk${condition}`,
        ExpressionAttributeValues: {
          ':pk': RUN_LIST_PK,
          ...(lower === undefined ? {} : { ':lower': lower }),
          ...(upper === undefined ? {} : { ':upper': upper }),
        },
        ScanIndexForward: false,
        Limit: limit,
        ExclusiveStartKey: startKey,
      }),
    );
    return {
      runs: (out.Items ?? []).map(toRun),
      ...(out.LastEvaluatedKey ? { lastKey: out.LastEvaluatedKey } : {}),
    };
  }
}
