/** The run API's HTTP adapter: routes by API Gateway route key to the use cases in runs.ts. */
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { routeKey, topology } from '#infra/topology.ts';
import { newRunId } from '#shared/run-id.ts';
import { createDocumentClient, createSqsClient } from '#shared/aws-clients.ts';
import { intEnv, optionalEnv, requireEnv } from '#shared/config.ts';
import { decodeCursor, encodeCursor } from '#shared/cursor.ts';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from '#shared/errors.ts';
import {
  header,
  httpHandler,
  jsonResponse,
  parseJsonBody,
  queryParam,
  unmatchedRoute,
  type HttpEvent,
  type HttpResult,
} from '#shared/http.ts';
import {
  callerName,
  callerSubject,
  iamCaller,
  isAdminCaller,
  jwtClaims,
  RUN_ID,
  runActor,
} from '#shared/identity.ts';
import { countRunsFinished, createRunMetrics, publishStored } from '#shared/metrics.ts';
import { RunMetric } from '#shared/metrics-contract.ts';
import { createLogger } from '#shared/powertools.ts';
import { maxConcurrentRunsFromEnv, runGraceMsFromEnv } from '#shared/run.ts';
import { DynamoReportStore, type ReportStore } from '#shared/report-store.ts';
import { DynamoRunStore, RUN_LIST_PK } from '#shared/run-store.ts';
import { SqsReportRequests } from '#shared/report-requests.ts';
import {
  MAX_RUN_BODY_BYTES,
  parseFinishCommand,
  parseLimit,
  parseStartCommand,
} from './requests.ts';
import { downloadReports, parseReportQuery } from './reports.ts';
import * as runs from './runs.ts';

export interface RunApiDeps extends runs.RunDeps {
  logger: Logger;
  /** Run lifecycle counts for the Runs dashboard (published once per invocation). */
  metrics: Metrics;
  /** With a JWT authorizer, interrupt-all (and others' runs) need this group or scope. */
  adminGroup: string;
  reports: ReportStore;
}

/** The index key attributes of `byStartedAt`: what a listing cursor must contain. */
const LIST_CURSOR_ATTRIBUTES = ['id', 'listPk', 'startedKey'] as const;

const routes: Record<string, (event: HttpEvent, deps: RunApiDeps) => Promise<HttpResult>> = {
  'GET /api/runs/can-start': async (_event, deps) => jsonResponse(200, await runs.capacity(deps)),

  'POST /api/runs/start': async (event, deps) => {
    const command = parseStartCommand(parseJsonBody(event, MAX_RUN_BODY_BYTES));
    const claims = jwtClaims(event);
    const username = callerName(claims, header(event, 'x-user'));
    deps.logger.appendKeys({ user: username });
    const owner = claims === undefined ? undefined : callerSubject(claims);
    const run = await runs.startRun(deps, command, username, owner).catch((error: unknown) => {
      // startRun's only conflict is the concurrency limit.
      if (error instanceof ConflictError)
        deps.metrics.addMetric(RunMetric.refused, MetricUnit.Count, 1);
      throw error;
    });
    deps.metrics.addMetric(RunMetric.started, MetricUnit.Count, 1);
    deps.logger.appendKeys({ runId: run.id });
    deps.logger.info('Run started', { duration: run.duration, sensors: run.sensorIds.length });
    return jsonResponse(201, run);
  },

  'GET /api/runs/running': async (_event, deps) => jsonResponse(200, await runs.listRunning(deps)),

  'GET /api/runs/all': async (_event, deps) => jsonResponse(200, await runs.listAll(deps)),

  'GET /api/runs': async (event, deps) => {
    const limit = parseLimit(queryParam(event, 'limit'));
    const cursor = queryParam(event, 'lastKey');
    const startKey = cursor ? decodeListCursor(cursor) : undefined;
    const page = await runs.listPage(deps, limit, startKey);
    return jsonResponse(200, {
      items: page.items,
      count: page.items.length,
      ...(page.lastKey ? { nextKey: encodeCursor(page.lastKey) } : {}),
    });
  },

  'GET /api/runs/{id}': async (event, deps) =>
    jsonResponse(200, await runs.getRun(deps, pathRunId(event, deps))),

  'POST /api/runs/{id}/finish': async (event, deps) => {
    const id = pathRunId(event, deps);
    const command = parseFinishCommand(parseJsonBody(event, MAX_RUN_BODY_BYTES));
    const run = await runs.finishRun(deps, id, command, runActor(event, deps.adminGroup));
    countRunsFinished(deps.metrics, run.status, 1);
    deps.logger.info('Run finished', { status: run.status });
    return jsonResponse(200, run);
  },

  'POST /api/runs/interrupt-all': async (event, deps) => {
    if (!isAdminCaller(event, deps.adminGroup)) {
      throw new ForbiddenError('interrupt-all needs the admin role');
    }
    const report = await runs.interruptAll(deps);
    countRunsFinished(deps.metrics, 'INTERRUPTED', report.interrupted);
    // Who did it, for the audit trail: the signing principal, or the token's user.
    const by = iamCaller(event)?.userArn ?? callerName(jwtClaims(event), undefined);
    deps.logger.info('Runs interrupted', { interrupted: report.interrupted, by });
    return jsonResponse(200, report);
  },

  'GET /api/reports/download': async (event, deps) => {
    const download = await downloadReports(
      deps,
      parseReportQuery(event.queryStringParameters ?? {}),
    );
    deps.logger.info('Reports downloaded', { runs: download.runs, omitted: download.omitted });
    return {
      statusCode: 200,
      headers: {
        'content-type': 'application/zip',
        'content-disposition': `attachment; filename="${download.fileName}"`,
        // `final` when every report in the ZIP is; each CSV says its own (shared/run-report.ts).
        'report-state': download.state,
        // More reports matched than one response holds: narrow with runId or from/to.
        ...(download.omitted > 0 ? { 'x-reports-omitted': String(download.omitted) } : {}),
      },
      body: Buffer.from(download.zip).toString('base64'),
      isBase64Encoded: true,
    };
  },
};

/**
 * The run id of the path. Runs have UUIDs, so anything else names no run: 404 without a read
 * (and slot items, which share the table, are never reachable as runs).
 */
const pathRunId = (event: HttpEvent, deps: RunApiDeps): string => {
  const id = event.pathParameters?.id ?? '';
  if (!RUN_ID.test(id)) throw new NotFoundError(`Run ${id.slice(0, 64)} not found`);
  deps.logger.appendKeys({ runId: id });
  return id;
};

/**
 * A listing cursor, checked value by value: DynamoDB refuses a start key outside the query
 * (another partition, a foreign sort key), and that must be the client's 400, not our 500.
 */
const decodeListCursor = (cursor: string): Record<string, string | number> => {
  const key = decodeCursor(cursor, LIST_CURSOR_ATTRIBUTES, 'lastKey');
  const { id, listPk, startedKey } = key;
  const valid =
    listPk === RUN_LIST_PK &&
    typeof id === 'string' &&
    RUN_ID.test(id) &&
    typeof startedKey === 'string' &&
    startedKey.endsWith(`#${id}`) &&
    Number.isFinite(Date.parse(startedKey.slice(0, -id.length - 1)));
  if (!valid) {
    throw new BadRequestError('lastKey is not a valid cursor', [
      { field: 'lastKey', message: 'pass back the cursor of a previous page unchanged' },
    ]);
  }
  return key;
};

const preflightRouteKey = routeKey(topology.api.preflightRoute);

export const makeHandler = (deps: RunApiDeps) =>
  httpHandler(deps.logger, async (event) => {
    const route = routes[event.routeKey];
    try {
      // Under the JWT authorizer, OPTIONS reaches this function through the stack's
      // unauthenticated `OPTIONS /{proxy+}` route: a preflight answer, CORS headers are the
      // gateway's to add.
      if (event.routeKey === preflightRouteKey) return { statusCode: 204 };
      // `$default` (no route matched at the gateway) lands here too: answer 404 or 405.
      return await (route ? route(event, deps) : unmatchedRoute(event, topology.routes));
    } finally {
      publishStored(deps.metrics);
    }
  });

export const defaultDeps = (): RunApiDeps => {
  const documents = createDocumentClient();
  const table = requireEnv(topology.tables.runs.env);
  const logger = createLogger();
  const store = new DynamoRunStore(documents, table);
  const reports = new DynamoReportStore(documents, table);
  const settings = runSettingsFromEnv();
  return {
    logger,
    metrics: createRunMetrics(topology.functions.runApi.service),
    store,
    reports,
    settings,
    now: Date.now,
    // Time-ordered: the Sensors dashboard lists runs newest first by their ids.
    newId: () => newRunId(),
    adminGroup: optionalEnv('ADMIN_GROUP') ?? 'admin',
    reportRequests: new SqsReportRequests(
      createSqsClient(),
      requireEnv(topology.queues.reports.env),
      logger,
    ),
  };
};

export const runSettingsFromEnv = (env: NodeJS.ProcessEnv = process.env): runs.RunSettings => ({
  maxConcurrentRuns: maxConcurrentRunsFromEnv(env),
  graceMs: runGraceMsFromEnv(env),
  retentionDays: intEnv('RUN_RETENTION_DAYS', 30, { min: 1, max: 3650 }, env),
  // Unset or empty: no Grafana in this stage, runs carry `grafanaUrl: null`.
  grafanaUrl: optionalEnv('GRAFANA_URL', env),
  // The deployment's stage (var-stage in the link); unset locally, where there is one.
  grafanaStage: optionalEnv('GRAFANA_STAGE', env),
});
