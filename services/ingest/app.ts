/**
 * `POST /api/sensors/data`: validate, check the run, pack into SQS messages, enqueue, answer 202.
 * `makeHandler(deps)` builds the handler from its ports; `defaultDeps()` the AWS ones.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyUnknownError,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import {
  createDocumentClient,
  createDynamoDbClient,
  createSqsClient,
} from '#shared/aws-clients.ts';
import { sleep } from '#shared/backoff.ts';
import { intEnv, optionalEnv, requireEnv } from '#shared/config.ts';
import {
  BadRequestError,
  ConflictError,
  DomainError,
  ForbiddenError,
  NotFoundError,
  ServiceUnavailableError,
} from '#shared/errors.ts';
import { header, httpHandler, jsonResponse, parseJsonBody, type HttpEvent } from '#shared/http.ts';
import { callerName, jwtClaims, mayActOnRun, runActor, type RunActor } from '#shared/identity.ts';
import { MEASUREMENT_LIMITS, toCanonicalTimestamp } from '#shared/measurement.ts';
import { createPipelineMetrics, publishStored } from '#shared/metrics.ts';
import { PipelineMetric } from '#shared/metrics-contract.ts';
import { createLogger } from '#shared/powertools.ts';
import { acceptsMeasurements, effectiveStatus, runGraceMsFromEnv } from '#shared/run.ts';
import { DynamoRunStore } from '#shared/run-store.ts';
import { DynamoRunTally, TALLY_RETENTION_SECONDS, type RunTally } from '#shared/run-tally.ts';
import { topology } from '#infra/topology.ts';
import { groupForSend, packMessages, toQueueMeasurements } from './packing.ts';
import {
  DEFAULT_SEND_RETRY,
  PartlyEnqueuedError,
  sendAll,
  SqsMeasurementQueue,
  type MeasurementQueue,
  type SendRetryPolicy,
} from './queue.ts';
import { KeyRecordStore, type KeyedRequest, type KeyRecordAnswer } from './key-records.ts';
import { CachedRunReader, DEFAULT_RUN_CACHE, type RunReader } from './runs.ts';
import { parseIngestBody, type ParsedIngest } from './validation.ts';

export interface IngestDeps {
  logger: Logger;
  metrics: Metrics;
  runs: RunReader;
  /** The run's accepted count, which tells the run reports when they are final. */
  tally: RunTally;
  queue: MeasurementQueue;
  /** Where Idempotency-Key records are kept (the idempotency table in AWS; key-records.ts). */
  idempotencyStore: BasePersistenceLayer;
  idempotencyTtlSeconds: number;
  /** How long after its end a run still takes readings (RUN_GRACE_SECONDS). */
  runGraceMs: number;
  /** Under the JWT authorizer, this group or scope may post into any run (ADMIN_GROUP). */
  adminGroup?: string;
  sendRetry: SendRetryPolicy;
  now: () => number;
  /** A fresh request tag (the batch id prefix) for a request without Idempotency-Key. */
  newRequestTag: () => string;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
}

/** `202` body. */
export interface AcceptedAnswer {
  accepted: number;
  runId: string;
}

/** Idempotency keys: opaque client strings (UUIDs, base64); bounded and free of separators. */
export const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:+/=-]{1,128}$/;

/** Powertools key prefix; fixed so keys survive a function rename or redeploy. */
const IDEMPOTENCY_KEY_PREFIX = 'ingest';

const REPLAYED = '__replayed';

class IdempotencyKeyReusedError extends DomainError {
  constructor() {
    super(422, 'This Idempotency-Key was already used with a different request', [
      {
        field: 'Idempotency-Key',
        message: 'already used for this run with a different body or user',
      },
    ]);
  }
}

export const readIdempotencyKey = (event: HttpEvent): string | undefined => {
  const key = header(event, 'idempotency-key');
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new BadRequestError('Idempotency-Key is malformed', [
      {
        field: 'Idempotency-Key',
        message: 'must be 1-128 characters of letters, digits, _ . : + / = -',
      },
    ]);
  }
  return key;
};

/**
 * Request tag derived from the run and the Idempotency-Key: a retried request gets the same
 * batch ids, so its messages, rebuilt at the same accepted time, land on the same packs.
 */
export const requestTagForKey = (runId: string, key: string): string =>
  createHash('sha256').update(`${runId}\n${key}`).digest('base64url').slice(0, 22);

interface AcceptWork {
  parsed: ParsedIngest;
  user: string;
  /** Under the JWT authorizer: who posts; only the run's owner or an admin may. */
  actor: RunActor | undefined;
  now: number;
  requestTag: string;
}

/** Idempotency-layer failures as HTTP: reuse 422, concurrent duplicate 409, store trouble 503. */
const mapIdempotencyError = (error: unknown): unknown => {
  if (error instanceof IdempotencyValidationError) return new IdempotencyKeyReusedError();
  if (error instanceof IdempotencyAlreadyInProgressError) {
    return new ConflictError(
      'A request with this Idempotency-Key is still in progress; retry shortly',
    );
  }
  if (error instanceof IdempotencyUnknownError) {
    return Object.assign(new ServiceUnavailableError('Request could not be processed; retry it'), {
      cause: error,
    });
  }
  return error;
};

/** Items a (possibly invalid) body carries, for the rejected-measurements metric. */
const itemsIn = (body: unknown): number => {
  if (Array.isArray(body)) return Math.max(body.length, 1);
  const list = (body as { measurements?: unknown } | null | undefined)?.measurements;
  return Array.isArray(list) ? Math.max(list.length, 1) : 1;
};

export const makeHandler = (deps: IngestDeps) => {
  const { logger, metrics } = deps;

  /**
   * Packs a request's readings into messages and sends them: the same messages for the same
   * readings, request tag and accepted time. `count` adds them to the run's accepted tally
   * first (a replay's messages were counted by the request that was accepted). Messages that
   * never went out are taken back from the tally — unless some did and `keyed`: then the key's
   * retry sends them all again at this accepted time, and finds them counted.
   */
  const enqueue = async (
    parsed: ParsedIngest,
    user: string,
    acceptedAt: number,
    requestTag: string,
    { count, keyed }: { count: boolean; keyed: boolean },
  ): Promise<void> => {
    const envelope = { runId: parsed.runId, user, acceptedAt: toCanonicalTimestamp(acceptedAt) };
    const messages = packMessages(
      envelope,
      requestTag,
      toQueueMeasurements(parsed.measurements, requestTag),
    );
    // Counted before the send, so the tally is never below what SQS holds: a message enqueued
    // and not yet stored keeps the run's report provisional (shared/run-tally.ts).
    const tallyExpiresAt = Math.floor(acceptedAt / 1000) + TALLY_RETENTION_SECONDS;
    const readings = messages.reduce((sum, message) => sum + message.distinct, 0);
    if (count) {
      try {
        await deps.tally.add(parsed.runId, readings, tallyExpiresAt);
      } catch (error) {
        throw Object.assign(
          new ServiceUnavailableError('Measurements could not be enqueued; retry the request'),
          { cause: error },
        );
      }
    }
    const report = await sendAll(deps.queue, groupForSend(messages), deps.sendRetry, {
      sleep: deps.sleep,
      random: deps.random,
      onRetry: ({ attempt, failed }) =>
        logger.warn('Retrying failed queue entries', {
          attempt,
          failed: failed.length,
          codes: failed.map((f) => f.code),
        }),
      onGiveUp: async (failed, unsent) => {
        logger.error('Queue entries still failing; answering 503', {
          failed: failed.length,
          codes: failed.map((f) => f.code),
        });
        if (!count || (keyed && unsent.length < messages.length)) return;
        // Never enqueued: not to be waited for. Left counted if this fails (a provisional report).
        const back = unsent.reduce((sum, message) => sum + message.distinct, 0);
        await deps.tally.add(parsed.runId, -back, tallyExpiresAt).catch((error: unknown) =>
          logger.error('Accepted tally not taken back; the run report stays provisional', {
            readings: back,
            error: error as Error,
          }),
        );
      },
    });
    // Debug, not info: this is the hot path, the access log and the metrics already count
    // every request, and a line per request would be the largest log bill.
    logger.debug('Measurements enqueued', {
      accepted: parsed.measurements.length,
      messages: messages.length,
      sendCalls: report.calls,
      requestTag,
    });
  };

  const accept = async (
    { parsed, user, actor, now, requestTag }: AcceptWork,
    keyed = false,
  ): Promise<AcceptedAnswer> => {
    const run = await deps.runs.getRun(parsed.runId);
    if (run === undefined) throw new NotFoundError(`Run ${parsed.runId} not found`);
    if (!mayActOnRun(actor, run)) {
      throw new ForbiddenError(`Run ${parsed.runId} belongs to another user`);
    }
    if (!acceptsMeasurements(run, now, deps.runGraceMs)) {
      const status = effectiveStatus(run, now);
      throw new ConflictError(`Run ${parsed.runId} is ${status} and no longer takes measurements`, {
        status,
      });
    }
    await enqueue(parsed, user, now, requestTag, { count: true, keyed });
    metrics.addMetric(PipelineMetric.accepted, MetricUnit.Count, parsed.measurements.length);
    return { accepted: parsed.measurements.length, runId: parsed.runId };
  };

  const idempotency = new IdempotencyConfig({
    eventKeyJmesPath: '[runId, key]',
    payloadValidationJmesPath: 'payload',
    throwOnNoIdempotencyKey: true,
    expiresAfterSeconds: deps.idempotencyTtlSeconds,
    // Runs only when an earlier answer is returned; marks it so the response can say so.
    responseHook: (response) => ({ ...(response as Record<string, never>), [REPLAYED]: true }),
  });
  // The key's record is written with the answer before the work (key-records.ts); a thrown error
  // (4xx or 503) deletes it, so a client mistake or an outage is never replayed. A request whose
  // messages went out in part keeps its record, to be answered 503 outside: its retry is a
  // replay at the same accepted time, which sends the very same messages again.
  const acceptOnce = makeIdempotent(
    async (
      _request: KeyedRequest,
      work: AcceptWork,
    ): Promise<AcceptedAnswer | { partlyEnqueued: PartlyEnqueuedError }> => {
      try {
        return await accept(work, true);
      } catch (error) {
        if (error instanceof PartlyEnqueuedError) return { partlyEnqueued: error };
        throw error;
      }
    },
    {
      persistenceStore: deps.idempotencyStore,
      config: idempotency,
      keyPrefix: IDEMPOTENCY_KEY_PREFIX,
    },
  );

  return httpHandler(logger, async (event, context) => {
    idempotency.registerLambdaContext(context);
    metrics.captureColdStartMetric();
    try {
      // The token's user under the JWT authorizer, else the sanitised X-User header.
      const user = callerName(jwtClaims(event), header(event, 'x-user'));
      const actor = runActor(event, deps.adminGroup);
      logger.appendKeys({ user });
      const key = readIdempotencyKey(event);
      const body = parseJsonBody(event, MEASUREMENT_LIMITS.maxBodyBytes);
      const now = deps.now();
      let parsed: ParsedIngest;
      try {
        parsed = parseIngestBody(body, header(event, 'x-run-id'), now);
      } catch (error) {
        metrics.addMetric(PipelineMetric.rejected, MetricUnit.Count, itemsIn(body));
        throw error;
      }
      logger.appendKeys({ runId: parsed.runId });

      let answer: AcceptedAnswer & { [REPLAYED]?: boolean };
      let replayed = false;
      if (key === undefined) {
        answer = await accept({ parsed, user, actor, now, requestTag: deps.newRequestTag() });
      } else {
        const requestTag = requestTagForKey(parsed.runId, key);
        // The token's subject is part of the request: another user's retry is not a replay.
        const subject = actor?.subject === undefined ? {} : { subject: actor.subject };
        const first: KeyRecordAnswer = {
          accepted: parsed.measurements.length,
          runId: parsed.runId,
          acceptedAt: now,
        };
        const recorded = (await acceptOnce(
          { runId: parsed.runId, key, payload: { user, ...subject, body }, answer: first },
          { parsed, user, actor, now, requestTag },
        )) as AcceptedAnswer &
          Partial<KeyRecordAnswer> & {
            [REPLAYED]?: boolean;
            partlyEnqueued?: PartlyEnqueuedError;
          };
        if (recorded.partlyEnqueued) throw recorded.partlyEnqueued;
        replayed = recorded[REPLAYED] === true;
        if (replayed) {
          // The first attempt may have died before its messages were all sent: send them again,
          // rebuilt as they were accepted, so they land on the same packs; counted once.
          const at = recorded.acceptedAt ?? now;
          const again = at === now ? parsed : parseIngestBody(body, header(event, 'x-run-id'), at);
          await enqueue(again, user, at, requestTag, { count: false, keyed: true });
          logger.info('Idempotency-Key replay: first answer returned, its messages sent again');
        }
        answer = recorded;
      }
      return jsonResponse(
        202,
        { accepted: answer.accepted, runId: answer.runId },
        replayed ? { 'idempotent-replayed': 'true' } : {},
      );
    } catch (error) {
      throw mapIdempotencyError(error);
    } finally {
      publishStored(metrics);
    }
  });
};

/** Production dependencies, built once per container from the environment. */
export const defaultDeps = (env: NodeJS.ProcessEnv = process.env): IngestDeps => {
  const dynamo = createDynamoDbClient();
  const now = () => Date.now();
  return {
    logger: createLogger(),
    metrics: createPipelineMetrics(topology.functions.ingest.service),
    runs: new CachedRunReader(
      new DynamoRunStore(createDocumentClient(dynamo), requireEnv(topology.tables.runs.env, env)),
      { ...DEFAULT_RUN_CACHE, now },
    ),
    tally: new DynamoRunTally(
      createDocumentClient(dynamo),
      requireEnv(topology.tables.runs.env, env),
    ),
    queue: new SqsMeasurementQueue(
      createSqsClient(),
      requireEnv(topology.queues.measurements.env, env),
    ),
    idempotencyStore: new KeyRecordStore(dynamo, requireEnv(topology.tables.idempotency.env, env)),
    idempotencyTtlSeconds: intEnv(
      'IDEMPOTENCY_TTL_SECONDS',
      3600,
      { min: 60, max: 7 * 86_400 },
      env,
    ),
    runGraceMs: runGraceMsFromEnv(env),
    adminGroup: optionalEnv('ADMIN_GROUP', env) ?? 'admin',
    sendRetry: DEFAULT_SEND_RETRY,
    now,
    // 128 random bits: unique batch ids without trusting any request id to be unique.
    newRequestTag: () => randomBytes(16).toString('base64url'),
    sleep,
    random: Math.random,
  };
};
