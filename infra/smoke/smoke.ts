/**
 * The smoke test every deployment must pass: one short run through the public API, as the
 * front end and simulator use it. can-start, start a run, post readings in each accepted shape,
 * read them back, finish the run, check its grafanaUrl. The run is always finished, also when a
 * step fails, so a smoke test never holds a run slot; its readings expire with the table's TTL.
 * Only the HTTP API is used: no AWS credentials, so the same check runs locally and in CI.
 */
import { randomUUID } from 'node:crypto';
import { createApiClient, type ApiSchemas } from '#shared/api/client.ts';
import { SENSORS_DASHBOARD } from '#shared/grafana.ts';

export interface GrafanaAuth {
  /** A Grafana service account token (Viewer is enough), sent as a Bearer token. */
  token?: string;
  user?: string;
  password?: string;
}

export interface SmokeOptions {
  /** Base URL of the API, e.g. the stack's ApiUrl output. */
  url: string;
  /** The stage runs Grafana: grafanaUrl must be set and the dashboard must exist. */
  expectGrafana: boolean;
  grafanaAuth: GrafanaAuth;
  /** Sent as `Authorization: Bearer …` when the API sits behind the JWT authorizer. */
  apiToken?: string;
  /** How long readings may take to travel through the queue into the table. */
  readBackTimeoutMs: number;
  log: (line: string) => void;
  /** The fetch of the API calls (tests pass one that checks answers against the description). */
  fetch?: typeof fetch;
}

export interface SmokeResult {
  ok: boolean;
  runId?: string;
}

class StepFailed extends Error {}

/** An answer of the typed client, for the messages of a failed step. */
interface Reply {
  data?: unknown;
  error?: unknown;
  response: Response;
}

interface Expected {
  sensorId: string;
  type: string;
  reading: number;
}

interface SmokeRequest {
  shape: string;
  headers: Record<string, string>;
  body: ApiSchemas['MeasurementRequest'];
  expected: Expected[];
}

const REQUEST_TIMEOUT_MS = 15_000;
const SENSORS = ['smoke-single', 'smoke-multi', 'smoke-batch', 'smoke-array'];

const isLoopback = (url: string): boolean =>
  /^(localhost|127\.\d+\.\d+\.\d+|\[::1\]|0\.0\.0\.0)$/i.test(new URL(url).hostname);

/** The readings the smoke test posts, one request per accepted shape. */
const readingsFor = (runId: string, at: number): SmokeRequest[] => {
  // Distinct timestamps in the past: each reading has its own identity, so none replaces another.
  const ts = (seconds: number) => new Date(at - seconds * 1000).toISOString();
  /** Readings of one sensor and type, each `secondsAgo`: as posted, and as they read back. */
  const readings = (sensorId: string, type: string, points: [number, number][]) => ({
    posted: points.map(([reading, secondsAgo]) => ({
      sensorId,
      type,
      reading,
      timestamp: ts(secondsAgo),
    })),
    expected: points.map(([reading]) => ({ sensorId, type, reading })),
  });
  const single = readings('smoke-single', 'temperature', [[21.5, 8]]);
  const batch = readings('smoke-batch', 'co2', [
    [415, 6],
    [420, 5],
  ]);
  const array = readings('smoke-array', 'light', [
    [300, 4],
    [310, 3],
  ]);
  return [
    {
      shape: 'single reading',
      headers: { 'X-Run-Id': runId },
      body: single.posted[0]!,
      expected: single.expected,
    },
    {
      // The earlier front end's model: a reading without type is a temperature.
      shape: 'single reading without type',
      headers: { 'X-Run-Id': runId },
      body: { sensorId: 'smoke-untyped', reading: 19.75, timestamp: ts(9) },
      expected: [{ sensorId: 'smoke-untyped', type: 'temperature', reading: 19.75 }],
    },
    {
      shape: 'multi-reading (runId in the body)',
      headers: {},
      body: {
        runId,
        sensorId: 'smoke-multi',
        temperature: 22.25,
        humidity: 41,
        pressure: 1013.2,
        timestamp: ts(7),
      },
      expected: [
        { sensorId: 'smoke-multi', type: 'temperature', reading: 22.25 },
        { sensorId: 'smoke-multi', type: 'humidity', reading: 41 },
        { sensorId: 'smoke-multi', type: 'pressure', reading: 1013.2 },
      ],
    },
    {
      shape: 'batch {measurements: [...]}',
      headers: { 'X-Run-Id': runId },
      body: { measurements: batch.posted },
      expected: batch.expected,
    },
    {
      shape: 'bare array',
      headers: { 'X-Run-Id': runId },
      body: array.posted,
      expected: array.expected,
    },
  ];
};

const readingId = (r: Expected) => `${r.sensorId}/${r.type}/${r.reading}`;

export const runSmoke = async (options: SmokeOptions): Promise<SmokeResult> => {
  const base = options.url.replace(/\/+$/, '');
  const { log } = options;
  const started = Date.now();

  const send = options.fetch ?? fetch;
  const api = createApiClient(base, {
    ...(options.apiToken ? { headers: { authorization: `Bearer ${options.apiToken}` } } : {}),
    fetch: (request) =>
      send(request, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }).catch((error: Error) => {
        throw new StepFailed(`${request.method} ${request.url}: ${error.cause ?? error}`);
      }),
  });
  const expectStatus = (reply: Reply, status: number, what: string): void => {
    if (reply.response.status !== status) {
      throw new StepFailed(
        `${what}: expected ${status}, got ${reply.response.status} ${JSON.stringify(reply.data ?? reply.error)}`,
      );
    }
  };

  let step = 'can-start';
  let runId: string | undefined;
  let finished = false;
  const pass = (detail: string) => log(`✓ ${step.padEnd(12)} ${detail}`);

  try {
    const capacity = await api.GET('/api/runs/can-start');
    expectStatus(capacity, 200, 'GET /api/runs/can-start');
    const { canStart, currentRunning, maxAllowed } = capacity.data!;
    if (!canStart) {
      throw new StepFailed(`no free run slot: ${currentRunning} of ${maxAllowed} runs running`);
    }
    pass(`${currentRunning} of ${maxAllowed} runs running`);

    step = 'start';
    const start = await api.POST('/api/runs/start', {
      body: { duration: 300, interval: 1, sensorIds: SENSORS },
      params: { header: { 'X-User': 'smoke-test' } },
    });
    expectStatus(start, 201, 'POST /api/runs/start');
    runId = start.data?.id;
    if (typeof runId !== 'string' || start.data?.status !== 'RUNNING') {
      throw new StepFailed(
        `the started run has no id or is not RUNNING: ${JSON.stringify(start.data)}`,
      );
    }
    pass(`run ${runId}`);

    step = 'ingest';
    const requests = readingsFor(runId, Date.now());
    for (const request of requests) {
      const reply = await api.POST('/api/sensors/data', {
        body: request.body,
        params: { header: { ...request.headers, 'Idempotency-Key': randomUUID() } },
      });
      expectStatus(reply, 202, `POST /api/sensors/data (${request.shape})`);
      const { accepted, runId: acceptedFor } = reply.data!;
      if (accepted !== request.expected.length || acceptedFor !== runId) {
        throw new StepFailed(
          `${request.shape}: expected {accepted: ${request.expected.length}, runId}, got ${JSON.stringify(reply.data)}`,
        );
      }
      pass(`${request.shape}: 202, ${accepted} accepted`);
    }

    step = 'read back';
    const expected = requests
      .flatMap((request) => request.expected)
      .map(readingId)
      .sort();
    const deadline = Date.now() + options.readBackTimeoutMs;
    let stored: string[] = [];
    for (;;) {
      const reply = await api.GET('/api/sensors/data', {
        params: { query: { runId, limit: 1000 } },
      });
      expectStatus(reply, 200, 'GET /api/sensors/data');
      stored = reply.data!.items.map(readingId).sort();
      if (stored.length >= expected.length || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    if (JSON.stringify(stored) !== JSON.stringify(expected)) {
      throw new StepFailed(
        `after ${options.readBackTimeoutMs / 1000} s the run holds ${stored.length} of ${expected.length} readings; ` +
          `missing ${JSON.stringify(expected.filter((r) => !stored.includes(r)))}, ` +
          `unexpected ${JSON.stringify(stored.filter((r) => !expected.includes(r)))}`,
      );
    }
    pass(`all ${expected.length} readings stored exactly once`);

    step = 'finish';
    const finish = await api.POST('/api/runs/{id}/finish', {
      params: { path: { id: runId } },
      body: { status: 'COMPLETED' },
    });
    expectStatus(finish, 200, `POST /api/runs/${runId}/finish`);
    if (finish.data?.status !== 'COMPLETED') {
      throw new StepFailed(`finished run is ${finish.data?.status}, not COMPLETED`);
    }
    finished = true;
    pass("COMPLETED; the run and its readings stay until the tables' TTL removes them");

    step = 'grafanaUrl';
    await checkGrafana(finish.data.grafanaUrl, runId, base, options, pass);

    log(`Smoke test passed against ${base} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { ok: true, runId };
  } catch (error) {
    if (!(error instanceof StepFailed)) throw error;
    log(`✗ ${step.padEnd(12)} ${error.message}`);
    log(`Smoke test FAILED against ${base} at step "${step}"`);
    return { ok: false, runId };
  } finally {
    if (runId !== undefined && !finished) {
      // Never leave a run holding a slot.
      const cleanup = await api
        .POST('/api/runs/{id}/finish', {
          params: { path: { id: runId } },
          body: { errorMessage: `smoke test failed at ${step}` },
        })
        .then(
          ({ response }) => response.status,
          () => 0,
        );
      log(`  cleanup: run ${runId} finished as FAILED (answer ${cleanup})`);
    }
  }
};

/** grafanaUrl must fit the stage: absent without Grafana, a reachable dashboard link with it. */
const checkGrafana = async (
  grafanaUrl: unknown,
  runId: string,
  apiBase: string,
  options: SmokeOptions,
  pass: (detail: string) => void,
): Promise<void> => {
  if (grafanaUrl === null || grafanaUrl === undefined) {
    if (options.expectGrafana) {
      throw new StepFailed('the stage should run Grafana, but runs carry no grafanaUrl');
    }
    pass('none: this stage has no Grafana');
    return;
  }
  if (typeof grafanaUrl !== 'string' || !/^https?:\/\//.test(grafanaUrl)) {
    throw new StepFailed(`not an http(s) URL: ${JSON.stringify(grafanaUrl)}`);
  }
  if (isLoopback(grafanaUrl) && !isLoopback(apiBase)) {
    throw new StepFailed(`${grafanaUrl} points at the viewer's own machine`);
  }
  if (!grafanaUrl.includes(`var-${SENSORS_DASHBOARD.variables.runId}=${runId}`)) {
    throw new StepFailed(`${grafanaUrl} does not select run ${runId}`);
  }
  const page = await fetch(grafanaUrl, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }).catch(
    (error: Error) => {
      throw new StepFailed(`${grafanaUrl}: ${error.cause ?? error}`);
    },
  );
  if (!page.ok) throw new StepFailed(`${grafanaUrl} answered ${page.status}`);
  pass(`${grafanaUrl} answers ${page.status}`);
  if (!options.expectGrafana) return;

  // Grafana's API, next to the /d/ path of the link.
  const grafanaBase = grafanaUrl.slice(0, grafanaUrl.indexOf('/d/'));
  const { token, user, password } = options.grafanaAuth;
  const authorization = token
    ? `Bearer ${token}`
    : user && password
      ? `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
      : undefined;
  const api = `${grafanaBase}/api/dashboards/uid/${SENSORS_DASHBOARD.uid}`;
  const reply = await fetch(api, {
    headers: authorization ? { authorization } : {},
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  }).catch((error: Error) => {
    throw new StepFailed(`${api}: ${error.cause ?? error}`);
  });
  if ((reply.status === 401 || reply.status === 403) && authorization === undefined) {
    pass(
      `dashboard not verified: ${api} needs credentials (set GRAFANA_TOKEN) or anonymous viewing`,
    );
    return;
  }
  const body = (await reply.json().catch(() => undefined)) as
    { dashboard?: { uid?: string } } | undefined;
  if (reply.status !== 200 || body?.dashboard?.uid !== SENSORS_DASHBOARD.uid) {
    throw new StepFailed(`dashboard ${SENSORS_DASHBOARD.uid}: ${api} answered ${reply.status}`);
  }
  pass(`dashboard ${SENSORS_DASHBOARD.uid} exists`);
};
