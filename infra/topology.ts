/**
 * The system, declared once. The CDK app (infra/aws) and the local stack (infra/local) are
 * both built from this module, so a route, table or queue setting exists in both or neither.
 * Pure data: no AWS or Node imports, safe to bundle into a Lambda.
 */
import { PIPELINE_NAMESPACE } from '../shared/metrics-contract.ts';

export type FunctionName =
  'runApi' | 'runSweeper' | 'ingest' | 'ingestConsumer' | 'sensorQuery' | 'infraApi';
export type TableName = 'runs' | 'sensorData' | 'idempotency' | 'deployments';
export type QueueName = 'measurements' | 'reports';
export type HttpMethod = 'GET' | 'POST';

/**
 * What a function does with a table; the CDK app grants exactly the calls of each level:
 * `read` lookups and queries, `write` bulk writes of new rows, `readWrite` reads plus single-item
 * puts and updates, `readAndWrite` both `read` and `write`, `idempotency` what Powertools'
 * idempotency records need.
 */
export type TableAccessLevel = 'read' | 'write' | 'readAndWrite' | 'readWrite' | 'idempotency';
export type QueueAccessLevel = 'send' | 'depth';

export interface KeyAttribute {
  name: string;
  type: 'S' | 'N';
}

export interface IndexSpec {
  name: string;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
}

export interface TableSpec {
  /** Environment variable through which functions receive the physical table name. */
  env: string;
  /**
   * Raised when the table's items change meaning: the CDK app and the local stack then make a new
   * table beside the old one instead of reading old items the new way (docs/deploying.md,
   * *Migrations*). Absent: the first.
   */
  generation?: number;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
  indexes: IndexSpec[];
  ttlAttribute?: string;
}

export interface QueueSpec {
  /** Environment variable through which producers receive the queue URL. */
  env: string;
  visibilityTimeoutSeconds: number;
  retentionSeconds: number;
  /** Receives before a message is moved to the dead-letter queue. */
  maxReceiveCount: number;
  deadLetterRetentionSeconds: number;
  consumer: {
    function: FunctionName;
    batchSize: number;
    maxBatchingWindowSeconds: number;
    maxConcurrency: number;
  };
}

export interface FunctionSpec {
  /** Path of the handler module from the repository root; it exports `handler`. */
  entry: string;
  description: string;
  memoryMb: number;
  timeoutSeconds: number;
  /** Powertools service name, also the log and metric `service` value. */
  service: string;
  /** Plain settings; infrastructure may override them per stage. */
  environment: Record<string, string>;
  tables: Partial<Record<TableName, TableAccessLevel>>;
  /** `send` messages; `depth` read how many wait (GetQueueAttributes). */
  queues: Partial<Record<QueueName, QueueAccessLevel>>;
}

export interface RouteSpec {
  method: HttpMethod;
  /** API Gateway path syntax: `{name}` is a path parameter. */
  path: string;
  function: FunctionName;
  /**
   * An operator's route, never the front end's: it needs an authorizer even where the front
   * end's routes are open (see routeAuthorization).
   */
  admin?: true;
}

/** Who API Gateway lets through to a route: anyone, a valid JWT, or a valid SigV4 signature. */
export type RouteAuthorization = 'none' | 'jwt' | 'iam';

/**
 * A route's authorizer. With the JWT authorizer every route needs a token (and admin routes an
 * admin claim, checked by the function). Without it the front end's routes are open, as the
 * front end sends no credentials, but an admin route takes IAM authorization (`AWS_IAM`): only
 * a request signed with SigV4 by a principal allowed `execute-api:Invoke` on it gets through.
 * The CDK app and the local gateway both decide from this.
 */
export const routeAuthorization = (
  route: Pick<RouteSpec, 'admin'> | undefined,
  jwt: boolean,
): RouteAuthorization => (jwt ? 'jwt' : route?.admin ? 'iam' : 'none');

export interface ScheduleSpec {
  function: FunctionName;
  rateMinutes: number;
}

const POWERTOOLS_LOG_LEVEL = 'INFO';

const functions: Record<FunctionName, FunctionSpec> = {
  runApi: {
    entry: 'services/run-api/handler.ts',
    description: 'Run API: start, can-start, finish, interrupt-all and listings',
    memoryMb: 256,
    timeoutSeconds: 10,
    service: 'run-api',
    // GRAFANA_URL is not set here: each deployment gives its own (the stack's Grafana,
    // `-c grafanaUrl`, the local stack's `--grafana-url`); without it runs carry no link.
    environment: {
      MAX_CONCURRENT_RUNS: '5',
      RUN_GRACE_SECONDS: '120',
      RUN_RETENTION_DAYS: '30',
      POWERTOOLS_LOG_LEVEL,
    },
    // sensorData: a download reads reports only; a run's report is built by the sweeper, asked
    // for on the reports queue as the run ends (shared/report-requests.ts).
    tables: { runs: 'readWrite' },
    queues: { reports: 'send' },
  },
  runSweeper: {
    entry: 'services/run-sweeper/handler.ts',
    description:
      'Marks overdue runs TIMEOUT and builds the reports of ended runs, when due and when asked',
    memoryMb: 256,
    // A minute to wait for the deadlines that pass before the next sweep, and time to build
    // their reports after (services/run-sweeper/app.ts).
    timeoutSeconds: 90,
    service: 'run-sweeper',
    environment: {
      MAX_CONCURRENT_RUNS: '5',
      RUN_GRACE_SECONDS: '120',
      RUN_RETENTION_DAYS: '30',
      POWERTOOLS_LOG_LEVEL,
    },
    tables: { runs: 'readWrite', sensorData: 'read' },
    // Report builds wait while the measurement queue has a backlog (services/run-sweeper), and
    // go back on the reports queue meanwhile.
    queues: { measurements: 'depth', reports: 'send' },
  },
  ingest: {
    entry: 'services/ingest/handler.ts',
    description: 'Validates measurements and enqueues them to SQS',
    memoryMb: 512,
    timeoutSeconds: 10,
    service: 'ingest',
    environment: {
      RUN_GRACE_SECONDS: '120',
      IDEMPOTENCY_TTL_SECONDS: '3600',
      POWERTOOLS_LOG_LEVEL,
    },
    // runs: read, and the run's accepted tally (shared/run-tally.ts).
    tables: { runs: 'readWrite', idempotency: 'idempotency' },
    queues: { measurements: 'send' },
  },
  ingestConsumer: {
    entry: 'services/ingest-consumer/handler.ts',
    description: 'Writes queued measurements to DynamoDB exactly once in effect',
    memoryMb: 512,
    timeoutSeconds: 30,
    service: 'ingest-consumer',
    environment: {
      MEASUREMENT_RETENTION_DAYS: '30',
      POWERTOOLS_LOG_LEVEL,
    },
    // No idempotency record: a redelivered or retried message overwrites its own packs
    // (services/ingest-consumer/app.ts). runs: which runs have ended, and their late readings
    // counted; a batch that may complete an ended run's report asks for it on the reports queue.
    tables: { sensorData: 'write', runs: 'readWrite' },
    queues: { reports: 'send' },
  },
  sensorQuery: {
    entry: 'services/sensor-query/handler.ts',
    description: 'Reads stored measurements by run or sensor',
    memoryMb: 256,
    timeoutSeconds: 10,
    service: 'sensor-query',
    environment: { POWERTOOLS_LOG_LEVEL },
    tables: { sensorData: 'read' },
    queues: {},
  },
  // The front end's infrastructure panel (docs/infra-panel.md): starts and stops the stage's
  // Grafana through the deploy workflow, one deployment at a time, and stops an idle Grafana
  // it started. The only function that holds the GitHub credential.
  infraApi: {
    entry: 'services/infra-api/handler.ts',
    description: 'Infrastructure panel: Grafana on demand through the deploy workflow',
    memoryMb: 256,
    timeoutSeconds: 15,
    service: 'infra-api',
    // INFRA_STAGE, INFRA_ANONYMOUS, GITHUB_REPOSITORY and GITHUB_CREDENTIAL_SECRET_ARN come
    // from each deployment (the stage, the CDK context, the local stack).
    environment: {
      GITHUB_API_URL: 'https://api.github.com',
      GITHUB_WORKFLOW: 'deploy.yml',
      // Grafana started from the panel stops after this long without a run (2 h).
      INFRA_IDLE_STOP_SECONDS: '7200',
      // At most one GitHub request per this many seconds, however many tabs poll.
      INFRA_STATUS_REFRESH_SECONDS: '10',
      INFRA_RETENTION_DAYS: '90',
      POWERTOOLS_LOG_LEVEL,
    },
    // runs: the newest run's start, to tell an idle Grafana (the byStartedAt index, Limit 1).
    tables: { deployments: 'readWrite', runs: 'read' },
    queues: {},
  },
};

const routes: RouteSpec[] = [
  { method: 'GET', path: '/api/runs/can-start', function: 'runApi' },
  { method: 'POST', path: '/api/runs/start', function: 'runApi' },
  { method: 'GET', path: '/api/runs/running', function: 'runApi' },
  { method: 'GET', path: '/api/runs/all', function: 'runApi' },
  { method: 'GET', path: '/api/runs', function: 'runApi' },
  { method: 'POST', path: '/api/runs/interrupt-all', function: 'runApi', admin: true },
  { method: 'GET', path: '/api/runs/{id}', function: 'runApi' },
  { method: 'POST', path: '/api/runs/{id}/finish', function: 'runApi' },
  { method: 'POST', path: '/api/sensors/data', function: 'ingest' },
  { method: 'GET', path: '/api/sensors/data', function: 'sensorQuery' },
  { method: 'GET', path: '/api/reports/download', function: 'runApi' },
  // The front end's infrastructure panel calls these at the API's root, as the earlier
  // infrastructure manager served them.
  { method: 'POST', path: '/infra/create', function: 'infraApi' },
  { method: 'POST', path: '/infra/destroy', function: 'infraApi' },
  { method: 'GET', path: '/infra/latest-deployment', function: 'infraApi' },
  { method: 'GET', path: '/infra/status/{id}', function: 'infraApi' },
];

const tables: Record<TableName, TableSpec> = {
  // Runs and the concurrency slots (items `slot#<n>`) share one table: a start claims a slot
  // with a conditional write, so the limit holds without transactions.
  runs: {
    env: 'RUNS_TABLE_NAME',
    partitionKey: { name: 'id', type: 'S' },
    indexes: [
      // Every run, newest first: one constant partition; runs are started by people, so the
      // write rate stays far below a partition's limit.
      {
        name: 'byStartedAt',
        partitionKey: { name: 'listPk', type: 'S' },
        sortKey: { name: 'startedKey', type: 'S' },
      },
      // Sparse: only RUNNING runs carry `runningPk`, so this index holds just the live ones.
      {
        name: 'running',
        partitionKey: { name: 'runningPk', type: 'S' },
        sortKey: { name: 'startedKey', type: 'S' },
      },
      // Sparse: ended runs whose report the sweeper has not built yet, by when it falls due.
      {
        name: 'reportDue',
        partitionKey: { name: 'reportDuePk', type: 'S' },
        sortKey: { name: 'reportDueAt', type: 'N' },
      },
    ],
    ttlAttribute: 'expiresAt',
  },
  sensorData: {
    env: 'SENSOR_DATA_TABLE_NAME',
    // Packs of readings, a partition per run and sensor (shared/reading-pack.ts), and the
    // directory of a run's sensors and a sensor's runs (shared/sensor-directory.ts). No index:
    // it cost a write unit per pack. Generation 2: until then a run's packs were spread over ten
    // partitions by a hash of their key, with a `bySensor` index.
    generation: 2,
    partitionKey: { name: 'runPartition', type: 'S' },
    sortKey: { name: 'packKey', type: 'S' },
    indexes: [],
    ttlAttribute: 'expiresAt',
  },
  // Powertools idempotency records (its default attribute names).
  idempotency: {
    env: 'IDEMPOTENCY_TABLE_NAME',
    partitionKey: { name: 'id', type: 'S' },
    indexes: [],
    ttlAttribute: 'expiration',
  },
  // The infrastructure panel's deployments: the `latest` item (what every poll reads, and the
  // lock a second create or destroy meets) and one item per deployment (services/infra-api).
  deployments: {
    env: 'DEPLOYMENTS_TABLE_NAME',
    partitionKey: { name: 'id', type: 'S' },
    indexes: [],
    ttlAttribute: 'expiresAt',
  },
};

const queues: Record<QueueName, QueueSpec> = {
  measurements: {
    env: 'MEASUREMENT_QUEUE_URL',
    // AWS advises at least six times the consumer's timeout, so a retried batch is not
    // redelivered while a slow invocation still holds it.
    visibilityTimeoutSeconds: 6 * functions.ingestConsumer.timeoutSeconds,
    retentionSeconds: 4 * 24 * 3600,
    maxReceiveCount: 5,
    deadLetterRetentionSeconds: 14 * 24 * 3600,
    consumer: {
      function: 'ingestConsumer',
      // Up to a hundred messages a second an invocation, as in prod (infra/throughput.ts): the
      // sensor metrics of one sensor and type then share one EMF document (its values an
      // array) instead of one each, and receives, deletes and invocations are spread over
      // more messages.
      batchSize: 100,
      maxBatchingWindowSeconds: 1,
      // Five at once. Ten stored the bench's batches of 100 faster on 2 cores (1,689 → 2,420
      // readings/s) but starved everything else: in the chaos soak consumer invocations took
      // 2.9 s on average against its 3 s timeout, and most messages went to the DLQ.
      maxConcurrency: 5,
    },
  },
  // Report builds asked for as a run ends or its late readings land (shared/report-requests.ts).
  reports: {
    env: 'REPORT_QUEUE_URL',
    visibilityTimeoutSeconds: 6 * functions.runSweeper.timeoutSeconds,
    // A request older than a day is moot: the sweeper builds every due report on its schedule.
    retentionSeconds: 24 * 3600,
    maxReceiveCount: 3,
    deadLetterRetentionSeconds: 14 * 24 * 3600,
    consumer: {
      function: 'runSweeper',
      batchSize: 10,
      // At once: the report is wanted within seconds of the run's end.
      maxBatchingWindowSeconds: 0,
      maxConcurrency: 2,
    },
  },
};

const schedules: ScheduleSpec[] = [
  { function: 'runSweeper', rateMinutes: 1 },
  // Follows a deployment nobody polls and stops an idle Grafana the panel started; its own
  // schedule, so the GitHub credential stays with this one function.
  { function: 'infraApi', rateMinutes: 5 },
];

/** API-wide settings shared by API Gateway and the local gateway. */
const api = {
  /** Requests matching no route go here, so unknown paths get the project's JSON errors. */
  defaultRouteFunction: 'runApi' as FunctionName,
  /** API Gateway's own payload limit. */
  maxBodyBytes: 10 * 1024 * 1024,
  corsAllowedHeaders: ['Content-Type', 'Authorization', 'X-User', 'X-Run-Id', 'Idempotency-Key'],
  corsAllowedMethods: ['GET', 'POST', 'OPTIONS'] as string[],
  /**
   * Response headers a browser may read: the ingest marks replayed Idempotency-Key answers, and
   * the report download names its file and says whether its reports are final.
   */
  corsExposedHeaders: ['Idempotent-Replayed', 'Content-Disposition', 'Report-State'],
  corsMaxAgeSeconds: 600,
  /**
   * Under a JWT authorizer, OPTIONS takes this route, which has none (a browser's preflight
   * carries no token); the default route's function answers it with 204.
   */
  preflightRoute: { method: 'OPTIONS', path: '/{proxy+}' },
  throttle: { rateLimit: 500, burstLimit: 1000 },
};

export const topology = { functions, routes, tables, queues, schedules, api } as const;
export type Topology = typeof topology;

export const functionNames = Object.keys(functions) as FunctionName[];
export const tableNames = Object.keys(tables) as TableName[];
export const queueNames = Object.keys(queues) as QueueName[];

/**
 * A function's environment apart from resource bindings: its settings plus the Powertools
 * ones. The CDK app and the local stack both start from this, so they cannot drift apart.
 */
export const functionEnvironment = (name: FunctionName): Record<string, string> => {
  const spec = functions[name];
  return {
    ...spec.environment,
    POWERTOOLS_SERVICE_NAME: spec.service,
    // Pipeline health metrics; the consumer names the sensor namespace itself per metric set.
    POWERTOOLS_METRICS_NAMESPACE: PIPELINE_NAMESPACE,
  };
};

/** `GET /api/runs/{id}` — the route key API Gateway uses and passes in `event.routeKey`. */
export const routeKey = (route: { method: string; path: string }): string =>
  `${route.method} ${route.path}`;
