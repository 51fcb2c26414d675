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
  /** The run's count of batches stored after it ended (0 when none). */
  lateStores(runId: string): Promise<number>;
  /** The run's report is (re)built at `at`: it enters or stays in the `reportDue` index. */
  scheduleBuild(runId: string, at: number): Promise<void>;
  /**
   * The run leaves the `reportDue` index, unless a batch was stored late since the build that
   * asks read `lateStores`: false then, and the run stays due.
   */
  clearDue(runId: string, lateStoresSeen: number): Promise<boolean>;
}

/** What the consumer needs: which runs have ended, and a run's report to be rebuilt. */
export interface LateStoreSignal {
  /** Of these runs, those that are no longer RUNNING (strongly consistent). */
  endedRuns(runIds: readonly string[]): Promise<string[]>;
  /** Readings landed for an ended run: its report is rebuilt at the next sweep. */
  storedLate(runId: string, now: number): Promise<void>;
}

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

  async lateStores(runId: string): Promise<number> {
    const out = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { id: runId },
        ProjectionExpression: 'lateStores',
        ConsistentRead: true,
      }),
    );
    return Number(out.Item?.lateStores ?? 0);
  }

  async scheduleBuild(runId: string, at: number): Promise<void> {
    await this.client
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: runId },
          UpdateExpression: 'SET reportDuePk = :pk, reportDueAt = :at',
          ConditionExpression: 'listPk = :run',
          ExpressionAttributeValues: { ':pk': REPORT_DUE_PK, ':at': at, ':run': RUN_LIST_PK },
        }),
      )
      .catch(ignoreConditionFailed);
  }

  async clearDue(runId: string, lateStoresSeen: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: runId },
          UpdateExpression: 'REMOVE reportDuePk, reportDueAt',
          ConditionExpression:
            'attribute_exists(id) AND (attribute_not_exists(lateStores) OR lateStores = :seen)',
          ExpressionAttributeValues: { ':seen': lateStoresSeen },
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

  async storedLate(runId: string, now: number): Promise<void> {
    await this.client
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: runId },
          UpdateExpression: 'SET reportDuePk = :pk, reportDueAt = :now ADD lateStores :one',
          ConditionExpression: 'listPk = :run',
          ExpressionAttributeValues: {
            ':pk': REPORT_DUE_PK,
            ':now': now,
            ':one': 1,
            ':run': RUN_LIST_PK,
          },
        }),
      )
      .catch(ignoreConditionFailed);
  }

  private async getItem(id: string): Promise<RunReport | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { id }, ConsistentRead: true }),
    );
    return out.Item ? toReport(out.Item) : undefined;
  }
}
