/**
 * The accepted tally of a run: how many readings the edge accepted for it, counted before they
 * are enqueued, so the count is never below what SQS holds or delivered (a send that fails for
 * good is taken back; a crash between count and send leaves it high, which only keeps the run's
 * report provisional). The run reports compare it with what the table holds (shared/
 * report-builder.ts): equal once the acceptance window has closed means the report is final.
 *
 * Items `tally#<runId>#<shard>` in the runs table, one write unit per request (an ADD on an item
 * of a few bytes). Sharded: one item takes at most 1,000 writes a second, and a run of
 * one-reading requests can post more; each container writes one shard, a reader sums them all.
 */
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { batchGetAll } from './run-store.ts';

export interface RunTally {
  /** Adds `readings` (negative to take back) to the run's accepted count. */
  add(runId: string, readings: number, expiresAt: number): Promise<void>;
  /** Readings accepted for the run, every shard summed (strongly consistent). */
  accepted(runId: string): Promise<number>;
}

/**
 * How long a tally is kept: longer than a message can wait in SQS and its dead-letter queue (4 +
 * 14 days), so a report rebuilt for a redriven message still finds it.
 */
export const TALLY_RETENTION_SECONDS = 35 * 86_400;

/** Shards of a run's tally: 8,000 counted requests a second per run. */
export const TALLY_SHARDS = 8;

const tallyId = (runId: string, shard: number) => `tally#${runId}#${shard}`;

export class DynamoRunTally implements RunTally {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** This writer's shard; a container picks one at start. */
    private readonly shard = Math.floor(Math.random() * TALLY_SHARDS),
  ) {}

  async add(runId: string, readings: number, expiresAt: number): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { id: tallyId(runId, this.shard) },
        UpdateExpression: 'ADD accepted :n SET expiresAt = if_not_exists(expiresAt, :ttl)',
        ExpressionAttributeValues: { ':n': readings, ':ttl': expiresAt },
      }),
    );
  }

  async accepted(runId: string): Promise<number> {
    const keys = Array.from({ length: TALLY_SHARDS }, (_, shard) => ({
      id: tallyId(runId, shard),
    }));
    const items = await batchGetAll(this.client, this.tableName, keys, true);
    return items.reduce((sum, item) => sum + Number(item.accepted ?? 0), 0);
  }
}
