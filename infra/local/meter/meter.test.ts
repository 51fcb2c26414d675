import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { attributeSize, DynamoDbMeter, itemSize, LocalMeter, LogStore } from './index.ts';
const meterOf512MbFunctions = () => new LocalMeter(() => 512);

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

// Item sizes and units: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
// (names and values in UTF-8, a write unit per KB per item and per index holding it).
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
    // unprocessed, so it is not billed: UnprocessedItems are the requests "that were not
    // processed" (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html),
    // an inference, as the page states no price for them.
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

    const usage = meterOf512MbFunctions();
    usage.dynamoDb('BatchWriteItem', batch!);
    usage.dynamoDb('PutItem', put!);
    expect(usage.usage().dynamodb.writeUnits).toBe(5);
    expect(usage.usage().dynamodb.writeUnitsBy).toEqual({
      data: 2,
      'data/bySensor': 2,
      other: 1,
    });
  });

  it('counts read units per 4 KB, half for eventually consistent reads, and nothing for errors', () => {
    const meter = new DynamoDbMeter({});
    const usage = meterOf512MbFunctions();
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
    for (const exchange of exchanges) usage.dynamoDb('Query', exchange!);
    expect(usage.usage().dynamodb.readUnits).toBe(3 * 0.5 + 2);
  });

  it('tells a throttle of the proxy (no answer body) from an answer, and ignores bodies that are not JSON', () => {
    const meter = new DynamoDbMeter({});
    expect(meter.measure('PutItem', json({ TableName: 't', Item: {} }), 400, undefined)).toEqual({
      tables: ['t'],
      throttled: true,
      charges: [],
      writeThrottleEvents: [{ table: 't', count: 1 }],
    });
    expect(meter.measure('PutItem', Buffer.from('{'), 200, json({}))).toBeUndefined();
  });

  // A write to a table and each of its indexes is an event; WriteThrottleEvents counts each one
  // throttled, per table and per index, and ThrottledRequests a BatchWriteItem only when every
  // item of it was throttled (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html).
  it('counts write throttle events: items handed back unprocessed, and every write of a throttled request', () => {
    const meter = new DynamoDbMeter({ data: [{ name: 'bySensor', partitionKey: 'sensorId' }] });
    const row = { runId: { S: 'r' }, sensorId: { S: 's' } };
    const partly = meter.measure(
      'BatchWriteItem',
      json({
        RequestItems: { data: [{ PutRequest: { Item: row } }, { PutRequest: { Item: row } }] },
      }),
      200,
      json({ UnprocessedItems: { data: [{ PutRequest: { Item: row } }] } }),
    );
    expect(partly?.writeThrottleEvents).toEqual([
      { table: 'data', count: 1 },
      { table: 'data', index: 'bySensor', count: 1 },
    ]);
    const whole = meter.measure(
      'BatchWriteItem',
      json({
        RequestItems: { data: [{ PutRequest: { Item: row } }, { PutRequest: { Item: row } }] },
      }),
      400,
      undefined,
    );
    expect(whole?.writeThrottleEvents).toEqual([
      { table: 'data', count: 2 },
      { table: 'data', index: 'bySensor', count: 2 },
    ]);

    const usage = meterOf512MbFunctions();
    usage.dynamoDb('BatchWriteItem', partly!);
    usage.dynamoDb('BatchWriteItem', whole!);
    const recorded = (metricName: string) =>
      usage.series
        .find('AWS/DynamoDB', metricName)
        .map((s) => [s.dimensions, [...s.points.values()].reduce((n, p) => n + p.sum, 0)]);
    expect(recorded('WriteThrottleEvents')).toEqual([
      [{ TableName: 'data' }, 3],
      [{ TableName: 'data', GlobalSecondaryIndexName: 'bySensor' }, 3],
    ]);
    // Only the batch whose every item was throttled is a throttled request.
    expect(recorded('ThrottledRequests')).toEqual([
      [{ TableName: 'data', Operation: 'BatchWriteItem' }, 1],
    ]);
  });

  it('adds GB-seconds from duration and memory, and log bytes by kind', async () => {
    const usage = meterOf512MbFunctions();
    const invoke = usage.instrumentInvoke(async (name: string, wallMs: number) =>
      usage.functionRan(name, wallMs, 1),
    );
    await invoke('ingest', 99.2);
    await invoke('ingest', 1000);
    usage.functionLine('ingest', '{"_aws":{}}', true);
    usage.functionLine('ingest', 'hello', false);
    const response = Object.assign(new EventEmitter(), { statusCode: 202 });
    usage.apiRequest(response as unknown as ServerResponse);
    response.emit('finish');
    const totals = usage.usage();
    expect(totals.lambda.ingest!.invocations).toBe(2);
    expect(totals.lambda.ingest!.gbSeconds).toBeCloseTo((0.1 + 1) * 0.5, 10);
    expect(totals.logs).toEqual({ emfBytes: 12, otherBytes: 6 });
    expect(totals.apiRequests).toBe(1);
    usage.resetTotals();
    expect(usage.usage().apiRequests).toBe(0);
  });

  it('keeps CPU time beside wall time, the wall time where the environment reported none', () => {
    const usage = meterOf512MbFunctions();
    usage.functionRan('ingest', 40, 12.5);
    usage.functionRan('ingest', 300, undefined);
    expect(usage.usage().lambda.ingest).toMatchObject({ durationMs: 340, cpuMs: 312.5 });
  });

  it('counts SQS requests per action, refused ones too, and the messages of answered ones', () => {
    // SQS Developer Guide, "Available CloudWatch metrics for Amazon SQS"
    // (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html):
    // NumberOfMessagesSent is "the number of messages added to a queue" (the Pipeline board's
    // messages enqueued), NumberOfEmptyReceives "the number of ReceiveMessage API calls that did
    // not return a message".
    const usage = meterOf512MbFunctions();
    const queue = { QueueUrl: 'http://127.0.0.1:1/000000000000/measurements' };
    usage.sqsRequest('SendMessageBatch', queue, { Successful: [{}, {}], Failed: [{}] });
    usage.sqsRequest('SendMessageBatch');
    usage.sqsRequest('ReceiveMessage', queue, { Messages: [] });
    expect(usage.sqsRequests()).toEqual({ SendMessageBatch: 2, ReceiveMessage: 1 });
    const sum = (name: string) =>
      usage.series
        .find('AWS/SQS', name)
        .flatMap((series) => [...series.points.values()])
        .reduce((total, point) => total + point.sum, 0);
    expect(sum('NumberOfMessagesSent')).toBe(2);
    expect(sum('NumberOfEmptyReceives')).toBe(1);
  });

  it('knows a log group created before its first line', () => {
    const logs = new LogStore();
    logs.createLogGroup('/aws/lambda/quiet');
    expect(logs.logGroups()).toEqual(['/aws/lambda/quiet']);
    expect(logs.of('/aws/lambda/quiet')).toEqual([]);
  });

  it("keeps each log group's last 2,000 lines, so a chatty function pushes out none of another's", () => {
    const logs = new LogStore();
    logs.add({ timestamp: 5, logGroup: '/aws/lambda/quiet', message: 'kept' });
    for (let i = 0; i < 5000; i++) {
      logs.add({ timestamp: 10 + i, logGroup: '/aws/lambda/chatty', message: `line ${i}` });
    }
    const chatty = logs.of('/aws/lambda/chatty');
    expect(chatty).toHaveLength(2000);
    expect(chatty.at(-1)?.message).toBe('line 4999');
    expect(logs.of('/aws/lambda/quiet').map((line) => line.message)).toEqual(['kept']);
    expect(logs.list()[0]?.message).toBe('kept');
    expect(logs.logGroups()).toEqual(['/aws/lambda/chatty', '/aws/lambda/quiet']);
  });
});
