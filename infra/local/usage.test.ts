import { describe, expect, it } from 'vitest';
import { attributeSize, DynamoDbMeter, itemSize, UsageCounters } from './usage.ts';

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('DynamoDB capacity units of the local stack', () => {
  it('sizes items by DynamoDB rules', () => {
    expect(attributeSize({ S: 'abc' })).toBe(3);
    expect(attributeSize({ N: '1234' })).toBe(3);
    expect(attributeSize({ BOOL: true })).toBe(1);
    expect(itemSize({ id: { S: 'abc' }, n: { N: '12' } })).toBe(2 + 3 + 1 + 2);
  });

  it('counts a write unit per KB per row, once more per index that holds the row', () => {
    const meter = new DynamoDbMeter({ data: [{ name: 'bySensor', partitionKey: 'sensorId' }] });
    const row = (size: number) => ({
      runId: { S: 'r' },
      sensorId: { S: 's' },
      pad: { S: 'x'.repeat(size) },
    });
    const batch = meter.measure(
      'BatchWriteItem',
      json({
        RequestItems: {
          data: [
            { PutRequest: { Item: row(10) } },
            { PutRequest: { Item: row(1500) } },
            { PutRequest: { Item: row(10) } },
          ],
        },
      }),
      200,
      json({ UnprocessedItems: { data: [{ PutRequest: { Item: row(1500) } }] } }),
    );
    // 1 for each small row, each once more for the index; the 1.5 KB row (2 units) came back
    // unprocessed, so it is not billed.
    expect(batch?.charges).toEqual([
      { table: 'data', writeUnits: 2, readUnits: 0 },
      { table: 'data', index: 'bySensor', writeUnits: 2, readUnits: 0 },
    ]);
    const put = meter.measure(
      'PutItem',
      json({ TableName: 'other', Item: row(10) }),
      200,
      json({}),
    );
    expect(put?.charges).toEqual([{ table: 'other', writeUnits: 1, readUnits: 0 }]);

    const usage = new UsageCounters();
    usage.dynamoDb([...batch!.charges, ...put!.charges]);
    expect(usage.snapshot().dynamodb.writeUnits).toBe(5);
    expect(usage.snapshot().dynamodb.writeUnitsBy).toEqual({
      data: 2,
      'data/bySensor': 2,
      other: 1,
    });
  });

  it('counts read units per 4 KB, half for eventually consistent reads, and nothing for errors', () => {
    const meter = new DynamoDbMeter({});
    const usage = new UsageCounters();
    const item = { pad: { S: 'x'.repeat(5000) } };
    const exchanges = [
      meter.measure('Query', json({ TableName: 't' }), 200, json({ Items: [item, item] })),
      meter.measure(
        'GetItem',
        json({ TableName: 't', ConsistentRead: true }),
        200,
        json({ Item: item }),
      ),
      meter.measure(
        'GetItem',
        json({ TableName: 't' }),
        400,
        json({ __type: 'x#ThrottlingException' }),
      ),
    ];
    for (const exchange of exchanges) usage.dynamoDb(exchange!.charges);
    expect(usage.snapshot().dynamodb.readUnits).toBe(3 * 0.5 + 2);
  });

  it('tells a throttle of the proxy (no answer body) from an answer, and ignores bodies that are not JSON', () => {
    const meter = new DynamoDbMeter({});
    expect(meter.measure('PutItem', json({ TableName: 't', Item: {} }), 400, undefined)).toEqual({
      tables: ['t'],
      throttled: true,
      charges: [],
    });
    expect(meter.measure('PutItem', Buffer.from('{'), 200, json({}))).toBeUndefined();
  });

  it('adds GB-seconds from duration and memory, and log bytes by kind', () => {
    const usage = new UsageCounters();
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
