/**
 * Run reports in the runs table, as items `report#<runId>` (no index sees them), and the sparse
 * `reportDue` index of ended runs whose report is still to be built. The sweeper writes them; the
 * run API reads them.
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { batchGetAll, REPORT_DUE_PK } from './run-store.ts';
import type { RunReport } from './run-report.ts';

export interface ReportStore {
  /** Runs whose report is due at `now`, longest due first. */
  listDue(now: number, limit: number): Promise<string[]>;
  getReport(runId: string): Promise<RunReport | undefined>;
  /** Reports of these runs that exist (ready or not), by run id. */
  getReports(runIds: readonly string[]): Promise<Map<string, RunReport>>;
  putReport(report: RunReport, expiresAt: number): Promise<void>;
  /** The run's report is built: it leaves the `reportDue` index. */
  clearDue(runId: string): Promise<void>;
}

const reportId = (runId: string) => `report#${runId}`;

const toReport = (item: Record<string, unknown>): RunReport => {
  const { id: _id, expiresAt: _e, ...report } = item;
  return report as unknown as RunReport;
};

export class DynamoReportStore implements ReportStore {
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
    const out = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { id: reportId(runId) } }),
    );
    return out.Item ? toReport(out.Item) : undefined;
  }

  async getReports(runIds: readonly string[]): Promise<Map<string, RunReport>> {
    const keys = runIds.map((id) => ({ id: reportId(id) }));
    const items = await batchGetAll(this.client, this.tableName, keys);
    return new Map(items.map(toReport).map((report) => [report.runId, report]));
  }

  async putReport(report: RunReport, expiresAt: number): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...report, id: reportId(report.runId), expiresAt },
      }),
    );
  }

  async clearDue(runId: string): Promise<void> {
    await this.client
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: runId },
          UpdateExpression: 'REMOVE reportDuePk, reportDueAt',
          ConditionExpression: 'attribute_exists(id)',
        }),
      )
      .catch((error: unknown) => {
        // The run expired meanwhile: nothing is due any more.
        if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
      });
  }
}
