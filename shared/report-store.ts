/**
 * Run reports in the runs table: items `report#<runId>` (the last complete report, what a
 * download reads), `report-building#<runId>` (a build of a large run in progress, with its
 * cursor), and the sparse `reportDue` index of ended runs whose report is to be built (again).
 * The run API and the sweeper build them; the consumer marks a run due when it stores readings
 * after the run ended. No index sees the report items.
 */
import {
  type DynamoDBDocumentClient,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { batchGetAll, REPORT_DUE_PK, RUN_LIST_PK } from './run-store.ts';
import type { RunReport } from './run-report.ts';

export interface ReportStore {
  /** Runs whose report is due at `now`, longest due first. */
  listDue(now: number, limit: number): Promise<string[]>;
  /** The run's last complete report. */
  getReport(runId: string): Promise<RunReport | undefined>;
  /** Complete reports of these runs that exist, by run id. */
  getReports(runIds: readonly string[]): Promise<Map<string, RunReport>>;
  /** A build of the run's report saved half-way. */
  getBuilding(runId: string): Promise<RunReport | undefined>;
  /**
   * Saves a build in progress, or a complete report (ending any build in progress) unless the
   * stored one was built from a later state (more late batches) or is final from the same:
   * concurrent builds never replace a report with an older one. False when it was not saved.
   */
  putReport(report: RunReport, expiresAt: number): Promise<boolean>;
  /** The batches, and their readings, stored after the run ended (0 when none). */
  lateState(runId: string): Promise<LateState>;
  /**
   * The run's report is (re)built at `at`: it enters or stays in the `reportDue` index; with the
   * counts of a complete report, which the consumer weighs its late batches against.
   */
  scheduleBuild(runId: string, at: number, counts?: ReportCounts): Promise<void>;
  /**
   * The run leaves the `reportDue` index, unless a batch was stored late since the build that
   * asks read `lateState`: false then, and the run stays due.
   */
  clearDue(runId: string, lateStoresSeen: number, counts?: ReportCounts): Promise<boolean>;
}

export interface LateState {
  stores: number;
  readings: number;
}

/** A complete report's counts, kept on the run item beside its `reportDue` entry. */
export interface ReportCounts {
  /** Readings the report found stored or parked. */
  counted: number;
  accepted: number;
  /** `LateState.readings` when the build started. */
  lateReadingsSeen: number;
}

/** What the consumer needs: which runs have ended, and their reports to be rebuilt. */
export interface LateStoreSignal {
  /** Of these runs, those that are no longer RUNNING (strongly consistent). */
  endedRuns(runIds: readonly string[]): Promise<string[]>;
  /**
   * `readings` landed for an ended run: its report is due at once. True when they may be the
   * last ones its report waits for (its count plus what landed since reaches what was accepted):
   * worth a rebuild now. Otherwise more are on their way and the sweep rebuilds it; so a backlog
   * of late batches costs one rebuild, not one per batch.
   */
  storedLate(runId: string, now: number, readings: number): Promise<boolean>;
}

/** Whether readings landed since a report was built may complete it (see storedLate). */
export const mayComplete = (item: Record<string, unknown> | undefined): boolean => {
  if (item?.reportCounted === undefined) return true;
  const since = Number(item.lateReadings ?? 0) - Number(item.reportLateReadings ?? 0);
  return Number(item.reportCounted) + since >= Number(item.reportAccepted ?? 0);
};

/** SET clauses and values for a report's counts on the run item. */
const countsUpdate = (counts: ReportCounts | undefined) =>
  counts === undefined
    ? { set: '', values: {} }
    : {
        set: ', reportCounted = :counted, reportAccepted = :accepted, reportLateReadings = :lateSeen',
        values: {
          ':counted': counts.counted,
          ':accepted': counts.accepted,
          ':lateSeen': counts.lateReadingsSeen,
        },
      };

const reportId = (runId: string) => `report#${runId}`;
const buildingId = (runId: string) => `report-building#${runId}`;

const toReport = (item: Record<string, unknown>): RunReport => {
  const { id: _id, expiresAt: _e, ...report } = item;
  return report as unknown as RunReport;
};

const ignoreConditionFailed = (error: unknown) => {
  // The run expired meanwhile, or a late batch was stored since: nothing to change.
  if (!(error instanceof ConditionalCheckFailedException)) throw error;
};

export class DynamoReportStore implements ReportStore, LateStoreSignal {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async listDue(now: number, limit: number): Promise<string[]> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'reportDue',
        KeyConditionExpression: 'reportDuePk = :pk AND reportDueAt <= :now',
        ExpressionAttributeValues: { ':pk': REPORT_DUE_PK, ':now': now },
        ProjectionExpression: 'id',
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map((item) => item.id as string);
  }

  async getReport(runId: string): Promise<RunReport | undefined> {
    return this.getItem(reportId(runId));
  }

  async getBuilding(runId: string): Promise<RunReport | undefined> {
    return this.getItem(buildingId(runId));
  }

  async getReports(runIds: readonly string[]): Promise<Map<string, RunReport>> {
    const keys = runIds.map((id) => ({ id: reportId(id) }));
    const items = await batchGetAll(this.client, this.tableName, keys);
    return new Map(items.map(toReport).map((report) => [report.runId, report]));
  }

  async putReport(report: RunReport, expiresAt: number): Promise<boolean> {
    if (report.state === 'BUILDING') {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...report, id: buildingId(report.runId), expiresAt },
        }),
      );
      return true;
    }
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...report, id: reportId(report.runId), expiresAt },
          ConditionExpression:
            'attribute_not_exists(id) OR attribute_not_exists(lateStores) OR lateStores < :mine' +
            ' OR (lateStores = :mine AND #final <> :true)',
          ExpressionAttributeNames: { '#final': 'final' },
          ExpressionAttributeValues: { ':mine': report.lateStores ?? 0, ':true': true },
        }),
      );
    } catch (error) {
      ignoreConditionFailed(error);
      return false;
    }
    await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: { id: buildingId(report.runId) } }),
    );
    return true;
  }

  async lateState(runId: string): Promise<LateState> {
    const out = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { id: runId },
        ProjectionExpression: 'lateStores, lateReadings',
        ConsistentRead: true,
      }),
    );
    return {
      stores: Number(out.Item?.lateStores ?? 0),
      readings: Number(out.Item?.lateReadings ?? 0),
    };
  }

  async scheduleBuild(runId: string, at: number, counts?: ReportCounts): Promise<void> {
    const update = countsUpdate(counts);
    await this.client
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: runId },
          UpdateExpression: `SET reportDuePk = :pk, reportDueAt = :at${update.set}`,
          ConditionExpression: 'listPk = :run',
          ExpressionAttributeValues: {
            ':pk': REPORT_DUE_PK,
            ':at': at,
            ':run': RUN_LIST_PK,
            ...update.values,
          },
        }),
      )
      .catch(ignoreConditionFailed);
  }

  async clearDue(runId: string, lateStoresSeen: number, counts?: ReportCounts): Promise<boolean> {
    const update = countsUpdate(counts);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: runId },
          UpdateExpression:
            (update.set === '' ? '' : `SET ${update.set.slice(2)} `) +
            'REMOVE reportDuePk, reportDueAt',
          ConditionExpression:
            'attribute_exists(id) AND (attribute_not_exists(lateStores) OR lateStores = :seen)',
          ExpressionAttributeValues: { ':seen': lateStoresSeen, ...update.values },
        }),
      );
      return true;
    } catch (error) {
      ignoreConditionFailed(error);
      return false;
    }
  }

  async endedRuns(runIds: readonly string[]): Promise<string[]> {
    const items = await batchGetAll(
      this.client,
      this.tableName,
      runIds.map((id) => ({ id })),
      true,
      { ProjectionExpression: 'id, #status', ExpressionAttributeNames: { '#status': 'status' } },
    );
    return items.filter((item) => item.status !== 'RUNNING').map((item) => String(item.id));
  }

  async storedLate(runId: string, now: number, readings: number): Promise<boolean> {
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: runId },
          UpdateExpression:
            'SET reportDuePk = :pk, reportDueAt = :now ADD lateStores :one, lateReadings :n',
          ConditionExpression: 'listPk = :run',
          ExpressionAttributeValues: {
            ':pk': REPORT_DUE_PK,
            ':now': now,
            ':one': 1,
            ':n': readings,
            ':run': RUN_LIST_PK,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return mayComplete(out.Attributes);
    } catch (error) {
      ignoreConditionFailed(error);
      return false;
    }
  }

  private async getItem(id: string): Promise<RunReport | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { id }, ConsistentRead: true }),
    );
    return out.Item ? toReport(out.Item) : undefined;
  }
}
