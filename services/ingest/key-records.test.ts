import { createHash, randomUUID } from 'node:crypto';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { countCommands, useTestTables } from '#test/support/dynamodb.ts';
import { KeyRecordStore, type KeyedRequest } from './key-records.ts';

const {
  db,
  tables: { idempotency: table },
} = useTestTables('idempotency');

/** A function made idempotent as the edge makes it, and what it did. */
const idempotent = () => {
  const client = db.client();
  const counts = countCommands(client);
  const ran: string[] = [];
  const fn = makeIdempotent(
    async (request: KeyedRequest) => {
      ran.push(request.key);
      if (request.payload === 'fail') throw new Error('503');
      return { accepted: request.answer.accepted, runId: request.runId };
    },
    {
      persistenceStore: new KeyRecordStore(client, table),
      config: new IdempotencyConfig({
        eventKeyJmesPath: '[runId, key]',
        payloadValidationJmesPath: 'payload',
        throwOnNoIdempotencyKey: true,
        expiresAfterSeconds: 3600,
      }),
      keyPrefix: 'ingest',
    },
  );
  return { fn, ran, counts, client };
};

/** The item of a key, as Powertools names it: `<prefix>#<md5 of [runId, key]>`. */
const recordOf = async (client: ReturnType<typeof db.client>, key: string) => {
  const id = `ingest#${createHash('md5')
    .update(JSON.stringify(['r', key]))
    .digest('base64')}`;
  const out = await client.send(
    new GetItemCommand({ TableName: table, Key: marshall({ id }), ConsistentRead: true }),
  );
  return out.Item && unmarshall(out.Item);
};

const request = (key: string, payload: unknown = 'body'): KeyedRequest => ({
  runId: 'r',
  key,
  payload,
  answer: { accepted: 3, runId: 'r', acceptedAt: 1_000 },
});

describe('Idempotency-Key records, one write each', () => {
  it('writes the key with its answer and accepted time, complete, in one put', async () => {
    const { fn, counts, client } = idempotent();
    const key = randomUUID();
    expect(await fn(request(key))).toEqual({ accepted: 3, runId: 'r' });
    expect(Object.fromEntries(counts)).toEqual({ PutItemCommand: 1 });
    expect(await recordOf(client, key)).toMatchObject({
      status: 'COMPLETED',
      data: { accepted: 3, runId: 'r', acceptedAt: 1_000 },
      validation: expect.any(String),
      expiration: expect.any(Number),
    });
  });

  it('answers a second call with the stored answer, its accepted time included', async () => {
    const { fn, ran } = idempotent();
    const key = randomUUID();
    await fn(request(key));
    // The second call's own answer (another accepted time) is not what comes back.
    const again = await fn({ ...request(key), answer: { accepted: 3, runId: 'r', acceptedAt: 9 } });
    expect(again).toEqual({ accepted: 3, runId: 'r', acceptedAt: 1_000 });
    expect(ran).toEqual([key]);
  });

  it('deletes the record of a call that failed, so its retry starts afresh', async () => {
    const { fn, ran, client } = idempotent();
    const key = randomUUID();
    await expect(fn(request(key, 'fail'))).rejects.toThrow('503');
    expect(await recordOf(client, key)).toBeUndefined();
    expect(await fn(request(key, 'fail')).catch(() => 'failed again')).toBe('failed again');
    expect(ran).toEqual([key, key]);
  });

  it('takes over a record whose expiry has passed (TTL deletes late)', async () => {
    const { fn, ran, client } = idempotent();
    const key = randomUUID();
    await fn(request(key));
    // The item as it stands, expired an hour ago.
    const item = await recordOf(client, key);
    expect(item).toBeDefined();
    await client.send(
      new PutItemCommand({
        TableName: table,
        Item: marshall({ ...item, expiration: Math.floor(Date.now() / 1000) - 3600 }),
      }),
    );
    expect(await fn(request(key))).toEqual({ accepted: 3, runId: 'r' });
    expect(ran).toEqual([key, key]);
  });
});
