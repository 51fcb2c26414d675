/**
 * The edge's Idempotency-Key records, one write each: a Powertools persistence layer
 * (BasePersistenceLayer) whose first write is the whole record — the answer and the time the
 * request was accepted — so Powertools' second write, marking it complete, has nothing left to
 * say. Powertools' DynamoDB layer writes a key twice (in progress, then complete with the
 * answer): at one reading a request, as much as the reading itself.
 *
 * What it gives up, and why that is safe: there is no "in progress" state. A retry that comes
 * while the first attempt still runs, or after one that died half-way, finds the record and is
 * answered as a replay; the edge then sends the request's messages again — the very same
 * messages, rebuilt from the same body at the same accepted time (services/ingest/app.ts) — so
 * they land on the same packs, and the run's accepted tally is not counted again. A request
 * that fails (4xx, 503) has its record deleted, as Powertools deletes an in-progress one, so
 * its retry starts afresh. Powertools still hashes the key, compares the payload (a reused key
 * with another body is refused) and expires the record.
 *
 * Items: Powertools' attribute names (`id`, `expiration`, `status`, `data`, `validation`), so
 * the table and its TTL are those of Powertools' own layer.
 */
import type { JSONValue } from '@aws-lambda-powertools/commons/types';
import {
  IdempotencyItemAlreadyExistsError,
  IdempotencyItemNotFoundError,
  IdempotencyRecordStatus,
} from '@aws-lambda-powertools/idempotency';
import {
  BasePersistenceLayer,
  IdempotencyRecord,
} from '@aws-lambda-powertools/idempotency/persistence';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';

/** What a key's record answers a retry with: the first answer and when it was accepted. */
export interface KeyRecordAnswer {
  accepted: number;
  runId: string;
  /** Epoch ms: a replay rebuilds the request's messages as they were accepted. */
  acceptedAt: number;
}

/** The idempotent request's data: Powertools hashes the key and payload; `answer` is stored. */
export interface KeyedRequest {
  runId: string;
  key: string;
  payload: unknown;
  answer: KeyRecordAnswer;
}

const ATTRIBUTES = {
  key: 'id',
  expiry: 'expiration',
  status: 'status',
  data: 'data',
  validation: 'validation',
} as const;

type Send = Pick<DynamoDBClient, 'send'>['send'];

export class KeyRecordStore extends BasePersistenceLayer {
  /** The answer of the request whose record is being written (see saveInProgress). */
  #answer: KeyRecordAnswer | undefined;

  constructor(
    private readonly client: Pick<DynamoDBClient, 'send'>,
    private readonly tableName: string,
  ) {
    super();
  }

  /**
   * Powertools' first write: here the only one. The request's answer is taken from its data
   * and written with the key; `_putRecord` reads it before its first await, so no other call
   * can come between.
   */
  override async saveInProgress(data: JSONValue, remainingTimeInMillis?: number): Promise<void> {
    this.#answer = (data as unknown as KeyedRequest).answer;
    try {
      await super.saveInProgress(data, remainingTimeInMillis);
    } finally {
      this.#answer = undefined;
    }
  }

  /** Powertools' second write: the record is complete since the first, so nothing is sent. */
  override async saveSuccess(): Promise<void> {}

  protected async _putRecord(record: IdempotencyRecord): Promise<void> {
    const answer = this.#answer;
    if (answer === undefined) throw new Error('A key record is written with its answer');
    const now = Date.now();
    try {
      await (this.client.send as Send)(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall({
            [ATTRIBUTES.key]: record.idempotencyKey,
            [ATTRIBUTES.expiry]: record.expiryTimestamp,
            [ATTRIBUTES.status]: IdempotencyRecordStatus.COMPLETED,
            [ATTRIBUTES.data]: answer,
            ...(record.payloadHash ? { [ATTRIBUTES.validation]: record.payloadHash } : {}),
          }),
          // New, or expired (DynamoDB's TTL removes items up to days late).
          ConditionExpression: 'attribute_not_exists(#id) OR #expiry < :now',
          ExpressionAttributeNames: { '#id': ATTRIBUTES.key, '#expiry': ATTRIBUTES.expiry },
          ExpressionAttributeValues: marshall({ ':now': now / 1000 }),
          // The record that is there comes back with the refusal: a retry costs no read.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      throw new IdempotencyItemAlreadyExistsError(
        `Idempotency-Key record ${record.idempotencyKey} exists`,
        error.Item ? toRecord(unmarshall(error.Item)) : undefined,
      );
    }
  }

  protected async _getRecord(idempotencyKey: string): Promise<IdempotencyRecord> {
    const out = await (this.client.send as Send)(
      new GetItemCommand({
        TableName: this.tableName,
        Key: marshall({ [ATTRIBUTES.key]: idempotencyKey }),
        ConsistentRead: true,
      }),
    );
    if (!out.Item) throw new IdempotencyItemNotFoundError();
    return toRecord(unmarshall(out.Item));
  }

  /** Only saveSuccess updates a record, and it writes nothing here. */
  protected async _updateRecord(): Promise<void> {}

  protected async _deleteRecord(record: IdempotencyRecord): Promise<void> {
    await (this.client.send as Send)(
      new DeleteItemCommand({
        TableName: this.tableName,
        Key: marshall({ [ATTRIBUTES.key]: record.idempotencyKey }),
      }),
    );
  }
}

const toRecord = (item: Record<string, unknown>): IdempotencyRecord =>
  new IdempotencyRecord({
    idempotencyKey: String(item[ATTRIBUTES.key]),
    status: item[ATTRIBUTES.status] as (typeof IdempotencyRecordStatus)['COMPLETED'],
    expiryTimestamp: Number(item[ATTRIBUTES.expiry]),
    responseData: item[ATTRIBUTES.data] as JSONValue,
    ...(item[ATTRIBUTES.validation] === undefined
      ? {}
      : { payloadHash: String(item[ATTRIBUTES.validation]) }),
  });
