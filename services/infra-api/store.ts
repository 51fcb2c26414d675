/**
 * The deployments table. The `latest` item holds the newest deployment: every poll of the panel
 * is one GetItem of it, and its conditional put is the lock that keeps deployments one at a time.
 * Each deployment also has an item of its own (`deployment#<id>`) for `GET /infra/status/{id}`.
 * Items expire (TTL) after the retention.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Deployment } from './deployment.ts';

export interface DeploymentStore {
  latest(): Promise<Deployment | undefined>;
  get(id: string): Promise<Deployment | undefined>;
  /** Makes `deployment` the latest unless one is under way; false when one is. */
  begin(deployment: Deployment): Promise<boolean>;
  /**
   * Saves a change made to the version `deployment.version - 1`; false (nothing written to
   * `latest`) when another change was saved first.
   */
  save(deployment: Deployment): Promise<boolean>;
  /** Claims the next GitHub look at the latest deployment: true for one caller per look. */
  claimCheck(deployment: Deployment, now: number): Promise<boolean>;
}

const LATEST = 'latest';
const itemId = (id: string) => `deployment#${id}`;

const isConditionFailure = (error: unknown) => error instanceof ConditionalCheckFailedException;

export class DynamoDeploymentStore implements DeploymentStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retentionDays: number,
  ) {}

  private item(id: string, deployment: Deployment) {
    const { id: deploymentId, ...fields } = deployment;
    return {
      id,
      deploymentId,
      ...fields,
      expiresAt: Math.floor(deployment.updatedAt / 1000) + this.retentionDays * 86_400,
    };
  }

  private async read(id: string): Promise<Deployment | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { id }, ConsistentRead: true }),
    );
    if (!out.Item) return undefined;
    const { id: _key, deploymentId, expiresAt: _ttl, ...fields } = out.Item;
    return { id: deploymentId as string, ...fields } as Deployment;
  }

  latest(): Promise<Deployment | undefined> {
    return this.read(LATEST);
  }

  get(id: string): Promise<Deployment | undefined> {
    return this.read(itemId(id));
  }

  async begin(deployment: Deployment): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.item(LATEST, deployment),
          // The lock: nothing yet, or the latest deployment has ended.
          ConditionExpression: 'attribute_not_exists(id) OR #status IN (:success, :failed)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':success': 'SUCCESS', ':failed': 'FAILED' },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
    await this.putOwn(deployment);
    return true;
  }

  async save(deployment: Deployment): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.item(LATEST, deployment),
          ConditionExpression: 'deploymentId = :id AND version = :previous',
          ExpressionAttributeValues: { ':id': deployment.id, ':previous': deployment.version - 1 },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Another change came first, or a newer deployment is the latest: this one is history.
      const latest = await this.latest();
      if (latest?.id === deployment.id) return false;
    }
    await this.putOwn(deployment);
    return true;
  }

  /** The deployment's own item, never over a newer version of it. */
  private async putOwn(deployment: Deployment): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.item(itemId(deployment.id), deployment),
          ConditionExpression: 'attribute_not_exists(id) OR version < :version',
          ExpressionAttributeValues: { ':version': deployment.version },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async claimCheck(deployment: Deployment, now: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: LATEST },
          UpdateExpression: 'SET checkedAt = :now',
          ConditionExpression: 'deploymentId = :id AND checkedAt = :seen',
          ExpressionAttributeValues: {
            ':now': now,
            ':id': deployment.id,
            ':seen': deployment.checkedAt,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
