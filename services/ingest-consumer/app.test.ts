import { randomUUID } from 'node:crypto';
import { FullBatchFailureError } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { BatchWriteCommand, type BatchWriteCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { QueueMeasurement, QueueMessage } from '#shared/measurement.ts';
import { createPipelineMetrics, createSensorMetrics } from '#shared/metrics.ts';
import {
  PIPELINE_NAMESPACE,
  PipelineMetric,
  SENSOR_NAMESPACE,
  SensorMetric,
} from '#shared/metrics-contract.ts';
import { DynamoReportStore, type LateStoreSignal } from '#shared/report-store.ts';
import { DynamoRunStore } from '#shared/run-store.ts';
import { captureEmf, type EmfCapture } from '#test/support/emf.ts';
import { aRun } from '#test/support/runs.ts';
import { countCommands, readingsOfRun, rowsOfRun, useTestTables } from '#test/support/dynamodb.ts';
import { lambdaContext } from '#test/support/lambda-context.ts';
import { makeHandler } from './app.ts';
import { DirectoryWriter, findListedIn } from './directory.ts';
import { SharedWritesStore } from './shared-writes.ts';
import { DynamoMeasurementStore, type SendBatchWrite } from './store.ts';

const ACCEPTED_AT = new Date(Date.now() - 1_500).toISOString();

const {
  db,
  tables: { sensorData: sensorTable, runs: runsTable },
} = useTestTables('sensorData', 'runs');
let emf: EmfCapture;

beforeEach(() => {
  emf = captureEmf();
});
afterEach(() => emf.restore());

const batchTag = () => randomUUID().replaceAll('-', '').slice(0, 22);

const message = (
  runId: string,
  count: number,
  overrides: Partial<QueueMessage> = {},
): QueueMessage => ({
  v: 1,
  batchId: `${batchTag()}.0`,
  runId,
  user: 'ana',
  acceptedAt: ACCEPTED_AT,
  measurements: Array.from({ length: count }, (_, i): QueueMeasurement => ({
    sensorId: `s-${i % 3}`,
    type: i % 2 === 0 ? 'temperature' : 'humidity',
    reading: i,
    timestamp: new Date(Date.parse(ACCEPTED_AT) - 1_000 + i).toISOString(),
  })),
  ...overrides,
});

/** The readings as the edge sends those it timestamped itself: server ids, the acceptance time. */
const serverTimestamped = (m: QueueMessage): QueueMessage => ({
  ...m,
  measurements: m.measurements.map((reading, i) => ({
    ...reading,
    timestamp: m.acceptedAt,
    id: `@${m.batchId.split('.')[0]}.${i}`,
  })),
});

const record = (body: unknown, messageId: string = randomUUID()): SQSRecord => ({
  messageId,
  receiptHandle: `rh-${messageId}`,
  body: typeof body === 'string' ? body : JSON.stringify(body),
  attributes: {
    ApproximateReceiveCount: '1',
    SentTimestamp: String(Date.now()),
    SenderId: 'test',
    ApproximateFirstReceiveTimestamp: String(Date.now()),
  },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:measurements',
  awsRegion: 'us-east-1',
});

const sqsEvent = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

/** A run in the runs table, finished a moment ago. */
const endedRun = async (): Promise<string> => {
  const runs = new DynamoRunStore(db.documents(), runsTable);
  const runId = randomUUID();
  await runs.putRun(aRun(runId, { deadlineAt: Date.now() + 60_000 }), 0);
  await runs.endRun(
    runId,
    { status: 'COMPLETED', finishedAt: new Date().toISOString(), reportDueAt: 9e15 },
    { liveAt: Date.now() },
  );
  return runId;
};

const rowsOf = (runId: string) => readingsOfRun(db.documents(), sensorTable, runId);
/** A pack, not a directory entry (shared/sensor-directory.ts): it holds readings. */
const isPackRow = (item: Record<string, unknown> | undefined): boolean =>
  Array.isArray(item?.values);
const packsStored = (runId: string) => rowsOfRun(db.documents(), sensorTable, runId);

/** The consumer on dynalite; `send` may wrap the BatchWriteItem path; counts every call. */
const consumer = (
  wrap?: (send: SendBatchWrite) => SendBatchWrite,
  lateStores?: (store: DynamoReportStore) => LateStoreSignal,
  requestReport?: (runId: string) => Promise<void>,
) => {
  const client = db.client();
  const counts = countCommands(client);
  const directoryClient = db.client();
  const directoryReads = countCommands(directoryClient);
  const documents = db.documents(client);
  /** Rows of each BatchWriteItem call that reaches the table, by kind: packs or directory. */
  const writes = {
    packs: [] as number[],
    directory: [] as number[],
    order: [] as ('packs' | 'directory')[],
  };
  const send: SendBatchWrite = (command) => {
    const rows = command.input.RequestItems?.[sensorTable] ?? [];
    const packs = rows.filter((row) => isPackRow(row.PutRequest?.Item)).length;
    if (packs > 0) writes.packs.push(packs);
    if (rows.length > packs) writes.directory.push(rows.length - packs);
    writes.order.push(packs > 0 ? 'packs' : 'directory');
    return documents.send(command);
  };
  const store = new SharedWritesStore(
    new DynamoMeasurementStore(
      wrap ? wrap(send) : send,
      sensorTable,
      { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5, reserveMs: 500, concurrency: 4 },
      { sleep: async () => undefined, random: () => 0.5 },
    ),
  );
  const handler = makeHandler({
    logger: new Logger({ serviceName: 'ingest-consumer', logLevel: 'SILENT' }),
    pipelineMetrics: createPipelineMetrics('ingest-consumer'),
    sensorMetrics: createSensorMetrics(),
    store,
    // Its reads on a client of their own, counted apart from the batch's read of its runs.
    directory: new DirectoryWriter(store, findListedIn(db.documents(directoryClient), sensorTable)),
    lateStores: (lateStores ?? ((store) => store))(
      new DynamoReportStore(db.documents(client), runsTable),
    ),
    ...(requestReport === undefined ? {} : { reportRequests: { request: requestReport } }),
    retentionDays: 30,
    now: () => Date.now(),
  });
  return { handler, counts, writes, directoryReads };
};

describe('ingest consumer', () => {
  it("marks an ended run's report for a rebuild once per batch, and only an ended run's", async () => {
    const rebuilt: string[] = [];
    const { handler, counts } = consumer(undefined, undefined, async (runId) => {
      rebuilt.push(runId);
    });
    const reports = new DynamoReportStore(db.documents(), runsTable);
    const live = randomUUID();
    await new DynamoRunStore(db.documents(), runsTable).putRun(
      aRun(live, { deadlineAt: Date.now() + 60_000 }),
      0,
    );
    const ended = await endedRun();
    counts.clear();
    const batch = [message(live, 2), message(ended, 3), message(ended, 4)].map((m) => record(m));
    expect(await handler(sqsEvent(...batch), lambdaContext())).toEqual({ batchItemFailures: [] });
    // One read for both runs, one write for the ended one.
    expect(counts.get('BatchGetItemCommand')).toBe(1);
    expect(counts.get('UpdateItemCommand')).toBe(1);
    expect((await reports.lateState(ended)).stores).toBe(1);
    expect((await reports.lateState(live)).stores).toBe(0);
    expect(await reports.listDue(Date.now(), 100)).toContain(ended);
    expect(await reports.listDue(Date.now(), 100)).not.toContain(live);
    // Its rebuild asked for at once, after the mark (a lost request leaves the run due).
    expect(rebuilt).toEqual([ended]);
  });

  it('asks for a rebuild once the readings a report waits for may all be in, not for every late batch', async () => {
    const rebuilt: string[] = [];
    const { handler } = consumer(undefined, undefined, async (runId) => {
      rebuilt.push(runId);
    });
    const runs = new DynamoRunStore(db.documents(), runsTable);
    const reports = new DynamoReportStore(db.documents(), runsTable);
    const runId = await endedRun();
    // Its report counted 3 of 8 accepted readings.
    await reports.clearDue(runId, 0, { counted: 3, accepted: 8, lateReadingsSeen: 0 });
    await handler(sqsEvent(record(message(runId, 2))), lambdaContext());
    await handler(sqsEvent(record(message(runId, 2))), lambdaContext());
    expect(rebuilt).toEqual([]);
    // Due all the same: the sweep rebuilds it if the rest never comes.
    expect(await reports.listDue(Date.now(), 100)).toContain(runId);
    await handler(sqsEvent(record(message(runId, 1))), lambdaContext());
    expect(rebuilt).toEqual([runId]);
    expect(await runs.getRun(runId)).not.toHaveProperty('lateReadings');
  });

  it("reports a run's records failed when its report cannot be marked, so they come again", async () => {
    const { handler } = consumer(undefined, (store) => ({
      endedRuns: (ids) => store.endedRuns(ids),
      storedLate: async () => {
        throw new Error('throttled');
      },
    }));
    const runId = await endedRun();
    const other = randomUUID();
    const records = [record(message(runId, 2), 'mine'), record(message(other, 2), 'other')];
    expect(await handler(sqsEvent(...records), lambdaContext())).toEqual({
      batchItemFailures: [{ itemIdentifier: 'mine' }],
    });
  });

  it('stores every reading of a batch once and answers with no failures', async () => {
    const { handler } = consumer();
    const runId = randomUUID();
    const messages = [
      message(runId, 40),
      message(runId, 7, {
        measurements: message(runId, 7).measurements.map((m) => ({ ...m, sensorId: 'other' })),
      }),
    ];
    const result = await handler(sqsEvent(...messages.map((m) => record(m))), lambdaContext());
    expect(result).toEqual({ batchItemFailures: [] });
    const rows = await rowsOf(runId);
    expect(rows).toHaveLength(47);
    expect(rows[0]).toMatchObject({ runId, user: 'ana' });
    // A pack per sensor of a message: 3 of the first, 1 ('other') of the second
    const packs = await packsStored(runId);
    expect(packs).toHaveLength(4);
    expect(packs[0]).toMatchObject({ runId, expiresAt: expect.any(Number) });
    expect(emf.values(PIPELINE_NAMESPACE, PipelineMetric.stored)).toEqual([47]);
    expect(emf.values(PIPELINE_NAMESPACE, PipelineMetric.batchSize)).toEqual([2]);
  });

  it('rewrites a redelivered or retried server-timestamped record onto the same packs, with no record', async () => {
    const { handler, counts } = consumer();
    const runId = randomUUID();
    // The timestamps travel in the body, and an Idempotency-Key's retry rebuilds the same body
    // at the same accepted time: a redelivery or a retry carries the same ones.
    const body = serverTimestamped(message(runId, 10));
    await handler(sqsEvent(record(body)), lambdaContext());
    const packs = await packsStored(`${runId}`);
    await handler(sqsEvent(record(body), record(body)), lambdaContext());
    expect(await rowsOf(runId)).toHaveLength(10);
    expect(await packsStored(`${runId}`)).toEqual(packs);
    expect(counts.get('PutItemCommand')).toBeUndefined();
    expect(counts.get('UpdateItemCommand')).toBeUndefined();
    // What a record would have protected: the pipeline's own count of the second delivery.
    expect(emf.values(PIPELINE_NAMESPACE, PipelineMetric.stored)).toEqual([10, 20]);
  });

  it('rewrites a redelivered client-timestamped record onto the same rows, with no record', async () => {
    const { handler, counts } = consumer();
    const runId = randomUUID();
    const body = message(runId, 10);
    await handler(sqsEvent(record(body)), lambdaContext());
    await handler(sqsEvent(record(body), record(body)), lambdaContext());
    // Its identity is the client's: the rows are the same, so no idempotency record is kept.
    expect(await rowsOf(runId)).toHaveLength(10);
    // Besides, one read per batch: has the run ended (its report is rebuilt if so)?
    expect(Object.keys(Object.fromEntries(counts)).sort()).toEqual([
      'BatchGetItemCommand',
      'BatchWriteItemCommand',
    ]);
  });

  it('writes the rows of small records of a batch together: ten one-reading messages, one call', async () => {
    const { handler, counts, writes } = consumer();
    const runId = randomUUID();
    const messages = Array.from({ length: 10 }, (_, i) =>
      message(runId, 1, {
        measurements: [{ ...message(runId, 1).measurements[0]!, sensorId: `one-${i}` }],
      }),
    );
    // A re-sent copy of one message in the same batch: its row is written once.
    const records = [...messages, messages[3]].map((m) => record(m));
    const result = await handler(sqsEvent(...records), lambdaContext());
    expect(result).toEqual({ batchItemFailures: [] });
    expect(writes.packs).toEqual([10]);
    // Before them, the ten sensors of the run in the directory (two entries each), also shared.
    expect(writes.directory).toEqual([20]);
    expect(counts.get('BatchWriteItemCommand')).toBe(2);
    expect(await rowsOf(runId)).toHaveLength(10);
    expect(emf.values(PIPELINE_NAMESPACE, PipelineMetric.stored)).toEqual([11]);
  });

  it("lists a run's sensors in the directory before their packs, once per container and period", async () => {
    const { handler, writes } = consumer();
    const runId = randomUUID();
    await handler(sqsEvent(record(message(runId, 10))), lambdaContext());
    expect(writes.order).toEqual(['directory', 'packs']);
    // Three sensors: the run in each sensor's list, each sensor in the run's.
    expect(writes.directory).toEqual([6]);
    const listed = await packsStored(runId);
    expect(new Set(listed.map((row) => row.sensorId))).toEqual(new Set(['s-0', 's-1', 's-2']));
    // Another message of the same sensors and period: packs only.
    await handler(sqsEvent(record(message(runId, 10))), lambdaContext());
    expect(writes.order).toEqual(['directory', 'packs', 'packs']);
    // Another container reads the entries, finds them, and writes only its packs.
    const other = consumer();
    await other.handler(sqsEvent(record(message(runId, 10))), lambdaContext());
    expect(other.writes.order).toEqual(['packs']);
    expect(Object.fromEntries(other.directoryReads)).toEqual({ BatchGetItemCommand: 1 });
  });

  it('writes a record of a chunk or more on its own, beside the shared call of the small ones', async () => {
    const { handler, writes } = consumer();
    const runId = randomUUID();
    const small = [1, 2, 3].map((i) =>
      message(runId, 1, {
        measurements: [{ ...message(runId, 1).measurements[0]!, sensorId: `small-${i}` }],
      }),
    );
    // 40 sensors: 40 packs
    const large = message(runId, 40, {
      measurements: message(runId, 40).measurements.map((m, i) => ({ ...m, sensorId: `l-${i}` })),
    });
    const result = await handler(
      sqsEvent(...[...small, large].map((m) => record(m))),
      lambdaContext(),
    );
    expect(result).toEqual({ batchItemFailures: [] });
    // One shared call of 3 packs, and the 40 packs in chunks of 25 and 15.
    expect(writes.packs.sort((a, b) => a - b)).toEqual([3, 15, 25]);
    // The directory of the 43 sensors first: 86 entries, in chunks of 25.
    expect(writes.directory.sort((a, b) => a - b)).toEqual([11, 25, 25, 25]);
    expect(await rowsOf(runId)).toHaveLength(43);
  });

  it('retries UnprocessedItems and counts the retries', async () => {
    let calls = 0;
    const { handler } = consumer((send) => async (command) => {
      const requests = command.input.RequestItems?.[sensorTable] ?? [];
      if (!isPackRow(requests[0]?.PutRequest?.Item)) return send(command);
      calls++;
      if (calls > 1) return send(command);
      await send(new BatchWriteCommand({ RequestItems: { [sensorTable]: requests.slice(0, 1) } }));
      return {
        UnprocessedItems: { [sensorTable]: requests.slice(1) },
        $metadata: {},
      } as BatchWriteCommandOutput;
    });
    const runId = randomUUID();
    const result = await handler(sqsEvent(record(message(runId, 10))), lambdaContext());
    expect(result).toEqual({ batchItemFailures: [] });
    expect(calls).toBe(2);
    expect(await rowsOf(runId)).toHaveLength(10);
    expect(emf.values(PIPELINE_NAMESPACE, PipelineMetric.writeRetries)).toEqual([1]);
  });

  it('reports a failing record in batchItemFailures while the others are stored', async () => {
    const { handler } = consumer((send) => async (command) => {
      const requests = command.input.RequestItems?.[sensorTable] ?? [];
      const poisoned = requests.some((r) => r.PutRequest?.Item?.sensorId === 'unwritable');
      // Still unprocessed on every attempt: the record must fail, not be dropped.
      return poisoned
        ? ({
            UnprocessedItems: { [sensorTable]: requests },
            $metadata: {},
          } as BatchWriteCommandOutput)
        : send(command);
    });
    const runId = randomUUID();
    const good = record(message(runId, 5));
    const unwritable = message(runId, 2);
    unwritable.measurements = unwritable.measurements.map((m) => ({
      ...m,
      sensorId: 'unwritable',
    }));
    const bad = record(unwritable);
    const malformed = record('{"v":1');

    const result = await handler(sqsEvent(good, bad, malformed), lambdaContext());
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      [bad.messageId, malformed.messageId].sort(),
    );
    expect((await rowsOf(runId)).map((r) => r.sensorId as string).sort()).toEqual([
      's-0',
      's-0',
      's-1',
      's-1',
      's-2',
    ]);
    expect(emf.values(PIPELINE_NAMESPACE, PipelineMetric.recordFailures)).toEqual([2]);
  });

  it('stores a record on redelivery after a failed attempt (the failure is not remembered)', async () => {
    let failing = true;
    const { handler } = consumer((send) => async (command) => {
      if (failing) throw new Error('throttled');
      return send(command);
    });
    const runId = randomUUID();
    const body = message(runId, 4);
    expect(
      await handler(sqsEvent(record(body, 'm-1')), lambdaContext()).catch((e: unknown) => e),
    ).toBeInstanceOf(FullBatchFailureError);
    failing = false;
    expect(await handler(sqsEvent(record(body, 'm-1')), lambdaContext())).toEqual({
      batchItemFailures: [],
    });
    expect(await rowsOf(runId)).toHaveLength(4);
  });

  it('lets a fully failed batch fail the invocation and still publishes its metrics', async () => {
    const { handler } = consumer();
    await expect(
      handler(sqsEvent(record('not json'), record('[]')), lambdaContext()),
    ).rejects.toBeInstanceOf(FullBatchFailureError);
    expect(emf.values(PIPELINE_NAMESPACE, PipelineMetric.recordFailures)).toEqual([2]);
    expect(emf.values(PIPELINE_NAMESPACE, PipelineMetric.batchSize)).toEqual([2]);
  });

  it('emits sensor metrics per dimension set and pipeline lag once per stored record', async () => {
    const { handler } = consumer();
    const runId = randomUUID();
    await handler(sqsEvent(record(message(runId, 6)), record(message(runId, 6))), lambdaContext());
    const blobs = emf.blobs(SENSOR_NAMESPACE);
    // sensors s-0, s-1, s-2 × (temperature, humidity) as generated: s-0/t, s-1/h, s-2/t, s-0/h, s-1/t, s-2/h
    expect(blobs).toHaveLength(6);
    for (const blob of blobs) {
      expect(blob._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([
        ['SensorId', 'User', 'RunId', 'Type'],
      ]);
      expect(blob).toMatchObject({ RunId: runId, User: 'ana', [SensorMetric.ingested]: 2 });
    }
    const lags = emf.values(PIPELINE_NAMESPACE, PipelineMetric.endToEndLag);
    expect(lags).toHaveLength(2);
    for (const lag of lags) expect(lag).toBeGreaterThanOrEqual(1_500);
    const pipeline = emf.blobs(PIPELINE_NAMESPACE).find((b) => PipelineMetric.stored in b);
    expect(pipeline?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service']]);
  });

  it('costs one BatchWriteItem for 10 readings and a read of the run per batch, whoever timestamped them', async () => {
    const client = consumer();
    const runId = randomUUID();
    await client.handler(sqsEvent(record(message(runId, 10))), lambdaContext());
    // And a read and a write for the directory: the run's three sensors are new to this container.
    expect(Object.fromEntries(client.counts)).toEqual({
      BatchWriteItemCommand: 2,
      BatchGetItemCommand: 1,
    });
    expect(Object.fromEntries(client.directoryReads)).toEqual({ BatchGetItemCommand: 1 });
    client.counts.clear();
    client.directoryReads.clear();
    await client.handler(sqsEvent(record(message(runId, 10))), lambdaContext());
    expect(Object.fromEntries(client.counts)).toEqual({
      BatchWriteItemCommand: 1,
      BatchGetItemCommand: 1,
    });
    expect(client.directoryReads.size).toBe(0);

    const server = consumer();
    await server.handler(
      sqsEvent(record(serverTimestamped(message(randomUUID(), 10)))),
      lambdaContext(),
    );
    expect(Object.fromEntries(server.counts)).toEqual({
      BatchWriteItemCommand: 2,
      BatchGetItemCommand: 1,
    });
  });
});

describe('a reading the table refuses for good', () => {
  it('is parked and counted while the rest of its message is stored, and the record succeeds', async () => {
    const runId = randomUUID();
    const poisoned = 'ingest-consumer test: refused as a limit change would';
    // DynamoDB refuses a whole BatchWriteItem for one bad row; here it is the pack of s-1.
    const { handler } = consumer((send) => async (command) => {
      const rows = command.input.RequestItems?.[sensorTable] ?? [];
      const refused = (item?: Record<string, unknown>) =>
        isPackRow(item) && item?.sensorId === 's-1';
      if (rows.some((r) => refused(r.PutRequest?.Item))) {
        throw Object.assign(new Error(poisoned), { name: 'ValidationException' });
      }
      return send(command);
    });
    const body = message(runId, 30);
    // A neighbour in the same batch, written in the same calls, keeps all its rows.
    const neighbour = message(runId, 5, {
      measurements: message(runId, 5).measurements.map((m) => ({ ...m, sensorId: 'n' })),
    });
    const result = await handler(sqsEvent(record(body), record(neighbour)), lambdaContext());

    expect(result).toEqual({ batchItemFailures: [] });
    const rows = await rowsOf(runId);
    expect(rows).toHaveLength(25);
    expect(rows.every((row) => row.sensorId !== 's-1')).toBe(true);

    // s-1's 10 readings, in its one pack
    const parked = await packsStored(`parked#${runId}`);
    expect(parked).toHaveLength(1);
    expect(parked[0]).toMatchObject({ reason: poisoned, batchId: body.batchId });
    expect(JSON.parse(parked[0]!.row as string)).toMatchObject({ runId, sensorId: 's-1' });
    expect(emf.values(PIPELINE_NAMESPACE, PipelineMetric.parked)).toEqual([10]);
    expect(emf.values(PIPELINE_NAMESPACE, PipelineMetric.stored)).toEqual([25]);
    const ingested = emf.values(SENSOR_NAMESPACE, SensorMetric.ingested);
    expect(ingested.reduce((a, b) => a + b, 0)).toBe(25);
  });
});
