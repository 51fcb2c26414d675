import { describe, expect, it } from 'vitest';
import { attributeSize, itemSize, UsageCounters } from './usage.ts';

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('DynamoDB capacity units of the local stack', () => {
  it('sizes items by DynamoDB rules', () => {
    expect(attributeSize({ S: 'abc' })).toBe(3);
    expect(attributeSize({ N: '1234' })).toBe(3);
    expect(attributeSize({ BOOL: true })).toBe(1);
    expect(itemSize({ id: { S: 'abc' }, n: { N: '12' } })).toBe(2 + 3 + 1 + 2);
  });

  it('counts a write unit per KB per row, once more per index that holds the row', () => {
    const usage = new UsageCounters({ data: ['sensorId'] });
    const row = (size: number) => ({
      runId: { S: 'r' },
      sensorId: { S: 's' },
      pad: { S: 'x'.repeat(size) },
    });
    usage.dynamoDbRequest(
      'BatchWriteItem',
      json({
        RequestItems: {
          data: [{ PutRequest: { Item: row(10) } }, { PutRequest: { Item: row(1500) } }],
        },
      }),
      json({ UnprocessedItems: {} }),
    );
    // 1 + 1 (index) for the small row; 2 + 2 for the 1.5 KB row.
    expect(usage.snapshot().dynamodb.writeUnits).toBe(6);

    usage.dynamoDbRequest('PutItem', json({ TableName: 'other', Item: row(10) }), json({}));
    expect(usage.snapshot().dynamodb.writeUnits).toBe(7);
  });

  it('counts read units per 4 KB, half for eventually consistent reads, and nothing for errors', () => {
    const usage = new UsageCounters({});
    const item = { pad: { S: 'x'.repeat(5000) } };
    usage.dynamoDbRequest('Query', json({}), json({ Items: [item, item] }));
    usage.dynamoDbRequest('GetItem', json({ ConsistentRead: true }), json({ Item: item }));
    usage.dynamoDbRequest('GetItem', json({}), json({ __type: 'x#ThrottlingException' }));
    expect(usage.snapshot().dynamodb.readUnits).toBe(3 * 0.5 + 2);
  });

  it('adds GB-seconds from duration and memory, and log bytes by kind', () => {
    const usage = new UsageCounters({});
    usage.invocation('ingest', 99.2, 512);
    usage.invocation('ingest', 1000, 512);
    usage.logLine('{"_aws":{}}', true);
    usage.logLine('hello', false);
    usage.apiRequest();
    const totals = usage.snapshot();
    expect(totals.lambda.ingest!.invocations).toBe(2);
    expect(totals.lambda.ingest!.gbSeconds).toBeCloseTo((0.1 + 1) * 0.5, 10);
    expect(totals.logs).toEqual({ emfBytes: 12, otherBytes: 6 });
    expect(totals.apiRequests).toBe(1);
    usage.reset();
    expect(usage.snapshot().apiRequests).toBe(0);
  });
});
