import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KeyRecordStore } from './key-records.ts';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_MESSAGE_BYTES, MEASUREMENT_LIMITS, type QueueMessage } from '#shared/measurement.ts';
import { createPipelineMetrics } from '#shared/metrics.ts';
import { PIPELINE_NAMESPACE, PipelineMetric } from '#shared/metrics-contract.ts';
import { captureEmf, type EmfCapture } from '#test/support/emf.ts';
import { countCommands, useTestTables } from '#test/support/dynamodb.ts';
import { httpEvent } from '#test/support/http-event.ts';
import { lambdaContext } from '#test/support/lambda-context.ts';
import { makeHandler, requestTagForKey, type IngestDeps } from './app.ts';
import type { FailedEntry, MeasurementQueue, QueueEntry } from './queue.ts';
import { CachedRunReader, type RunReader, type RunState } from './runs.ts';
import { InMemoryRunTally } from '#test/support/in-memory-run-tally.ts';

const NOW = Date.parse('2030-01-01T12:00:00.000Z');
const ROUTE = 'POST /api/sensors/data';

/** Records every SendMessageBatch call; `failNext` scripts Failed entries for the next calls. */
class FakeQueue implements MeasurementQueue {
  readonly calls: QueueEntry[][] = [];
  readonly failNext: ((entries: readonly QueueEntry[]) => FailedEntry[])[] = [];
  /** Resolved before a call returns, so a test can hold a request in flight. */
  gate: Promise<void> = Promise.resolve();
  async sendBatch(entries: readonly QueueEntry[]) {
    this.calls.push([...entries]);
    await this.gate;
    return { failed: this.failNext.shift()?.(entries) ?? [] };
  }
  get messages(): QueueMessage[] {
    return this.calls.flat().map((e) => JSON.parse(e.body) as QueueMessage);
  }
}

class FakeRuns implements RunReader {
  readonly runs = new Map<string, RunState>();
  reads = 0;
  async getRun(runId: string) {
    this.reads++;
    return this.runs.get(runId);
  }
  add(overrides: Partial<RunState> = {}): string {
    const id = randomUUID();
    this.runs.set(id, { id, status: 'RUNNING', deadlineAt: NOW + 60_000, ...overrides });
    return id;
  }
}

/** A persistence layer for requests without Idempotency-Key: any use of it fails the test. */
const unusedIdempotencyStore = () =>
  new KeyRecordStore(
    new DynamoDBClient({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    }),
    'unused',
  );

let tagCounter = 0;
const deps = (overrides: Partial<IngestDeps> = {}) => {
  const queue = new FakeQueue();
  const runs = new FakeRuns();
  const tally = new InMemoryRunTally();
  const all: IngestDeps = {
    logger: new Logger({ serviceName: 'ingest', logLevel: 'SILENT' }),
    metrics: createPipelineMetrics('ingest'),
    runs,
    tally,
    queue,
    idempotencyStore: unusedIdempotencyStore(),
    idempotencyTtlSeconds: 3600,
    runGraceMs: 120_000,
    sendRetry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    now: () => NOW,
    newRequestTag: () => `RequestTag${String(++tagCounter).padStart(12, '0')}`,
    sleep: async () => undefined,
    random: () => 0.5,
    ...overrides,
  };
  return { queue, runs, tally, deps: all, handler: makeHandler(all) };
};

const post = (body: unknown, headers: Record<string, string> = {}) =>
  httpEvent(ROUTE, {
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

const json = (result: { body?: string }) =>
  JSON.parse(result.body ?? 'null') as Record<string, unknown>;

const reading = (i = 0) => ({
  sensorId: `sensor-${i % 5}`,
  type: 'temperature',
  reading: 20 + i,
  timestamp: NOW - 1_000 + i,
});

let emf: EmfCapture;
beforeEach(() => {
  emf = captureEmf();
});
afterEach(() => emf.restore());

describe('ingest handler (in-memory adapters)', () => {
  it('accepts a single reading: 202, one message with the envelope', async () => {
    const { handler, queue, runs } = deps();
    const runId = runs.add();
    const result = await handler(
      post(
        { sensorId: 's-1', type: 'temperature', reading: 21.5 },
        { 'x-run-id': runId, 'x-user': ' Ana <script> ' },
      ),
      lambdaContext(),
    );
    expect(result.statusCode).toBe(202);
    expect(json(result)).toEqual({ accepted: 1, runId });
    expect(queue.messages).toEqual([
      {
        v: 1,
        batchId: expect.stringMatching(/^RequestTag\d{12}\.0$/),
        runId,
        user: 'Ana script',
        acceptedAt: '2030-01-01T12:00:00.000Z',
        measurements: [
          {
            sensorId: 's-1',
            type: 'temperature',
            reading: 21.5,
            timestamp: '2030-01-01T12:00:00.000Z',
            id: expect.stringMatching(/^@RequestTag\d{12}\.0$/),
          },
        ],
      },
    ]);
  });

  it('takes the run from the body and a multi-reading, defaulting the user to anonymous', async () => {
    const { handler, queue, runs } = deps();
    const runId = runs.add();
    const result = await handler(
      post({ runId, sensorId: 's-1', temperature: 20, humidity: 50, timestamp: NOW }),
      lambdaContext(),
    );
    expect(json(result)).toEqual({ accepted: 2, runId });
    expect(queue.messages[0]?.user).toBe('anonymous');
    expect(queue.messages[0]?.measurements.map((m) => m.type)).toEqual(['temperature', 'humidity']);
  });

  it('refuses an invalid item with 400 naming it, and enqueues nothing', async () => {
    const { handler, queue, runs } = deps();
    const runId = runs.add();
    const result = await handler(
      post(
        { measurements: [reading(0), { ...reading(1), reading: 'NaN' }] },
        { 'x-run-id': runId },
      ),
      lambdaContext(),
    );
    expect(result.statusCode).toBe(400);
    expect(json(result).details).toEqual([
      { field: 'measurements[1].reading', message: 'must be a finite number' },
    ]);
    expect(queue.calls).toEqual([]);
    expect(emf.values(PIPELINE_NAMESPACE, PipelineMetric.rejected)).toEqual([2]);
  });

  it('refuses malformed JSON with 400 and an oversized body with 413', async () => {
    const { handler, queue, runs } = deps();
    const runId = runs.add();
    expect(
      (await handler(post('{"sensorId":', { 'x-run-id': runId }), lambdaContext())).statusCode,
    ).toBe(400);
    const big = JSON.stringify({
      sensorId: 's',
      type: 't',
      reading: 1,
      pad: 'x'.repeat(MEASUREMENT_LIMITS.maxBodyBytes),
    });
    const tooLarge = await handler(post(big, { 'x-run-id': runId }), lambdaContext());
    expect(tooLarge.statusCode).toBe(413);
    expect(json(tooLarge).error).toEqual(expect.any(String));
    expect(queue.calls).toEqual([]);
  });

  it('answers 400 for a missing or conflicting run id', async () => {
    const { handler, runs } = deps();
    const runId = runs.add();
    const cases = [
      post(reading()),
      post({ ...reading(), runId: randomUUID() }, { 'x-run-id': runId }),
    ];
    for (const event of cases) {
      const result = await handler(event, lambdaContext());
      expect(result.statusCode).toBe(400);
    }
  });

  it('answers 404 for an unknown run and 409 for a run past its grace period', async () => {
    const { handler, runs, queue } = deps();
    const unknown = await handler(post(reading(), { 'x-run-id': randomUUID() }), lambdaContext());
    expect(unknown.statusCode).toBe(404);
    // Not a run id at all: unknown too, as GET /api/runs/{id} answers it
    const malformed = await handler(post(reading(), { 'x-run-id': 'run-1' }), lambdaContext());
    expect(malformed.statusCode).toBe(404);
    expect(queue.messages).toHaveLength(0);

    const ended = runs.add({
      status: 'COMPLETED',
      finishedAt: new Date(NOW - 120_001).toISOString(),
    });
    const late = await handler(post(reading(), { 'x-run-id': ended }), lambdaContext());
    expect(late.statusCode).toBe(409);
    expect(json(late)).toMatchObject({ status: 'COMPLETED' });

    const justEnded = runs.add({
      status: 'COMPLETED',
      finishedAt: new Date(NOW - 60_000).toISOString(),
    });
    expect(
      (await handler(post(reading(), { 'x-run-id': justEnded }), lambdaContext())).statusCode,
    ).toBe(202);
    expect(queue.calls).toHaveLength(1);
  });

  it('retries only the Failed entries and then answers 202', async () => {
    const { handler, queue, runs } = deps();
    const runId = runs.add();
    // Long sensor ids so the request spans several messages of one call.
    const measurements = Array.from({ length: 500 }, (_, i) => ({
      ...reading(i),
      sensorId: `s-${'x'.repeat(56)}-${i}`,
    }));
    queue.failNext.push((entries) => [
      { id: entries[1]!.id, code: 'ServiceUnavailable', senderFault: false },
    ]);
    const result = await handler(post(measurements, { 'x-run-id': runId }), lambdaContext());
    expect(result.statusCode).toBe(202);
    expect(queue.calls).toHaveLength(2);
    expect(queue.calls[1]).toEqual([queue.calls[0]![1]]);
    const stored = queue.calls[0]!.map((e) => JSON.parse(e.body) as QueueMessage);
    expect(stored.length).toBeGreaterThan(1);
    expect(stored.flatMap((m) => m.measurements)).toHaveLength(500);
    for (const entry of queue.calls[0]!)
      expect(Buffer.byteLength(entry.body)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
  });

  it('answers 503 with a generic body when entries keep failing', async () => {
    const { handler, queue, runs } = deps();
    const runId = runs.add();
    const fail = (entries: readonly QueueEntry[]) =>
      entries.map((e) => ({ id: e.id, code: 'InternalError', senderFault: false }));
    queue.failNext.push(fail, fail, fail);
    const result = await handler(post(reading(), { 'x-run-id': runId }), lambdaContext());
    expect(result.statusCode).toBe(503);
    expect(json(result)).toEqual({
      error: 'Measurements could not be enqueued; retry the request',
      message: 'Measurements could not be enqueued; retry the request',
      details: [{ message: '0 of 1 queue messages were enqueued' }],
    });
    expect(queue.calls).toHaveLength(3);
  });

  it("counts the readings it accepts on the run's tally before sending them, each distinct reading once", async () => {
    const { handler, queue, runs, tally } = deps();
    const runId = runs.add();
    const other = runs.add();
    // 3 readings, one of them twice in the body: the consumer stores 3.
    const body = { measurements: [reading(0), reading(1), reading(0), reading(2)] };
    expect((await handler(post(body, { 'x-run-id': runId }), lambdaContext())).statusCode).toBe(
      202,
    );
    await handler(post(reading(3), { 'x-run-id': other }), lambdaContext());
    expect(tally.counts).toEqual(
      new Map([
        [runId, 3],
        [other, 1],
      ]),
    );
    expect(queue.messages).toHaveLength(2);
  });

  it('takes back the readings of messages it could not enqueue, and sends nothing when it cannot count', async () => {
    const { handler, queue, runs, tally } = deps();
    const runId = runs.add();
    const fail = (entries: readonly QueueEntry[]) =>
      entries.map((e) => ({ id: e.id, code: 'InternalError', senderFault: false }));
    queue.failNext.push(fail, fail, fail);
    expect(
      (await handler(post(reading(), { 'x-run-id': runId }), lambdaContext())).statusCode,
    ).toBe(503);
    expect(tally.counts.get(runId)).toBe(0);
    tally.failNext = 1;
    const result = await handler(post(reading(), { 'x-run-id': runId }), lambdaContext());
    expect(result.statusCode).toBe(503);
    expect(json(result).message).toBe('Measurements could not be enqueued; retry the request');
    expect(queue.calls).toHaveLength(3);
  });

  it('reads a run once for a stream of requests (per-container cache)', async () => {
    const runs = new FakeRuns();
    const runId = runs.add();
    const { handler } = deps({
      runs: new CachedRunReader(runs, { ttlMs: 5_000, maxEntries: 10, now: () => NOW }),
    });
    for (let i = 0; i < 5; i++) {
      expect(
        (await handler(post(reading(i), { 'x-run-id': runId }), lambdaContext())).statusCode,
      ).toBe(202);
    }
    expect(runs.reads).toBe(1);
  });

  it('costs one run read and one SendMessageBatch call with one entry for 10 readings', async () => {
    const { handler, queue, runs } = deps();
    const runId = runs.add();
    const batch = Array.from({ length: 10 }, (_, i) => reading(i));
    expect(
      (await handler(post({ measurements: batch }, { 'x-run-id': runId }), lambdaContext()))
        .statusCode,
    ).toBe(202);
    expect(runs.reads).toBe(1);
    expect(queue.calls.map((c) => c.length)).toEqual([1]);
  });

  it('emits the accepted count with only the service dimension (SQS counts the messages itself)', async () => {
    const { handler, runs } = deps();
    const runId = runs.add();
    await handler(
      post([reading(0), reading(1), reading(2)], { 'x-run-id': runId }),
      lambdaContext(),
    );
    expect(emf.values(PIPELINE_NAMESPACE, PipelineMetric.accepted)).toEqual([3]);
    expect(Object.keys(emf.blobs(PIPELINE_NAMESPACE)[0] ?? {}).filter((k) => k !== '_aws')).toEqual(
      ['service', PipelineMetric.accepted],
    );
    const blob = emf.blobs(PIPELINE_NAMESPACE).find((b) => PipelineMetric.accepted in b);
    expect(blob?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service']]);
  });

  it('takes the user from the JWT claims when an authorizer is configured', async () => {
    const { handler, queue, runs } = deps();
    const runId = runs.add({ owner: 'u-1' });
    const event = httpEvent(ROUTE, {
      headers: { 'x-run-id': runId, 'x-user': 'spoofed' },
      body: JSON.stringify(reading()),
      claims: { sub: 'u-1', username: 'carol' },
    });
    expect((await handler(event, lambdaContext())).statusCode).toBe(202);
    expect(queue.messages[0]?.user).toBe('carol');
  });

  describe('run ownership under a JWT authorizer', () => {
    const postAs = (runId: string, claims: Record<string, unknown>) =>
      httpEvent(ROUTE, {
        headers: { 'content-type': 'application/json', 'x-run-id': runId },
        body: JSON.stringify(reading()),
        claims,
      });
    const alice = { sub: 'alice-sub', username: 'alice' };

    it('refuses readings into another user’s run with 403 and enqueues nothing', async () => {
      const { handler, queue, runs, tally } = deps();
      const runId = runs.add({ owner: alice.sub });
      const result = await handler(postAs(runId, { sub: 'bob-sub' }), lambdaContext());
      expect(result.statusCode).toBe(403);
      expect(json(result).message).toContain('belongs to another user');
      expect(queue.calls).toEqual([]);
      expect(await tally.accepted(runId)).toBe(0);
    });

    it('takes readings from the run’s starter and from an admin', async () => {
      const { handler, runs } = deps();
      const runId = runs.add({ owner: alice.sub });
      expect((await handler(postAs(runId, alice), lambdaContext())).statusCode).toBe(202);
      const admin = { sub: 'ops-sub', scope: 'openid admin' };
      expect((await handler(postAs(runId, admin), lambdaContext())).statusCode).toBe(202);
    });

    it('decides from the cached run: no read per request beyond the cache’s', async () => {
      const runs = new FakeRuns();
      const runId = runs.add({ owner: alice.sub });
      const { handler } = deps({
        runs: new CachedRunReader(runs, { ttlMs: 5_000, maxEntries: 10, now: () => NOW }),
      });
      const answers = [];
      for (const claims of [alice, { sub: 'bob-sub' }, alice, { sub: 'bob-sub' }]) {
        answers.push((await handler(postAs(runId, claims), lambdaContext())).statusCode);
      }
      expect(answers).toEqual([202, 403, 202, 403]);
      expect(runs.reads).toBe(1);
    });

    it('without a JWT authorizer, anyone may post into any run, as the front end does', async () => {
      const { handler, runs } = deps();
      const runId = runs.add({ owner: alice.sub });
      const result = await handler(
        post(reading(), { 'x-run-id': runId, 'x-user': 'x' }),
        lambdaContext(),
      );
      expect(result.statusCode).toBe(202);
    });
  });

  it('refuses a malformed Idempotency-Key before touching the idempotency store', async () => {
    const { handler, runs, queue } = deps();
    const runId = runs.add();
    const result = await handler(
      post(reading(), { 'x-run-id': runId, 'idempotency-key': 'has spaces' }),
      lambdaContext(),
    );
    expect(result.statusCode).toBe(400);
    expect(json(result).details).toEqual([
      { field: 'Idempotency-Key', message: expect.any(String) },
    ]);
    expect(queue.calls).toEqual([]);
  });
});

describe('ingest handler with Idempotency-Key (idempotency table in dynalite)', () => {
  const {
    db,
    tables: { idempotency: table },
  } = useTestTables('idempotency');

  /** The edge on dynalite's idempotency table, its clock moved by `clock.now`. */
  const withIdempotency = () => {
    const client = db.client();
    const counts = countCommands(client);
    const clock = { now: NOW };
    const setup = deps({
      idempotencyStore: new KeyRecordStore(client, table),
      now: () => clock.now,
    });
    return { ...setup, counts, clock };
  };

  it('answers a retried request with the first answer and sends its very messages again, counted once', async () => {
    const { handler, queue, runs, tally, clock } = withIdempotency();
    const runId = runs.add();
    const key = randomUUID();
    // One reading the server timestamps, one the client does.
    const body = { measurements: [reading(0), { sensorId: 's', type: 'pressure', reading: 990 }] };
    const first = await handler(
      post(body, { 'x-run-id': runId, 'idempotency-key': key }),
      lambdaContext(),
    );
    expect(first.statusCode).toBe(202);
    expect(queue.messages.map((m) => m.batchId)).toEqual([`${requestTagForKey(runId, key)}.0`]);
    const [sent] = queue.calls;

    // Later, when the server would give the second reading another time.
    clock.now += 30_000;
    const second = await handler(
      post(body, { 'x-run-id': runId, 'idempotency-key': key }),
      lambdaContext(),
    );
    expect(second.statusCode).toBe(202);
    expect(second.body).toBe(first.body);
    expect(second.headers?.['idempotent-replayed']).toBe('true');
    // The first attempt may have died before sending: the same messages go again, byte for
    // byte (same batch ids, same accepted time, same server timestamp), onto the same packs.
    expect(queue.calls).toHaveLength(2);
    expect(queue.calls[1]!.map((e) => e.body)).toEqual(sent!.map((e) => e.body));
    expect(tally.counts.get(runId)).toBe(2);
  });

  it('refuses the same key with a different body with 422', async () => {
    const { handler, queue, runs } = withIdempotency();
    const runId = runs.add();
    const key = randomUUID();
    await handler(post(reading(1), { 'x-run-id': runId, 'idempotency-key': key }), lambdaContext());
    const reused = await handler(
      post(reading(2), { 'x-run-id': runId, 'idempotency-key': key }),
      lambdaContext(),
    );
    expect(reused.statusCode).toBe(422);
    expect(json(reused).details).toEqual([
      { field: 'Idempotency-Key', message: expect.any(String) },
    ]);
    expect(queue.calls).toHaveLength(1);
  });

  it('does not remember client errors or 503s: the same key later succeeds with the same batch ids', async () => {
    const { handler, queue, runs } = withIdempotency();
    const runId = randomUUID();
    const key = randomUUID();
    const event = () => post(reading(3), { 'x-run-id': runId, 'idempotency-key': key });

    expect((await handler(event(), lambdaContext())).statusCode).toBe(404);

    runs.runs.set(runId, { id: runId, status: 'RUNNING', deadlineAt: NOW + 60_000 });
    const fail = (entries: readonly QueueEntry[]) =>
      entries.map((e) => ({ id: e.id, code: 'InternalError', senderFault: false }));
    queue.failNext.push(fail, fail, fail);
    expect((await handler(event(), lambdaContext())).statusCode).toBe(503);

    const ok = await handler(event(), lambdaContext());
    expect(ok.statusCode).toBe(202);
    expect(ok.headers?.['idempotent-replayed']).toBeUndefined();
    const ids = queue.messages.map((m) => m.batchId);
    expect(new Set(ids)).toEqual(new Set([`${requestTagForKey(runId, key)}.0`]));
  });

  it('answers a duplicate that arrives while the first is still in progress as a replay: the same messages, counted once', async () => {
    const { handler, queue, runs, tally } = withIdempotency();
    const runId = runs.add();
    const key = randomUUID();
    let release = () => undefined as void;
    queue.gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = handler(
      post(reading(), { 'x-run-id': runId, 'idempotency-key': key }),
      lambdaContext(),
    );
    // Wait until the first request is inside the queue call (its key record is written).
    for (let i = 0; i < 200 && queue.calls.length === 0; i++)
      await new Promise((r) => setTimeout(r, 5));
    expect(queue.calls).toHaveLength(1);
    const duplicate = handler(
      post(reading(), { 'x-run-id': runId, 'idempotency-key': key }),
      lambdaContext(),
    );
    for (let i = 0; i < 200 && queue.calls.length === 1; i++)
      await new Promise((r) => setTimeout(r, 5));
    release();
    expect((await duplicate).statusCode).toBe(202);
    expect((await duplicate).headers?.['idempotent-replayed']).toBe('true');
    expect((await first).statusCode).toBe(202);
    expect(queue.calls[1]!.map((e) => e.body)).toEqual(queue.calls[0]!.map((e) => e.body));
    expect(tally.counts.get(runId)).toBe(1);
  });

  it('keeps keys of different runs apart', async () => {
    const { handler, queue, runs } = withIdempotency();
    const key = randomUUID();
    const [a, b] = [runs.add(), runs.add()];
    expect(
      (await handler(post(reading(), { 'x-run-id': a, 'idempotency-key': key }), lambdaContext()))
        .statusCode,
    ).toBe(202);
    const other = await handler(
      post(reading(), { 'x-run-id': b, 'idempotency-key': key }),
      lambdaContext(),
    );
    expect(other.statusCode).toBe(202);
    expect(other.headers?.['idempotent-replayed']).toBeUndefined();
    expect(queue.calls).toHaveLength(2);
  });

  it('costs one idempotency write on the first request and one refused write on a replay', async () => {
    const { handler, runs, counts } = withIdempotency();
    const runId = runs.add();
    const key = randomUUID();
    await handler(post(reading(), { 'x-run-id': runId, 'idempotency-key': key }), lambdaContext());
    // Powertools' flow, in one write: the record is complete when first written (key-records.ts).
    expect(Object.fromEntries(counts)).toEqual({ PutItemCommand: 1 });
    counts.clear();
    await handler(post(reading(), { 'x-run-id': runId, 'idempotency-key': key }), lambdaContext());
    // A conditional put that fails; dynalite does not return the old item with it, so Powertools
    // reads it (on DynamoDB, ReturnValuesOnConditionCheckFailure: ALL_OLD saves that GetItem).
    expect(Object.fromEntries(counts)).toEqual({ PutItemCommand: 1, GetItemCommand: 1 });
  });
});
