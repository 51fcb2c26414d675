/**
 * The system, declared once. The CDK app (infra/aws) and the local stack (infra/local) are
 * both built from this module, so a route, table or queue setting exists in both or neither.
 * Pure data: no AWS or Node imports, safe to bundle into a Lambda.
 */
import { PIPELINE_NAMESPACE } from '../shared/metrics-contract.ts';

export type FunctionName = 'runApi' | 'runSweeper' | 'ingest' | 'ingestConsumer' | 'sensorQuery';
export type TableName = 'runs' | 'sensorData' | 'idempotency';
export type QueueName = 'measurements';
export type HttpMethod = 'GET' | 'POST';

/**
 * What a function does with a table; the CDK app grants exactly the calls of each level:
 * `read` lookups and queries, `write` bulk writes of new rows, `readWrite` reads plus single-item
 * puts and updates, `readAndWrite` both `read` and `write`, `idempotency` what Powertools'
 * idempotency records need.
 */
export type TableAccessLevel = 'read' | 'write' | 'readAndWrite' | 'readWrite' | 'idempotency';

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
  queues: Partial<Record<QueueName, 'send'>>;
}

export interface RouteSpec {
  method: HttpMethod;
  /** API Gateway path syntax: `{name}` is a path parameter. */
  path: string;
  function: FunctionName;
}

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
    // sensorData: a run's report is built as it ends (shared/report-builder.ts).
    tables: { runs: 'readWrite', sensorData: 'read' },
    queues: {},
  },
  runSweeper: {
    entry: 'services/run-sweeper/handler.ts',
    description: 'Marks overdue runs TIMEOUT and builds the reports of ended runs',
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
    queues: {},
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
      IDEMPOTENCY_TTL_SECONDS: '86400',
      // Read to rebuild the report of a run that ended before a batch of it was stored.
      RUN_GRACE_SECONDS: '120',
      RUN_RETENTION_DAYS: '30',
      POWERTOOLS_LOG_LEVEL,
    },
    // A batch stored after its run ended has the run's report rebuilt: it reads the run's packs.
    tables: { sensorData: 'readAndWrite', idempotency: 'idempotency', runs: 'readWrite' },
    queues: {},
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
};

const routes: RouteSpec[] = [
  { method: 'GET', path: '/api/runs/can-start', function: 'runApi' },
  { method: 'POST', path: '/api/runs/start', function: 'runApi' },
  { method: 'GET', path: '/api/runs/running', function: 'runApi' },
  { method: 'GET', path: '/api/runs/all', function: 'runApi' },
  { method: 'GET', path: '/api/runs', function: 'runApi' },
  { method: 'POST', path: '/api/runs/interrupt-all', function: 'runApi' },
  { method: 'GET', path: '/api/runs/{id}', function: 'runApi' },
  { method: 'POST', path: '/api/runs/{id}/finish', function: 'runApi' },
  { method: 'POST', path: '/api/sensors/data', function: 'ingest' },
  { method: 'GET', path: '/api/sensors/data', function: 'sensorQuery' },
  { method: 'GET', path: '/api/reports/download', function: 'runApi' },
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
      batchSize: 10,
      maxBatchingWindowSeconds: 1,
      // Five at once. Ten stored the bench's batches of 100 faster on 2 cores (1,689 → 2,420
      // readings/s) but starved everything else: in the chaos soak consumer invocations took
      // 2.9 s on average against its 3 s timeout, and most messages went to the DLQ.
      maxConcurrency: 5,
    },
  },
};

const schedules: ScheduleSpec[] = [{ function: 'runSweeper', rateMinutes: 1 }];

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
