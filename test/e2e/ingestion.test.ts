/**
 * Ingestion end to end through the local stack: HTTP → ingest → SQS → consumer → DynamoDB →
 * sensor-query, with the delivery guarantees exercised under injected faults.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#infra/local/index.ts';
import { DEFAULT_SEND_RETRY } from '#services/ingest/queue.ts';
import { DynamoRunTally } from '#shared/run-tally.ts';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LocalStack } from '#infra/local/index.ts';
import { eventually } from '#test/support/eventually.ts';
import { type ApiClient, startTestStack } from '#test/support/local-stack.ts';

let stack: LocalStack;
let api: ApiClient;

beforeAll(async () => {
  ({ stack, api } = await startTestStack({
    // Redelivery after two seconds instead of three minutes; maxReceiveCount stays 5. Longer
    // than the 1 s batching window, or a message received at the window's start is visible
    // again, and received once more, before the window ends.
    queues: { measurements: { visibilityTimeoutSeconds: 2 } },
    // Measurements for a finished run are refused at once (no grace) in these tests.
    functionEnv: { ingest: { RUN_GRACE_SECONDS: '0' } },
  }));
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(async () => {
  stack.faults.clear();
  await api.post('/api/runs/interrupt-all');
});

const startRun = async (user = 'sim-user'): Promise<string> => {
  const response = await api.post(
    '/api/runs/start',
    { duration: 600, interval: 1 },
    { 'X-User': user },
  );
  expect(response.status).toBe(201);
  return response.body.id as string;
};

/** Every stored reading of a run, following nextKey across pages. */
const storedReadings = async (runId: string): Promise<any[]> => {
  const items: any[] = [];
  let nextKey: string | undefined;
  do {
    const page = await api.get(
      `/api/sensors/data?runId=${runId}&limit=1000${nextKey ? `&nextKey=${nextKey}` : ''}`,
    );
    expect(page.status).toBe(200);
    items.push(...page.body.items);
    nextKey = page.body.nextKey;
  } while (nextKey);
  return items;
};

/** Waits until `expected` readings are stored, then checks no more arrive (duplicates would). */
const STORE_DEADLINE_MS = 60_000;

/** The run's accepted tally, as the reports read it (shared/run-tally.ts). */
const acceptedTally = (runId: string): Promise<number> =>
  new DynamoRunTally(
    DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: stack.dynamoDbEndpoint,
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
      }),
    ),
    stack.tables.runs,
  ).accepted(runId);

/**
 * Waits for a run's readings, then a little longer for any extra copy to land. The deadline is
 * generous: a test that waits out redeliveries (2 s visibility each) took 7 s alone and over
 * 20 s in a full CI run on 2 busy cores; it returns as soon as the readings are there.
 */
const waitForStored = async (runId: string, expected: number): Promise<any[]> => {
  await eventually(
    async () => ((await storedReadings(runId)).length >= expected ? true : undefined),
    STORE_DEADLINE_MS,
    `${expected} readings of ${runId}`,
    100,
  );
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  return storedReadings(runId);
};

const identity = (m: any) => `${m.sensorId}|${m.type}|${m.timestamp}`;
/** Reading times a minute in the past, fixed for the file so a test can name them twice. */
const base = Date.now() - 60_000;
const at = (offsetMs: number) => new Date(base + offsetMs).toISOString();

describe('every shape is stored exactly once', () => {
  it('single, multi-reading, wrapped batch and bare array', async () => {
    const runId = await startRun('alice');
    const headers = { 'X-Run-Id': runId, 'X-User': 'alice' };

    const single = await api.post(
      '/api/sensors/data',
      { runId, sensorId: 'temp-1', type: 'temperature', reading: 21.5, timestamp: at(0) },
      { 'X-User': 'alice' },
    );
    expect(single).toMatchObject({ status: 202, body: { accepted: 1, runId } });

    const multi = await api.post(
      '/api/sensors/data',
      { sensorId: 'env-1', temperature: 20, humidity: 40.5, pressure: 1013, timestamp: at(1) },
      headers,
    );
    expect(multi.body).toEqual({ accepted: 3, runId });

    const wrapped = await api.post(
      '/api/sensors/data',
      {
        measurements: Array.from({ length: 20 }, (_, i) => ({
          sensorId: `s-${i % 4}`,
          type: 'humidity',
          reading: i,
          timestamp: at(100 + i),
        })),
      },
      headers,
    );
    expect(wrapped.body).toEqual({ accepted: 20, runId });

    const bare = await api.post(
      '/api/sensors/data',
      [
        { sensorId: 'p-1', type: 'pressure', reading: 1000, timestamp: at(200) },
        { sensorId: 'p-1', temperature: 19, timestamp: at(201) },
      ],
      headers,
    );
    expect(bare.body).toEqual({ accepted: 2, runId });

    const stored = await waitForStored(runId, 26);
    expect(stored).toHaveLength(26);
    expect(new Set(stored.map(identity)).size).toBe(26);
    expect(stored.find((m) => m.sensorId === 'temp-1')).toEqual({
      runId,
      sensorId: 'temp-1',
      type: 'temperature',
      reading: 21.5,
      timestamp: at(0),
      user: 'alice',
    });
    expect(
      stored
        .filter((m) => m.sensorId === 'env-1')
        .map((m) => [m.type, m.reading])
        .sort(),
    ).toEqual([
      ['humidity', 40.5],
      ['pressure', 1013],
      ['temperature', 20],
    ]);
    // Query results come back in time order.
    const times = stored.map((m) => m.timestamp);
    expect([...times].sort()).toEqual(times);
  });

  it('readings without a timestamp get the server time and are all kept', async () => {
    const runId = await startRun();
    const before = Date.now();
    const response = await api.post(
      '/api/sensors/data',
      Array.from({ length: 5 }, (_, i) => ({
        sensorId: 'no-clock',
        type: 'temperature',
        reading: i,
      })),
      { 'X-Run-Id': runId },
    );
    expect(response.status).toBe(202);
    const stored = await waitForStored(runId, 5);
    expect(stored.map((m) => m.reading).sort()).toEqual([0, 1, 2, 3, 4]);
    for (const m of stored) expect(Date.parse(m.timestamp)).toBeGreaterThanOrEqual(before - 1000);
  });

  it('sending the same readings twice leaves one row each', async () => {
    const runId = await startRun();
    const batch = Array.from({ length: 8 }, (_, i) => ({
      sensorId: 'dup',
      type: 'temperature',
      reading: i,
      timestamp: at(i),
    }));
    for (let i = 0; i < 2; i++) {
      expect((await api.post('/api/sensors/data', batch, { 'X-Run-Id': runId })).status).toBe(202);
    }
    expect(await waitForStored(runId, 8)).toHaveLength(8);
  });
});

describe('Idempotency-Key', () => {
  it('a retried request gets the first answer, stores nothing new and counts once (it may send its messages again)', async () => {
    const runId = await startRun();
    const body = { measurements: [{ sensorId: 'idem', type: 'temperature', reading: 1 }] };
    const headers = { 'X-Run-Id': runId, 'Idempotency-Key': `key-${runId}` };

    const first = await api.post('/api/sensors/data', body, headers);
    expect(first.status).toBe(202);
    await waitForStored(runId, 1);
    const retry = await api.post('/api/sensors/data', body, headers);
    expect(retry.status).toBe(202);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');

    // The server-assigned timestamp is not re-drawn: the retry's message is the first's, and
    // lands on its pack. One reading stored, one counted in the run's accepted tally.
    await eventually(
      async () =>
        (stack.queues.measurements.queue.counts().visible ?? 0) === 0 ? true : undefined,
      STORE_DEADLINE_MS,
      'the retry delivered',
    );
    expect(await waitForStored(runId, 1)).toHaveLength(1);
    expect(await acceptedTally(runId)).toBe(1);
  });

  it('the same key with another body is refused and stores nothing', async () => {
    const runId = await startRun();
    const headers = { 'X-Run-Id': runId, 'Idempotency-Key': `other-${runId}` };
    await api.post(
      '/api/sensors/data',
      { sensorId: 'a', type: 'temperature', reading: 1, timestamp: at(0) },
      headers,
    );
    const clash = await api.post(
      '/api/sensors/data',
      { sensorId: 'a', type: 'temperature', reading: 999, timestamp: at(0) },
      headers,
    );
    expect(clash.status).toBe(422);
    const stored = await waitForStored(runId, 1);
    expect(stored.map((m) => m.reading)).toEqual([1]);
  });
});

// Waits of up to STORE_DEADLINE_MS, after a request or two of their own.
describe('delivery under faults', { timeout: STORE_DEADLINE_MS + 30_000 }, () => {
  it('failed SendMessageBatch entries are retried and the request still succeeds', async () => {
    const runId = await startRun();
    stack.faults.failSendBatchEntries(1);
    const response = await api.post(
      '/api/sensors/data',
      Array.from({ length: 10 }, (_, i) => ({
        sensorId: 'retry',
        type: 'pressure',
        reading: i,
        timestamp: at(i),
      })),
      { 'X-Run-Id': runId },
    );
    expect(response.status).toBe(202);
    expect(await waitForStored(runId, 10)).toHaveLength(10);
  });

  it('entries that keep failing give 503 and nothing is stored', async () => {
    const runId = await startRun();
    stack.faults.failSendBatchEntries(1000);
    const response = await api.post(
      '/api/sensors/data',
      [{ sensorId: 'lost', type: 'pressure', reading: 1, timestamp: at(0) }],
      { 'X-Run-Id': runId },
    );
    expect(response.status).toBe(503);
    expect(response.body.error).toEqual(expect.any(String));
    stack.faults.clear();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await storedReadings(runId)).toEqual([]);
  });

  it('a partly enqueued request answered 503, retried with its Idempotency-Key, is stored once', async () => {
    const runId = await startRun();
    // 500 multi-readings without timestamps: 1,500 readings over several queue messages, and
    // the server assigns the times, so only the batch ids can tell a re-send from new data.
    const body = Array.from({ length: 500 }, (_, i) => ({
      sensorId: `multi-${i % 7}`,
      temperature: i,
      humidity: 50,
      pressure: 1000,
    }));
    const headers = { 'X-Run-Id': runId, 'Idempotency-Key': `partial-${runId}` };

    // Nothing gets through: the 503 says how many messages the request needs.
    stack.faults.failSendBatchEntries(10_000);
    const refused = await api.post('/api/sensors/data', body, headers);
    expect(refused.status).toBe(503);
    const messages = Number(/^0 of (\d+) /.exec(refused.body.details[0].message)?.[1]);
    expect(messages).toBeGreaterThan(1);
    stack.faults.clear();

    // Failing every attempt but the last whole, and one entry of the last, leaves all but one
    // message in the queue.
    stack.faults.failSendBatchEntries((DEFAULT_SEND_RETRY.maxAttempts - 1) * messages + 1);
    const partial = await api.post('/api/sensors/data', body, headers);
    expect(partial.status).toBe(503);
    expect(partial.body.details[0].message).toBe(
      `${messages - 1} of ${messages} queue messages were enqueued`,
    );
    await eventually(
      async () => ((await storedReadings(runId)).length > 0 ? true : undefined),
      STORE_DEADLINE_MS,
      'the enqueued part',
    );

    const retried = await api.post('/api/sensors/data', body, headers);
    expect(retried).toMatchObject({ status: 202, body: { accepted: 1500, runId } });
    const stored = await waitForStored(runId, 1500);
    expect(stored).toHaveLength(1500);
    // Counted once: the partly enqueued attempt kept its count, and its retry added none.
    expect(await acceptedTally(runId)).toBe(1500);
  });

  it('a batch whose consumer fails twice, then succeeds, is stored once', async () => {
    const runId = await startRun();
    stack.faults.failConsumerInvocations(2);
    const response = await api.post(
      '/api/sensors/data',
      Array.from({ length: 6 }, (_, i) => ({
        sensorId: 'flaky',
        type: 'temperature',
        reading: i,
        timestamp: at(i),
      })),
      { 'X-Run-Id': runId },
    );
    expect(response.status).toBe(202);
    expect(await waitForStored(runId, 6)).toHaveLength(6);
  });

  it('UnprocessedItems and throttling from DynamoDB still store everything exactly once', async () => {
    const runId = await startRun();
    stack.faults.leaveWritesUnprocessed(3);
    stack.faults.throttleDynamoDb('BatchWriteItem', 2);
    const response = await api.post(
      '/api/sensors/data',
      Array.from({ length: 60 }, (_, i) => ({
        sensorId: `u-${i % 3}`,
        type: 'humidity',
        reading: i,
        timestamp: at(i),
      })),
      { 'X-Run-Id': runId },
    );
    expect(response.status).toBe(202);
    const stored = await waitForStored(runId, 60);
    expect(stored).toHaveLength(60);
    expect(new Set(stored.map(identity)).size).toBe(60);
  });

  it('a poison message ends in the DLQ after maxReceiveCount while the rest flows', async () => {
    const { queue, deadLetters } = stack.queues.measurements;
    const deadBefore = deadLetters.counts().visible;
    const sqs = new SQSClient({
      endpoint: stack.sqsEndpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    await sqs.send(
      new SendMessageCommand({ QueueUrl: queue.url, MessageBody: '{"not":"a measurement batch"}' }),
    );
    sqs.destroy();

    const runId = await startRun();
    const response = await api.post(
      '/api/sensors/data',
      [{ sensorId: 'healthy', type: 'temperature', reading: 1, timestamp: at(0) }],
      { 'X-Run-Id': runId },
    );
    expect(response.status).toBe(202);
    expect(await waitForStored(runId, 1)).toHaveLength(1);

    await eventually(
      () => (deadLetters.counts().visible > deadBefore ? true : undefined),
      STORE_DEADLINE_MS,
      'the poison message in the DLQ',
    );
    expect(deadLetters.counts().visible).toBe(deadBefore + 1);
    expect(queue.counts()).toMatchObject({ visible: 0, inFlight: 0 });
  });
});

describe('bad input stores nothing', () => {
  it.each([
    [{ sensorId: 'x', type: 'temperature', reading: 'hot' }, 400, 'reading'],
    [
      {
        measurements: [
          { sensorId: 'ok', type: 'temperature', reading: 1 },
          { sensorId: 'bad id', type: 'temperature', reading: 1 },
        ],
      },
      400,
      'measurements[1].sensorId',
    ],
    [{ sensorId: 'x', type: 'Temperature!', reading: 1 }, 400, 'type'],
    [
      { sensorId: 'x', type: 'temperature', reading: 1, timestamp: '2001-01-01T00:00:00Z' },
      400,
      'timestamp',
    ],
    [{ sensorId: 'x' }, 400, undefined],
    [{ measurements: [] }, 400, undefined],
    // Once a 202 that lost both readings: DynamoDB cannot hold 1e-320 ("Number underflow").
    [
      {
        measurements: [
          { sensorId: 'a', type: 'temperature', reading: 1e-320 },
          { sensorId: 'b', type: 'temperature', reading: 5 },
        ],
      },
      400,
      'measurements[0].reading',
    ],
  ])('%j → %i naming %s', async (body, status, field) => {
    const runId = await startRun();
    const response = await api.post('/api/sensors/data', body, { 'X-Run-Id': runId });
    expect(response.status).toBe(status);
    expect(response.body.error).toEqual(expect.any(String));
    if (field) expect(response.body.details.map((d: any) => d.field)).toContain(field);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await storedReadings(runId)).toEqual([]);
  });

  it('run id problems: missing, conflicting, unknown, finished', async () => {
    const runId = await startRun();
    const reading = { sensorId: 'x', type: 'temperature', reading: 1 };
    expect((await api.post('/api/sensors/data', reading)).status).toBe(400);
    const otherRun = '00000000-0000-4000-8000-000000000000';
    expect(
      (await api.post('/api/sensors/data', { ...reading, runId: otherRun }, { 'X-Run-Id': runId }))
        .status,
    ).toBe(400);
    expect((await api.post('/api/sensors/data', reading, { 'X-Run-Id': otherRun })).status).toBe(
      404,
    );
    await api.post(`/api/runs/${runId}/finish`);
    const late = await api.post(
      '/api/sensors/data',
      { ...reading, sensorId: 'late' },
      { 'X-Run-Id': runId },
    );
    expect(late.status).toBe(409);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await storedReadings(runId)).toEqual([]);
  });

  it('a body over the ingest limit is 413; malformed JSON is 400', async () => {
    const runId = await startRun();
    const huge = await api.post(
      '/api/sensors/data',
      {
        measurements: [
          { sensorId: 'x', type: 'temperature', reading: 1, pad: 'x'.repeat(300_000) },
        ],
      },
      { 'X-Run-Id': runId },
    );
    expect(huge.status).toBe(413);
    const malformed = await api.request('POST', '/api/sensors/data', {
      rawBody: '{"sensorId":',
      headers: { 'content-type': 'application/json', 'X-Run-Id': runId },
    });
    expect(malformed.status).toBe(400);
  });
});

describe('reading back', () => {
  it('by sensor with a time window, and paginated with an opaque cursor', async () => {
    const runId = await startRun();
    const sensorId = `window-${runId.slice(0, 8)}`;
    await api.post(
      '/api/sensors/data',
      Array.from({ length: 30 }, (_, i) => ({
        sensorId,
        type: 'temperature',
        reading: i,
        timestamp: at(i * 1000),
      })),
      { 'X-Run-Id': runId },
    );
    await waitForStored(runId, 30);

    const window = await api.get(
      `/api/sensors/data?sensorId=${sensorId}&from=${encodeURIComponent(at(10_000))}&to=${encodeURIComponent(at(19_000))}`,
    );
    expect(window.status).toBe(200);
    expect(window.body.items.map((m: any) => m.reading)).toEqual([
      10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
    ]);

    const pages: number[][] = [];
    let nextKey: string | undefined;
    do {
      const page = await api.get(
        `/api/sensors/data?runId=${runId}&limit=7${nextKey ? `&nextKey=${nextKey}` : ''}`,
      );
      expect(page.body.count).toBe(page.body.items.length);
      pages.push(page.body.items.map((m: any) => m.reading));
      nextKey = page.body.nextKey;
    } while (nextKey);
    expect(pages.flat()).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(pages[0]).toHaveLength(7);
  });

  it('refuses a query with neither runId nor sensorId, and a tampered cursor', async () => {
    const none = await api.get('/api/sensors/data');
    expect(none.status).toBe(400);
    const tampered = await api.get(
      `/api/sensors/data?runId=00000000-0000-4000-8000-000000000000&nextKey=${Buffer.from('{"runId":1}').toString('base64url')}`,
    );
    expect(tampered.status).toBe(400);
  });
});

describe('metrics', () => {
  it('emits the earlier dashboards’ sensor metrics per run, sensor and type', async () => {
    const runId = await startRun('metrics-user');
    await api.post(
      '/api/sensors/data',
      [
        { sensorId: 'm-1', type: 'temperature', reading: 10, timestamp: at(0) },
        { sensorId: 'm-1', type: 'temperature', reading: 30, timestamp: at(1) },
        { sensorId: 'm-2', type: 'humidity', reading: 50, timestamp: at(2) },
      ],
      { 'X-Run-Id': runId, 'X-User': 'metrics-user' },
    );
    await waitForStored(runId, 3);
    const series = (
      await api.get(`/local/metrics?namespace=${encodeURIComponent('IoTPlayground/Sensors')}`)
    ).body.series as any[];
    const forRun = series.filter((s) => s.dimensions.RunId === runId);
    const reading = forRun.find(
      (s) =>
        s.name === 'SensorReading' &&
        s.dimensions.SensorId === 'm-1' &&
        s.dimensions.Type === 'temperature',
    );
    expect(reading).toMatchObject({
      count: 2,
      sum: 40,
      min: 10,
      max: 30,
      dimensions: { User: 'metrics-user' },
    });
    const ingested = forRun.filter((s) => s.name === 'DataIngested');
    expect(ingested.reduce((total, s) => total + s.sum, 0)).toBe(3);
  });

  it('keeps every sensor metric within what CloudWatch extracts: 250 readings of one series', async () => {
    // A series' values share EMF documents, and a document holding more than 100 values for one
    // metric is refused whole by CloudWatch, as by the local collector (infra/local/metrics.ts).
    const runId = await startRun('metrics-user');
    const readings = Array.from({ length: 250 }, (_, i) => ({
      sensorId: 'm-many',
      type: 'pressure',
      reading: i,
      timestamp: at(i),
    }));
    await api.post('/api/sensors/data', readings, { 'X-Run-Id': runId, 'X-User': 'metrics-user' });
    await waitForStored(runId, 250);
    const { body } = await api.get(
      `/local/metrics?namespace=${encodeURIComponent('IoTPlayground/Sensors')}`,
    );
    expect(body.refused).toEqual({ documents: 0, reasons: [] });
    const reading = (body.series as any[]).find(
      (s) =>
        s.name === 'SensorReading' &&
        s.dimensions.RunId === runId &&
        s.dimensions.Type === 'pressure',
    );
    expect(reading).toMatchObject({ count: 250, sum: (249 * 250) / 2, min: 0, max: 249 });
  });
});

describe('the simulator flow', () => {
  it('start, post, read back, finish; and what one batch of 10 costs in AWS requests', async () => {
    // The file's 1 s visibility timeout equals the consumer's 1 s batching window, so on a busy
    // machine a message came back while its invocation ran and the counts below doubled; the
    // steady-state cost is measured with a timeout well above the window, as on AWS.
    const { queue } = stack.queues.measurements;
    const shortened = queue.settings;
    queue.settings = { ...shortened, visibilityTimeoutSeconds: 30 };
    onTestFinished(() => {
      queue.settings = shortened;
    });
    const runId = await startRun('flow');
    // Warm the run cache and the consumer (with the directory entries of the run's sensor, which
    // it writes once) so the count below is the steady state.
    await api.post(
      '/api/sensors/data',
      [{ sensorId: 'flow', type: 'temperature', reading: 0, timestamp: at(0) }],
      {
        'X-Run-Id': runId,
      },
    );
    await waitForStored(runId, 1);
    // Stored comes before the consumer deletes the message, and earlier tests' redeliveries may
    // still be under way: wait until the queue is empty, or their deletes land in the counts.
    await eventually(() => {
      const { visible, inFlight, delayed } = stack.queues.measurements.queue.counts();
      return visible + inFlight + delayed === 0 || undefined;
    });

    stack.resetRequestCounts();
    const response = await api.post(
      '/api/sensors/data',
      Array.from({ length: 10 }, (_, i) => ({
        sensorId: 'flow',
        type: 'temperature',
        reading: i,
        timestamp: at(10 + i),
      })),
      { 'X-Run-Id': runId },
    );
    expect(response.body).toEqual({ accepted: 10, runId });
    await waitForStored(runId, 11);
    // One message in one SendMessageBatch, deleted in one DeleteMessageBatch once stored;
    // one BatchWriteItem of 10 rows.
    const counts = await eventually(() => {
      const now = stack.requestCounts();
      return now.sqs.DeleteMessageBatch ? now : undefined;
    });
    expect(counts.sqs.SendMessageBatch).toBe(1);
    expect(counts.sqs.DeleteMessageBatch).toBe(1);
    expect(counts.dynamodb.BatchWriteItem).toBe(1);
    console.log('AWS requests for one accepted batch of 10 measurements:', JSON.stringify(counts));

    const finished = await api.post(`/api/runs/${runId}/finish`);
    expect(finished.body.status).toBe('COMPLETED');
    expect(await storedReadings(runId)).toHaveLength(11);
  });
});
