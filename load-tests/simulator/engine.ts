/**
 * The simulator's engine: starts runs, sends readings at a rate (or as fast as the concurrency
 * allows) the way the front end does, finishes the runs, and reports what happened. The CLI
 * (`npm run simulate`), the benchmark and the chaos soak all drive it.
 */
import { createApiClient } from '#shared/api/client.ts';
import { ingestBody, ingestHeaders, runSeries, sensorIds, DEFAULT_TYPES } from '../payload.ts';
import type { Series } from '../payload.ts';
import { LatencyRecorder, type LatencySummary } from './latency.ts';
import {
  DEFAULT_RETRY,
  defaultRetryDeps,
  retryingFetch,
  type Attempts,
  type RetryDeps,
  type RetryPolicy,
} from './retry.ts';
import { finishRuns, startRuns, type RunClient } from './runs.ts';

export interface SimulationOptions {
  /** Base URL of the API, e.g. `http://127.0.0.1:3000`. */
  url: string;
  /** Concurrent runs to start (default 1); must fit the run limit. */
  runs?: number;
  /** Sensors per run (default 5). */
  sensors?: number;
  /** Reading types per sensor (default temperature, humidity, pressure). */
  types?: readonly string[];
  /** Readings per second, all runs together; absent: as fast as `concurrency` allows. */
  rate?: number;
  /** Readings per request (default 1: the earlier front end's single-reading shape). */
  batch?: number;
  /** Seconds of sending. At least one of `durationSeconds` and `readings` is required. */
  durationSeconds?: number;
  /** Readings to send in total; sending stops at whichever limit comes first. */
  readings?: number;
  /** Requests in flight at most (default 32). */
  concurrency?: number;
  /** `X-User` (default `simulator`). */
  user?: string;
  /**
   * Send an `Idempotency-Key` with every request (default true). Off, a retried request may be
   * stored twice unless its readings carry their timestamps (the simulator's always do).
   */
  idempotencyKeys?: boolean;
  /**
   * Send each reading's timestamp (default true). Off, as the front end does, the server assigns
   * it; each reading then carries a value no other reading of the simulation has, so the
   * read-back can still tell readings apart (`SimulationResult.identify`).
   */
  clientTimestamps?: boolean;
  /** Seed of the signals (default 1). */
  seed?: number;
  /** Aborting stops sending; the runs are finished as FAILED and the report still comes back. */
  signal?: AbortSignal;
  retry?: Partial<RetryPolicy>;
  /** Injected for tests (fetch, random, sleep, clock). */
  deps?: Partial<RetryDeps>;
  /** Called about once a second while sending. */
  onProgress?: (progress: SimulationProgress) => void;
}

export interface SimulationProgress {
  elapsedMs: number;
  sent: number;
  accepted: number;
  errors: number;
  /** Readings accepted per second over the last interval. */
  currentRate: number;
  p99: number;
}

export interface SimulationReport {
  url: string;
  runs: { id: string; status: string }[];
  batch: number;
  targetRate: number | null;
  /** Readings sent (each counted once, however often it was retried). */
  sent: number;
  /** Readings the API answered 202 for. */
  accepted: number;
  /** Readings finally refused or never answered. */
  refused: number;
  /** Refused readings by the final status (`0`: no answer, e.g. a network error). */
  refusedByStatus: Record<string, number>;
  requests: number;
  retries: number;
  /** Readings accepted per second of sending. */
  achievedRate: number;
  sendingMs: number;
  /** Per answered HTTP attempt of `POST /api/sensors/data`. */
  latencyMs: LatencySummary;
  interrupted: boolean;
}

/** A reading's identity as the server derives it: run, sensor, type, timestamp. */
export const readingIdentity = (r: {
  runId: string;
  sensorId: string;
  type: string;
  timestamp: string;
}): string => `${r.runId}#${r.sensorId}#${r.type}#${r.timestamp}`;

/** Without client timestamps: run, sensor, type and the reading's value (unique when sent). */
export const valueIdentity = (r: {
  runId: string;
  sensorId: string;
  type: string;
  reading: number;
}): string => `${r.runId}#${r.sensorId}#${r.type}#=${r.reading}`;

export type ReadingIdentity = (item: {
  runId: string;
  sensorId: string;
  type: string;
  reading: number;
  timestamp: string;
}) => string;

export interface SimulationResult {
  report: SimulationReport;
  /** Identities of every accepted reading, per run id: what `verifyStored` looks for. */
  acceptedReadings: Map<string, Set<string>>;
  /** How a stored reading's identity is told, to match `acceptedReadings`. */
  identify: ReadingIdentity;
}

const DEFAULTS = { runs: 1, sensors: 5, batch: 1, concurrency: 32, user: 'simulator', seed: 1 };
const PROGRESS_INTERVAL_MS = 1000;
/** How often the pump looks at the clock when paced. */
const TICK_MS = 5;

export const runSimulation = async (options: SimulationOptions): Promise<SimulationResult> => {
  const settings = { ...DEFAULTS, ...withoutUndefined(options) };
  const { batch, concurrency, signal } = settings;
  if (options.durationSeconds === undefined && options.readings === undefined) {
    throw new Error('Give durationSeconds or readings (or both)');
  }
  const deps: RetryDeps = { ...defaultRetryDeps(), ...options.deps };
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const api = createApiClient(settings.url, { headers: { 'X-User': settings.user } });
  const client: RunClient = { api, policy, deps };
  const sensors = sensorIds(settings.sensors);
  const types = options.types ?? DEFAULT_TYPES;
  const limitMs = options.durationSeconds === undefined ? Infinity : options.durationSeconds * 1000;
  const limitReadings = options.readings ?? Infinity;
  const rate = options.rate;

  // The run lasts as long as the sending could, so the server keeps it RUNNING throughout.
  const plannedSeconds = Number.isFinite(limitMs)
    ? limitMs / 1000
    : rate
      ? limitReadings / rate
      : 3600;
  const runIds = await startRuns(client, settings.runs, sensors, plannedSeconds + 60);
  const series = new Map(
    runIds.map((id) => [id, { all: runSeries(sensors, types, settings.seed), next: 0 }]),
  );
  const acceptedReadings = new Map(runIds.map((id) => [id, new Set<string>()]));
  const clientTimestamps = options.clientTimestamps !== false;
  const identify: ReadingIdentity = clientTimestamps ? readingIdentity : valueIdentity;
  let lastValue = 0;

  const latency = new LatencyRecorder();
  const refusedByStatus: Record<string, number> = {};
  let sent = 0;
  let accepted = 0;
  let requests = 0;
  let retries = 0;
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const wakeUp = () => wake?.();
  signal?.addEventListener('abort', wakeUp);

  const takeReadings = (runId: string, count: number) => {
    const state = series.get(runId)!;
    const now = Date.now();
    return Array.from({ length: count }, () => {
      const next: Series = state.all[state.next++ % state.all.length]!;
      const { timestamp, ...reading } = next.reading(now);
      return clientTimestamps ? { ...reading, timestamp } : { ...reading, reading: ++lastValue };
    });
  };

  const send = async (runId: string, count: number) => {
    const readings = takeReadings(runId, count);
    const key = `${runId}.${requests++}`;
    sent += count;
    const attempts: Attempts = { retries: 0, latenciesMs: [] };
    const status = await api
      .POST('/api/sensors/data', {
        body: ingestBody(readings),
        headers: ingestHeaders(
          runId,
          options.idempotencyKeys === false ? undefined : key,
          settings.user,
        ),
        fetch: retryingFetch(policy, deps, signal, attempts),
        // Only the status counts here; the body is left unread.
        parseAs: 'stream',
      })
      .then(
        ({ response }) => response.status,
        () => 0, // no answer, even after the retries
      );
    retries += attempts.retries;
    attempts.latenciesMs.forEach((ms) => latency.record(ms));
    if (status === 202) {
      accepted += count;
      const identities = acceptedReadings.get(runId)!;
      // Readings sent without a timestamp are identified by value (`valueIdentity`).
      for (const r of readings) identities.add(identify({ runId, timestamp: '', ...r }));
    } else {
      refusedByStatus[status] = (refusedByStatus[status] ?? 0) + count;
    }
  };

  const started = deps.now();
  let lastProgress = { at: started, accepted: 0 };
  const progress = () => {
    const now = deps.now();
    if (!options.onProgress || now - lastProgress.at < PROGRESS_INTERVAL_MS) return;
    options.onProgress({
      elapsedMs: now - started,
      sent,
      accepted,
      errors: sent - accepted - inFlightReadings,
      currentRate: ((accepted - lastProgress.accepted) * 1000) / (now - lastProgress.at),
      p99: latency.percentile(99),
    });
    lastProgress = { at: now, accepted };
  };

  let inFlightReadings = 0;
  let requestIndex = 0;
  const pending = new Set<Promise<void>>();
  for (;;) {
    const elapsed = deps.now() - started;
    if (signal?.aborted || elapsed >= limitMs || sent >= limitReadings) break;
    const due = rate === undefined ? Infinity : (elapsed / 1000) * rate;
    while (inFlight < concurrency && sent < due && sent < limitReadings) {
      const runId = runIds[requestIndex++ % runIds.length]!;
      const count = Math.min(batch, limitReadings - sent);
      inFlight++;
      inFlightReadings += count;
      const request = send(runId, count).finally(() => {
        inFlight--;
        inFlightReadings -= count;
        pending.delete(request);
        wakeUp();
      });
      pending.add(request);
    }
    progress();
    // Wait for a request to end, the next tick of the clock, or an abort.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, rate === undefined ? PROGRESS_INTERVAL_MS : TICK_MS);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    wake = undefined;
  }
  await Promise.all(pending);
  const sendingMs = deps.now() - started;
  signal?.removeEventListener('abort', wakeUp);

  const interrupted = signal?.aborted === true;
  const runs = await finishRuns(
    client,
    runIds,
    interrupted ? 'FAILED' : 'COMPLETED',
    interrupted ? 'Simulation interrupted before its end (Ctrl+C)' : undefined,
  );
  const refused = Object.values(refusedByStatus).reduce((sum, n) => sum + n, 0);
  return {
    report: {
      url: settings.url,
      runs,
      batch,
      targetRate: rate ?? null,
      sent,
      accepted,
      refused,
      refusedByStatus,
      requests,
      retries,
      achievedRate: round((accepted * 1000) / Math.max(1, sendingMs)),
      sendingMs: Math.round(sendingMs),
      latencyMs: latency.summary(),
      interrupted,
    },
    acceptedReadings,
    identify,
  };
};

const round = (value: number) => Math.round(value * 10) / 10;

const withoutUndefined = <T extends object>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
