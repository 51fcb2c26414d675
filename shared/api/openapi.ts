/**
 * The API's contract as an OpenAPI 3.1 description, built from the same constants the
 * validators use (bounds, id patterns, statuses), so a bound changed in code changes here too.
 * `npm run api` writes it to openapi.json beside this file (served by the local stack at
 * /api/openapi.json, read by the typed client's generator); a test keeps the file current.
 * services/*\/validation property tests hold the validators to these schemas, and the e2e
 * tests hold every answer of the local stack to them (test/support/api-contract.ts).
 */
import { topology } from '../../infra/topology.ts';
import { IDEMPOTENCY_KEY } from '../../services/ingest/app.ts';
import {
  MAX_ERROR_MESSAGE_LENGTH,
  MAX_RUN_BODY_BYTES,
  PAGE_BOUNDS,
  START_BOUNDS,
} from '../../services/run-api/requests.ts';
import { REPORT_LIMITS } from '../../services/run-api/reports.ts';
import { ALL_RUNS_CAP } from '../../services/run-api/runs.ts';
import { QUERY_LIMITS } from '../../services/sensor-query/params.ts';
import {
  DEPLOYMENT_ACTIONS,
  DEPLOYMENT_STATUSES,
  MAX_INFRA_BODY_BYTES,
} from '../../services/infra-api/deployment.ts';
import { MAX_USER_LENGTH, RUN_ID, SAFE_ID } from '../identity.ts';
import {
  DEFAULT_MEASUREMENT_TYPE,
  MEASUREMENT_LIMITS,
  MULTI_READING_TYPES,
  TYPE_PATTERN,
} from '../measurement.ts';
import { RUN_STATUSES } from '../run.ts';
import { SENSORS_DASHBOARD } from '../grafana.ts';

type Schema = Record<string, unknown>;
/** The validators treat a null field as an absent one: an optional field may be null. */
const orNull = (schema: Schema): Schema => ({ anyOf: [schema, { type: 'null' }] });
/** A field present with a value (not null), as the validators test it. */
const present = (field: string): Schema => ({
  required: [field],
  properties: { [field]: { not: { type: 'null' } } },
});
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const responseRef = (name: string): Schema => ({ $ref: `#/components/responses/${name}` });
const json = (schema: Schema, examples?: Record<string, { summary: string; value: unknown }>) => ({
  'application/json': { schema, ...(examples ? { examples } : {}) },
});

const RUN_ID_EXAMPLE = '3f2b8c1e-5d4a-4b7e-9c2f-1a2b3c4d5e6f';
const STARTED_AT = '2026-11-26T10:15:00.000Z';
const { maxAbsReading, minAbsReading } = MEASUREMENT_LIMITS;

/**
 * An ISO-8601 instant as the edge parses it (shared/time.ts): seconds and a zone required,
 * at most nine fraction digits; `format: date-time` adds the calendar (no 30 February).
 */
const ISO_INSTANT_PATTERN =
  '^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])T([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(\\.\\d{1,9})?(Z|[+-]([01]\\d|2[0-3]):[0-5]\\d)$';
const isoInstant: Schema = { type: 'string', format: 'date-time', pattern: ISO_INSTANT_PATTERN };
/** Query instants: the ISO form above, or epoch milliseconds as 1 to 16 digits. */
const instantParam: Schema = {
  anyOf: [isoInstant, { type: 'string', pattern: '^\\d{1,16}$' }],
  description:
    'An ISO-8601 instant with seconds and a zone, or epoch milliseconds; from 1970 to the end of 9999.',
};

const safeId: Schema = { type: 'string', pattern: SAFE_ID.source };
const runId: Schema = {
  type: 'string',
  format: 'uuid',
  pattern: RUN_ID.source,
  example: RUN_ID_EXAMPLE,
};
/** 0, or a magnitude from minAbsReading to maxAbsReading: what DynamoDB and CloudWatch hold. */
const readingValue: Schema = {
  anyOf: [
    { type: 'number', const: 0 },
    { type: 'number', minimum: minAbsReading, maximum: maxAbsReading },
    { type: 'number', minimum: -maxAbsReading, maximum: -minAbsReading },
  ],
  description: `0, or from ${minAbsReading} to ${maxAbsReading} in magnitude (what the stores hold).`,
};

const TIMESTAMP_RULE =
  `Within [now − ${MEASUREMENT_LIMITS.maxAgeMs / 86_400_000} days, now + ` +
  `${MEASUREMENT_LIMITS.maxFutureMs / 60_000} minutes] (a rule no schema can express: it depends on ` +
  `the time of the request; outside it the answer is 400). Absent: the time the request was accepted.`;

const timestamp: Schema = {
  anyOf: [isoInstant, { type: 'integer', description: 'Epoch milliseconds.' }, { type: 'null' }],
  description: TIMESTAMP_RULE,
};

/** Fields every item shape may carry beside its readings. */
const itemCommon: Schema = {
  sensorId: { ...safeId, example: 'temp-1' },
  timestamp,
  id: {
    anyOf: [safeId, { type: 'null' }],
    description:
      'Client id of the reading, part of its identity (re-sends with the same id are stored once); needs `timestamp`.',
  },
  runId: {
    anyOf: [runId, { type: 'null' }],
    description:
      'The run, instead of the X-Run-Id header. In a batch item it must name the run of the request.',
  },
};

/** A client id is for recognising re-sends: a server-assigned time would differ per re-send. */
const idNeedsTimestamp: Schema = { if: present('id'), then: present('timestamp') };

const singleReading: Schema = {
  type: 'object',
  description: `One reading. \`type\` defaults to \`${DEFAULT_MEASUREMENT_TYPE}\`. Unknown fields are ignored.`,
  required: ['sensorId', 'reading'],
  allOf: [present('sensorId'), present('reading'), idNeedsTimestamp],
  properties: {
    ...itemCommon,
    type: orNull({
      type: 'string',
      pattern: TYPE_PATTERN.source,
      default: DEFAULT_MEASUREMENT_TYPE,
      example: 'co2',
    }),
    reading: orNull(readingValue),
  },
  not: { anyOf: MULTI_READING_TYPES.map(present) },
};

const multiReading: Schema = {
  type: 'object',
  description: `Up to ${MULTI_READING_TYPES.length} readings of one sensor at one time, one per field present (in that order). Unknown fields are ignored.`,
  required: ['sensorId'],
  allOf: [present('sensorId'), { anyOf: MULTI_READING_TYPES.map(present) }, idNeedsTimestamp],
  properties: {
    ...itemCommon,
    ...Object.fromEntries(MULTI_READING_TYPES.map((type) => [type, orNull(readingValue)])),
  },
  not: { anyOf: [present('type'), present('reading')] },
};

const errorDetail: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['message'],
  properties: {
    field: {
      type: 'string',
      description: 'Where the problem is: `measurements[3].reading`, `duration`, `X-Run-Id`.',
    },
    message: { type: 'string' },
  },
};

/** The project's error body, with the extra top-level fields some errors add. */
const errorBody = (extra: Record<string, Schema> = {}, required: string[] = []): Schema => ({
  type: 'object',
  additionalProperties: false,
  required: ['error', 'message', 'details', ...required],
  properties: {
    error: { type: 'string', description: 'The same text as `message`.' },
    message: { type: 'string', description: 'What the front end shows.' },
    details: { type: 'array', items: ref('ErrorDetail') },
    ...extra,
  },
});

const run: Schema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'id',
    'runId',
    'username',
    'status',
    'startedAt',
    'duration',
    'interval',
    'sensorIds',
    'params',
    'grafanaUrl',
  ],
  properties: {
    id: runId,
    runId: { ...runId, description: 'The same as `id` (the earlier service named it so).' },
    username: { type: 'string', maxLength: MAX_USER_LENGTH, example: 'alice' },
    status: ref('RunStatus'),
    startedAt: { type: 'string', format: 'date-time', example: STARTED_AT },
    duration: { type: 'number', description: 'Planned length, seconds.', example: 300 },
    interval: { type: 'number', description: 'Seconds between sends.', example: 1 },
    sensorIds: { type: 'array', items: safeId, example: ['temp-1', 'temp-2'] },
    params: {
      type: 'object',
      description:
        'What the client sent as `params`, plus `runId`, `sensorIds`, `duration`, `interval` (the front end reads `params.runId`).',
      required: ['runId', 'sensorIds', 'duration', 'interval'],
      properties: {
        runId,
        sensorIds: { type: 'array', items: safeId },
        duration: { type: 'number' },
        interval: { type: 'number' },
      },
    },
    grafanaUrl: {
      type: ['string', 'null'],
      description: `The sensors dashboard with the run selected (\`var-${SENSORS_DASHBOARD.variables.runId}\`); null where the stage runs no Grafana.`,
    },
    finishedAt: { type: 'string', format: 'date-time' },
    errorMessage: { type: 'string', maxLength: MAX_ERROR_MESSAGE_LENGTH },
    message: {
      type: 'string',
      maxLength: MAX_ERROR_MESSAGE_LENGTH,
      description: "The client's note when finishing.",
    },
  },
};

const runExample = {
  id: RUN_ID_EXAMPLE,
  runId: RUN_ID_EXAMPLE,
  username: 'alice',
  status: 'RUNNING',
  startedAt: STARTED_AT,
  duration: 300,
  interval: 1,
  sensorIds: ['temp-1', 'temp-2'],
  params: { runId: RUN_ID_EXAMPLE, sensorIds: ['temp-1', 'temp-2'], duration: 300, interval: 1 },
  grafanaUrl: `http://localhost:3000/grafana/d/${SENSORS_DASHBOARD.uid}?var-${SENSORS_DASHBOARD.variables.runId}=${RUN_ID_EXAMPLE}`,
};

const startParameters: Schema = {
  type: 'object',
  required: ['duration', 'interval'],
  properties: {
    duration: {
      type: 'number',
      minimum: START_BOUNDS.duration.min,
      maximum: START_BOUNDS.duration.max,
      description: 'Seconds.',
    },
    interval: {
      type: 'number',
      minimum: START_BOUNDS.interval.min,
      maximum: START_BOUNDS.interval.max,
      description: 'Seconds between sends.',
    },
    sensorIds: {
      // parseStartCommand takes null as absent.
      type: ['array', 'null'],
      maxItems: START_BOUNDS.maxSensorIds,
      items: safeId,
      description: 'Duplicates are dropped; null or absent means none.',
    },
  },
};

const DEPLOYMENT_ID_EXAMPLE = '9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f';
const RUN_PAGE_EXAMPLE =
  'https://github.com/owner/iot-playground-serverless/actions/runs/9000000001';
const deploymentExample = {
  deployment_id: DEPLOYMENT_ID_EXAMPLE,
  status: 'IN_PROGRESS',
  terraform_action: 'apply',
  error_message: null,
  workflow_run_url: RUN_PAGE_EXAMPLE,
  github_actions_url: RUN_PAGE_EXAMPLE,
  user: 'alice',
  created_at: 1_795_000_000,
  updated_at: 1_795_000_042,
};
const epochSeconds: Schema = { type: 'integer', minimum: 0, description: 'Epoch seconds.' };

/** The fields of a deployment as the panel reads them, in its record and in a create's answer. */
const DEPLOYMENT_REQUIRED = [
  'deployment_id',
  'status',
  'terraform_action',
  'error_message',
  'workflow_run_url',
  'github_actions_url',
  'user',
  'created_at',
  'updated_at',
];
const deploymentFields: Record<string, Schema> = {
  deployment_id: { type: 'string', format: 'uuid', example: DEPLOYMENT_ID_EXAMPLE },
  status: ref('DeploymentStatus'),
  terraform_action: {
    type: 'string',
    enum: [...DEPLOYMENT_ACTIONS],
    description:
      '`apply` started Grafana (component full), `destroy` removed it (component lambdas).',
  },
  error_message: { type: ['string', 'null'], description: 'Why it FAILED.' },
  workflow_run_url: {
    type: ['string', 'null'],
    format: 'uri',
    description: "The deploy workflow run's page, once GitHub shows the run.",
  },
  github_actions_url: {
    type: 'string',
    description: "The run's page, or the deploy workflow's runs before the run is known.",
  },
  user: {
    type: 'string',
    maxLength: MAX_USER_LENGTH,
    description: 'Who started it (`idle-stop` for the automatic stop).',
  },
  created_at: epochSeconds,
  updated_at: epochSeconds,
};

/** The infrastructure panel's records (services/infra-api), as the front end reads them. */
const infraSchemas: Record<string, Schema> = {
  DeploymentStatus: {
    type: 'string',
    enum: [...DEPLOYMENT_STATUSES],
    description:
      'TRIGGERING: being dispatched; TRIGGERED: dispatched, its run not started; IN_PROGRESS: the run is running (or waiting for an approval); SUCCESS; FAILED (see `error_message`; a cancelled run is FAILED).',
  },
  Deployment: {
    type: 'object',
    additionalProperties: false,
    required: DEPLOYMENT_REQUIRED,
    properties: deploymentFields,
  },
  DeploymentAnswer: {
    type: 'object',
    additionalProperties: false,
    required: ['success', 'deployment'],
    properties: {
      success: { type: 'boolean', const: true },
      deployment: { anyOf: [ref('Deployment'), { type: 'null' }] },
    },
  },
  DeployRequest: {
    type: 'object',
    description: `What the panel sends. Nothing of it reaches the workflow: \`environment\` must be this API's stage and \`mode\` the route's action; \`user\` is a label (the JWT's user where there is one). At most ${MAX_INFRA_BODY_BYTES} bytes.`,
    required: ['environment', 'mode'],
    properties: {
      user: { type: ['string', 'null'], example: 'alice' },
      environment: { type: 'string', example: 'dev' },
      mode: { type: 'string', enum: [...DEPLOYMENT_ACTIONS] },
    },
  },
  DeployAccepted: {
    type: 'object',
    additionalProperties: false,
    required: ['success', 'message', ...DEPLOYMENT_REQUIRED],
    properties: {
      success: { type: 'boolean', const: true },
      message: { type: 'string' },
      ...deploymentFields,
    },
  },
};

const schemas: Record<string, Schema> = {
  ...infraSchemas,
  RunStatus: { type: 'string', enum: [...RUN_STATUSES] },
  Run: run,
  ErrorDetail: errorDetail,
  Error: errorBody(),
  RunLimitError: errorBody(
    { currentRunning: { type: 'integer' }, maxAllowed: { type: 'integer' } },
    ['currentRunning', 'maxAllowed'],
  ),
  RunStateError: errorBody({ status: ref('RunStatus') }),
  MethodNotAllowedError: errorBody(
    { allowed: { type: 'array', items: { type: 'string', enum: ['GET', 'POST'] } } },
    ['allowed'],
  ),
  GatewayError: {
    type: 'object',
    additionalProperties: false,
    required: ['message'],
    properties: { message: { type: 'string' } },
    description:
      "An answer API Gateway gives itself (throttling, authorizer, size, a function that cannot answer); the local gateway gives the same. Its shape can't be changed.",
  },
  Capacity: {
    type: 'object',
    additionalProperties: false,
    required: ['canStart', 'currentRunning', 'maxAllowed', 'available'],
    properties: {
      canStart: { type: 'boolean' },
      currentRunning: { type: 'integer', minimum: 0 },
      maxAllowed: { type: 'integer', minimum: 1 },
      available: { type: 'integer', minimum: 0 },
    },
  },
  StartParameters: startParameters,
  StartRequest: {
    description: `\`{duration, interval, sensorIds?}\`, or the same inside \`params\` (kept with the run, at most ${START_BOUNDS.maxParamsBytes} bytes as JSON). Unknown fields are ignored.`,
    anyOf: [
      {
        ...startParameters,
        not: { required: ['params'], properties: { params: { type: 'object' } } },
      },
      { type: 'object', required: ['params'], properties: { params: startParameters } },
    ],
  },
  FinishRequest: {
    type: 'object',
    description:
      "An `errorMessage` without `status` means FAILED. On a failure `message` is the error message unless `errorMessage` is given; otherwise it is kept as the run's note. SUCCESS means COMPLETED. Empty or null fields count as absent.",
    properties: {
      status: { type: ['string', 'null'], enum: ['COMPLETED', 'SUCCESS', 'FAILED', null] },
      errorMessage: { type: ['string', 'null'], maxLength: MAX_ERROR_MESSAGE_LENGTH },
      message: { type: ['string', 'null'], maxLength: MAX_ERROR_MESSAGE_LENGTH },
    },
  },
  InterruptReport: {
    type: 'object',
    additionalProperties: false,
    required: ['interrupted', 'timestamp', 'message'],
    properties: {
      interrupted: { type: 'integer', minimum: 0 },
      timestamp: { type: 'string', format: 'date-time' },
      message: { type: 'string' },
    },
  },
  RunPage: {
    type: 'object',
    additionalProperties: false,
    required: ['items', 'count'],
    properties: {
      items: { type: 'array', items: ref('Run') },
      count: { type: 'integer', minimum: 0 },
      nextKey: { type: 'string', description: 'Pass back as `lastKey` for the next page.' },
    },
  },
  SingleReading: singleReading,
  MultiReading: multiReading,
  MeasurementItem: { anyOf: [ref('SingleReading'), ref('MultiReading')] },
  MeasurementBatch: {
    type: 'object',
    required: ['measurements'],
    properties: {
      runId: itemCommon.runId,
      measurements: {
        type: 'array',
        minItems: 1,
        maxItems: MEASUREMENT_LIMITS.maxItems,
        items: ref('MeasurementItem'),
      },
    },
  },
  MeasurementRequest: {
    description: `One reading, a multi-reading, \`{measurements: [...]}\` or a bare array (1 to ${MEASUREMENT_LIMITS.maxItems} items). At most ${MEASUREMENT_LIMITS.maxBodyBytes} bytes. One bad item refuses the whole request.`,
    anyOf: [
      {
        type: 'array',
        minItems: 1,
        maxItems: MEASUREMENT_LIMITS.maxItems,
        items: ref('MeasurementItem'),
      },
      ref('MeasurementBatch'),
      { allOf: [ref('MeasurementItem'), { not: { required: ['measurements'] } }] },
    ],
  },
  Accepted: {
    type: 'object',
    additionalProperties: false,
    required: ['accepted', 'runId'],
    properties: {
      accepted: { type: 'integer', minimum: 1, description: 'Readings enqueued.' },
      runId,
    },
  },
  StoredReading: {
    type: 'object',
    additionalProperties: false,
    required: ['runId', 'sensorId', 'type', 'reading', 'timestamp', 'user'],
    properties: {
      runId,
      sensorId: safeId,
      type: { type: 'string', pattern: TYPE_PATTERN.source },
      reading: { type: 'number' },
      timestamp: { type: 'string', format: 'date-time' },
      user: { type: 'string' },
    },
  },
  ReadingPage: {
    type: 'object',
    additionalProperties: false,
    required: ['items', 'count'],
    properties: {
      items: { type: 'array', items: ref('StoredReading') },
      count: { type: 'integer', minimum: 0 },
      nextKey: { type: 'string', description: 'Pass back as `nextKey` for the next page.' },
    },
  },
};

const header = (schema: Schema, description: string, required = false) => ({
  schema,
  description,
  ...(required ? { required: true } : {}),
});

const responses: Record<string, Schema> = {
  BadRequest: {
    description: 'The request is malformed; `details` names every bad field. Nothing is stored.',
    content: json(ref('Error'), {
      invalid: {
        summary: 'A bad field',
        value: {
          error: 'Invalid run parameters',
          message: 'Invalid run parameters',
          details: [{ field: 'duration', message: 'must be from 1 to 86400' }],
        },
      },
    }),
  },
  NotFound: {
    description: 'No such run (also any id that is not a run id), or no route.',
    content: json(ref('Error'), {
      unknown: {
        summary: 'Unknown run',
        value: { error: 'Run not found', message: 'Run not found', details: [] },
      },
    }),
  },
  NotYourRun: {
    description:
      'Under the JWT authorizer, the run belongs to the user who started it: another user (without the admin group or scope) may not finish it or post readings into it.',
    content: json(ref('Error'), {
      other: {
        summary: "Another user's run",
        value: {
          error: `Run ${RUN_ID_EXAMPLE} belongs to another user`,
          message: `Run ${RUN_ID_EXAMPLE} belongs to another user`,
          details: [],
        },
      },
    }),
  },
  RunEnded: {
    description: 'The run is not running; `status` says what it is.',
    content: json(ref('RunStateError'), {
      ended: {
        summary: 'Already finished',
        value: {
          error: `Run ${RUN_ID_EXAMPLE} is not running (status COMPLETED)`,
          message: `Run ${RUN_ID_EXAMPLE} is not running (status COMPLETED)`,
          details: [],
          status: 'COMPLETED',
        },
      },
    }),
  },
  PayloadTooLarge: {
    description: `The body is over the route's limit (the function's error body), or over API Gateway's 10 MiB (its own).`,
    content: json({ anyOf: [ref('Error'), ref('GatewayError')] }),
  },
  Unauthorized: {
    description: "Under the optional JWT authorizer: no or a bad token (API Gateway's answer).",
    content: json(ref('GatewayError'), {
      missing: { summary: 'No token', value: { message: 'Unauthorized' } },
    }),
  },
  Throttled: {
    description: `The stage's throttling (${topology.api.throttle.rateLimit} requests/s, bursts of ${topology.api.throttle.burstLimit}; tighter on the run routes).`,
    content: json(ref('GatewayError'), {
      throttled: { summary: 'Too many requests', value: { message: 'Too Many Requests' } },
    }),
  },
  ServerError: {
    description:
      "An unexpected failure: the function's generic error body (details only in its log), or API Gateway's own when the function could not be invoked or failed.",
    content: json({ anyOf: [ref('Error'), ref('GatewayError')] }),
  },
  MethodNotAllowed: {
    description: 'The path exists, under other methods (the `$default` route answers).',
    headers: {
      Allow: header(
        { type: 'string', pattern: '^(GET|POST)(, (GET|POST))*$' },
        'The methods of the path.',
        true,
      ),
    },
    content: json(ref('MethodNotAllowedError'), {
      put: {
        summary: 'PUT on a run',
        value: {
          error: `Method PUT is not allowed on /api/runs/${RUN_ID_EXAMPLE}`,
          message: `Method PUT is not allowed on /api/runs/${RUN_ID_EXAMPLE}`,
          details: [],
          allowed: ['GET'],
        },
      },
    }),
  },
  MalformedPath: {
    description: "The path's percent-encoding is broken (API Gateway's answer, before any route).",
    content: json(ref('GatewayError'), {
      bad: { summary: 'Broken encoding', value: { message: 'Bad Request' } },
    }),
  },
  BadGateway: {
    description:
      "The function failed, timed out or answered in a wrong shape (API Gateway's answer).",
    content: json(ref('GatewayError'), {
      failed: { summary: 'Function error', value: { message: 'Internal Server Error' } },
    }),
  },
};

/** What every operation may answer besides its own statuses. */
const commonResponses = {
  '401': responseRef('Unauthorized'),
  '429': responseRef('Throttled'),
  '500': responseRef('ServerError'),
  '502': responseRef('BadGateway'),
};

const parameters: Record<string, Schema> = {
  XUser: {
    name: 'X-User',
    in: 'header',
    description: `Who is calling, without the JWT authorizer (under it, the token decides). Sanitised, not refused: characters outside letters, digits, space and \`_ . @ : -\` are dropped, cut to ${MAX_USER_LENGTH}; empty means \`anonymous\`.`,
    schema: { type: 'string', default: 'anonymous' },
    example: 'alice',
  },
  RunIdPath: {
    name: 'id',
    in: 'path',
    required: true,
    description: 'The run id. Anything that is not a run id is 404.',
    schema: { type: 'string' },
    example: RUN_ID_EXAMPLE,
  },
};

const runResponse = (status: string, description: string) => ({
  [status]: {
    description,
    content: json(ref('Run'), { run: { summary: 'A run', value: runExample } }),
  },
});

const paths: Record<string, Record<string, Schema>> = {
  '/api/runs/can-start': {
    get: {
      operationId: 'canStart',
      tags: ['runs'],
      summary: 'Whether a run may start now',
      responses: {
        '200': {
          description: `Run slots: at most MAX_CONCURRENT_RUNS (default 5) run at once, all users together.`,
          content: json(ref('Capacity'), {
            free: {
              summary: 'Two of five running',
              value: { canStart: true, currentRunning: 2, maxAllowed: 5, available: 3 },
            },
          }),
        },
        ...commonResponses,
      },
    },
  },
  '/api/runs/start': {
    post: {
      operationId: 'startRun',
      tags: ['runs'],
      summary: 'Start a run',
      parameters: [{ $ref: '#/components/parameters/XUser' }],
      requestBody: {
        required: true,
        description: `At most ${MAX_RUN_BODY_BYTES} bytes.`,
        content: json(ref('StartRequest'), {
          direct: {
            summary: 'Fields at the top',
            value: { duration: 300, interval: 1, sensorIds: ['temp-1', 'temp-2'] },
          },
          params: {
            summary: "The earlier service's params form",
            value: {
              params: { duration: 60, interval: 0.5, sensorIds: ['temp-1'], label: 'demo' },
            },
          },
        }),
      },
      responses: {
        ...runResponse('201', 'The run, RUNNING.'),
        '400': responseRef('BadRequest'),
        '409': {
          description: 'The run limit is reached.',
          content: json(ref('RunLimitError'), {
            full: {
              summary: 'Five of five running',
              value: {
                error: 'Maximum number of concurrent runs reached',
                message: 'Maximum number of concurrent runs reached',
                details: [],
                currentRunning: 5,
                maxAllowed: 5,
              },
            },
          }),
        },
        '413': responseRef('PayloadTooLarge'),
        ...commonResponses,
      },
    },
  },
  '/api/runs/running': {
    get: {
      operationId: 'listRunningRuns',
      tags: ['runs'],
      summary: 'RUNNING runs, newest first',
      responses: {
        '200': {
          description: 'Runs past their deadline are left out (they are TIMEOUT).',
          content: json(
            { type: 'array', items: ref('Run') },
            {
              one: { summary: 'One run', value: [runExample] },
            },
          ),
        },
        ...commonResponses,
      },
    },
  },
  '/api/runs/all': {
    get: {
      operationId: 'listAllRuns',
      tags: ['runs'],
      summary: 'All runs, newest first',
      responses: {
        '200': {
          description: `At most ${ALL_RUNS_CAP}; \`GET /api/runs\` pages through everything.`,
          content: json(
            { type: 'array', items: ref('Run'), maxItems: ALL_RUNS_CAP },
            {
              one: { summary: 'One run', value: [runExample] },
            },
          ),
        },
        ...commonResponses,
      },
    },
  },
  '/api/runs': {
    get: {
      operationId: 'listRuns',
      tags: ['runs'],
      summary: 'Runs a page at a time, newest first',
      parameters: [
        {
          name: 'limit',
          in: 'query',
          description: 'Runs per page.',
          schema: {
            type: 'integer',
            minimum: 1,
            maximum: PAGE_BOUNDS.maxLimit,
            default: PAGE_BOUNDS.defaultLimit,
          },
        },
        {
          name: 'lastKey',
          in: 'query',
          description: "The previous page's `nextKey`, unchanged (an opaque cursor).",
          schema: { type: 'string' },
        },
      ],
      responses: {
        '200': {
          description: 'A page; `nextKey` is absent on the last one.',
          content: json(ref('RunPage'), {
            page: {
              summary: 'A page with more after it',
              value: { items: [runExample], count: 1, nextKey: 'eyJpZCI6Ii4uLiJ9' },
            },
          }),
        },
        '400': responseRef('BadRequest'),
        ...commonResponses,
      },
    },
  },
  '/api/runs/interrupt-all': {
    post: {
      operationId: 'interruptAllRuns',
      tags: ['runs'],
      summary: 'Interrupt every RUNNING run',
      description:
        "An operator's route. Without the JWT authorizer it has IAM authorization: the request must be signed with SigV4 by a principal allowed `execute-api:Invoke` on it (`npm run admin -- interrupt-all`); under the JWT authorizer the token needs the admin group or scope.",
      security: [{ sigv4: [] }, { jwt: [] }],
      responses: {
        '200': {
          description: 'How many runs became INTERRUPTED.',
          content: json(ref('InterruptReport'), {
            two: {
              summary: 'Two interrupted',
              value: {
                interrupted: 2,
                timestamp: STARTED_AT,
                message: 'Interrupted 2 running run(s)',
              },
            },
          }),
        },
        '403': {
          description:
            "Not an operator: without the JWT authorizer, no valid SigV4 signature (API Gateway's `{message}`); under it, a token without the admin group or scope (the function's error body).",
          content: json(
            { anyOf: [ref('Error'), ref('GatewayError')] },
            {
              unsigned: { summary: 'Not signed', value: { message: 'Forbidden' } },
            },
          ),
        },
        ...commonResponses,
      },
    },
  },
  '/api/runs/{id}': {
    get: {
      operationId: 'getRun',
      tags: ['runs'],
      summary: 'One run',
      parameters: [{ $ref: '#/components/parameters/RunIdPath' }],
      responses: {
        ...runResponse('200', 'The run, with its effective status.'),
        '400': responseRef('MalformedPath'),
        '404': responseRef('NotFound'),
        ...commonResponses,
      },
    },
  },
  '/api/runs/{id}/finish': {
    post: {
      operationId: 'finishRun',
      tags: ['runs'],
      summary: 'Finish a run',
      parameters: [{ $ref: '#/components/parameters/RunIdPath' }],
      requestBody: {
        required: false,
        description: `Optional; none means COMPLETED. At most ${MAX_RUN_BODY_BYTES} bytes.`,
        content: json(ref('FinishRequest'), {
          completed: { summary: 'Completed', value: { status: 'COMPLETED' } },
          abandoned: {
            summary: "The front end's Abandon button",
            value: { status: 'FAILED', message: 'Simulation abandoned by the user' },
          },
        }),
      },
      responses: {
        ...runResponse('200', 'The ended run.'),
        '400': {
          description:
            "The body is malformed (the function's error body, `details` naming every bad field), or the path's percent-encoding is broken (API Gateway's `{message}`).",
          content: json({ anyOf: [ref('Error'), ref('GatewayError')] }),
        },
        '403': responseRef('NotYourRun'),
        '404': responseRef('NotFound'),
        '409': responseRef('RunEnded'),
        '413': responseRef('PayloadTooLarge'),
        ...commonResponses,
      },
    },
  },
  '/api/sensors/data': {
    post: {
      operationId: 'postMeasurements',
      tags: ['sensors'],
      summary: 'Post readings of a run',
      description:
        'Answered 202 only once every reading is in the queue; each reading counted is stored exactly once. A reading is identified by run, sensor, type, timestamp (and `id`): sending it again replaces it.',
      parameters: [
        {
          name: 'X-Run-Id',
          in: 'header',
          description:
            'The run, or `runId` in the body (both: they must agree). A value that is not a run id is 404.',
          schema: { type: 'string' },
          example: RUN_ID_EXAMPLE,
        },
        {
          name: 'Idempotency-Key',
          in: 'header',
          description:
            'A retry with the same key (same run, body and user) gets the first answer, marked `Idempotent-Replayed: true`, and enqueues nothing.',
          schema: { type: 'string', pattern: IDEMPOTENCY_KEY.source },
          example: 'b4f1c2d3-0a1b-4c5d-8e9f-001122334455',
        },
        { $ref: '#/components/parameters/XUser' },
      ],
      requestBody: {
        required: true,
        content: json(ref('MeasurementRequest'), {
          single: {
            summary: 'One reading',
            value: { sensorId: 'temp-1', type: 'temperature', reading: 21.5 },
          },
          multi: {
            summary: 'A multi-reading',
            value: { sensorId: 'temp-1', temperature: 21.5, humidity: 40, pressure: 1013 },
          },
          batch: {
            summary: 'A batch',
            value: {
              measurements: [
                { sensorId: 'temp-1', reading: 21.5, timestamp: STARTED_AT },
                { sensorId: 'co2-1', type: 'co2', reading: 415, timestamp: 1_795_000_000_000 },
              ],
            },
          },
          array: {
            summary: 'A bare array',
            value: [{ sensorId: 'temp-1', reading: 21.5 }],
          },
        }),
      },
      responses: {
        '202': {
          description: 'Every reading is in the queue.',
          headers: {
            'Idempotent-Replayed': header(
              { type: 'string', const: 'true' },
              'The first answer to this Idempotency-Key, returned again; nothing was enqueued.',
            ),
          },
          content: json(ref('Accepted'), {
            accepted: { summary: 'Three readings', value: { accepted: 3, runId: RUN_ID_EXAMPLE } },
          }),
        },
        '400': responseRef('BadRequest'),
        '403': responseRef('NotYourRun'),
        '404': responseRef('NotFound'),
        '409': {
          description:
            'The run ended longer ago than the grace period, or a request with this Idempotency-Key is still in progress (retry it).',
          content: json({ anyOf: [ref('RunStateError'), ref('Error')] }),
        },
        '413': responseRef('PayloadTooLarge'),
        '422': {
          description: 'This Idempotency-Key was used with another body or user.',
          content: json(ref('Error')),
        },
        '503': {
          description:
            'The queue refused the readings even after retries; nothing is promised. Retry.',
          content: json(ref('Error')),
        },
        ...commonResponses,
      },
    },
    get: {
      operationId: 'getMeasurements',
      tags: ['sensors'],
      summary: 'Stored readings, in time order',
      description: 'Needs `runId` or `sensorId` (never a table scan). Each reading once.',
      parameters: [
        { name: 'runId', in: 'query', description: 'The run.', schema: runId },
        {
          name: 'sensorId',
          in: 'query',
          description: 'The sensor.',
          schema: safeId,
          example: 'temp-1',
        },
        { name: 'from', in: 'query', description: 'Inclusive.', schema: instantParam },
        {
          name: 'to',
          in: 'query',
          description: 'Inclusive; not before `from`.',
          schema: instantParam,
        },
        {
          name: 'limit',
          in: 'query',
          description: 'Readings per page.',
          schema: {
            type: 'integer',
            minimum: 1,
            maximum: QUERY_LIMITS.maxLimit,
            default: QUERY_LIMITS.defaultLimit,
          },
        },
        {
          name: 'nextKey',
          in: 'query',
          description:
            "The previous page's `nextKey`, unchanged, with the same query: the next page holds every reading that sorts after the last one handed out, including readings stored since. A cursor that is not one the API issued for this query is a 400.",
          schema: { type: 'string' },
        },
      ],
      responses: {
        '200': {
          description: 'A page; `nextKey` is absent on the last one.',
          content: json(ref('ReadingPage'), {
            page: {
              summary: 'Two readings',
              value: {
                items: [
                  {
                    runId: RUN_ID_EXAMPLE,
                    sensorId: 'temp-1',
                    type: 'temperature',
                    reading: 21.5,
                    timestamp: STARTED_AT,
                    user: 'alice',
                  },
                  {
                    runId: RUN_ID_EXAMPLE,
                    sensorId: 'temp-1',
                    type: 'humidity',
                    reading: 40,
                    timestamp: STARTED_AT,
                    user: 'alice',
                  },
                ],
                count: 2,
              },
            },
          }),
        },
        '400': responseRef('BadRequest'),
        ...commonResponses,
      },
    },
  },
  '/api/reports/download': {
    get: {
      operationId: 'downloadReports',
      tags: ['reports'],
      summary: 'Reports of ended runs, as a ZIP of CSV files',
      description: `One \`report_<runId>.csv\` per ended run whose report is built (seconds after the run ends): the run's fields, then per sensor and type the count, min, max, mean and first/last timestamps. The newest ${REPORT_LIMITS.maxRuns} runs of the range are looked at.`,
      parameters: [
        {
          name: 'runId',
          in: 'query',
          description: 'One run; anything that is not a run id finds nothing (404).',
          schema: { type: 'string' },
          example: RUN_ID_EXAMPLE,
        },
        { name: 'from', in: 'query', description: "Bounds the runs' start.", schema: instantParam },
        { name: 'to', in: 'query', description: "Bounds the runs' start.", schema: instantParam },
      ],
      responses: {
        '200': {
          description: 'The ZIP.',
          headers: {
            'Content-Disposition': header(
              { type: 'string', pattern: '^attachment; filename="reports_\\d{8}T\\d{6}Z\\.zip"$' },
              'The file name.',
              true,
            ),
            'Report-State': header(
              { type: 'string', enum: ['final', 'provisional'] },
              '`final` when every report in the ZIP counts every reading accepted for its run; `provisional` while any may still change (readings in flight, or accepted after the report was built). Each CSV says the same of itself in its `report` column.',
              true,
            ),
            'X-Reports-Omitted': header(
              { type: 'string', pattern: '^[1-9]\\d*$' },
              'More reports matched than one response holds: this many were left out; narrow with runId or from/to.',
            ),
          },
          content: {
            'application/zip': { schema: { type: 'string', contentMediaType: 'application/zip' } },
          },
        },
        '400': responseRef('BadRequest'),
        '404': {
          description: 'No report matches.',
          content: json(ref('Error'), {
            none: {
              summary: 'Nothing built yet',
              value: { error: 'No reports found', message: 'No reports found', details: [] },
            },
          }),
        },
        ...commonResponses,
      },
    },
  },
};

const infraForbidden = {
  description:
    'Not allowed here: under the JWT authorizer the token is not an admin; without it, the stage does not open the panel to anonymous callers (prod never does).',
  content: json(ref('Error')),
};

const deployOperation = (action: 'apply' | 'destroy') => ({
  operationId: action === 'apply' ? 'createInfrastructure' : 'destroyInfrastructure',
  tags: ['infrastructure'],
  summary: action === 'apply' ? "Start the stage's Grafana" : "Stop the stage's Grafana",
  description:
    action === 'apply'
      ? 'Dispatches the deploy workflow on the default branch with this stage and component `full`. One deployment at a time.'
      : 'Dispatches the deploy workflow with this stage and component `lambdas`: removes Grafana only, never the stack serving this API. One deployment at a time.',
  requestBody: {
    required: true,
    content: json(ref('DeployRequest'), {
      panel: {
        summary: "The front end's panel",
        value: { user: 'alice', environment: 'dev', mode: action },
      },
    }),
  },
  responses: {
    '202': {
      description: 'Dispatched; poll `GET /infra/latest-deployment`.',
      content: json(ref('DeployAccepted'), {
        dispatched: {
          summary: 'Dispatched',
          value: {
            success: true,
            message: `${action === 'apply' ? 'Starting' : 'Stopping'} Grafana on dev: deploy workflow dispatched`,
            ...deploymentExample,
            terraform_action: action,
            status: 'TRIGGERED',
          },
        },
      }),
    },
    '400': responseRef('BadRequest'),
    '403': infraForbidden,
    '409': {
      description: 'A deployment is under way; the message says which (the panel shows it).',
      content: json(ref('Error'), {
        busy: {
          summary: 'Already starting',
          value: {
            error: `Grafana is already being started (deployment ${DEPLOYMENT_ID_EXAMPLE}, IN_PROGRESS); try again when it has finished`,
            message: `Grafana is already being started (deployment ${DEPLOYMENT_ID_EXAMPLE}, IN_PROGRESS); try again when it has finished`,
            details: [],
          },
        },
      }),
    },
    '413': responseRef('PayloadTooLarge'),
    '503': {
      description:
        'The panel is not set up on this stage (no GitHub repository or credential), or GitHub refused the dispatch (the deployment is then FAILED with the reason).',
      content: json(ref('Error')),
    },
    ...commonResponses,
  },
});

const infraPaths: Record<string, Record<string, Schema>> = {
  '/infra/create': { post: deployOperation('apply') },
  '/infra/destroy': { post: deployOperation('destroy') },
  '/infra/latest-deployment': {
    get: {
      operationId: 'latestDeployment',
      tags: ['infrastructure'],
      summary: 'The newest deployment',
      description:
        'What the panel polls every 5 s: one read, its state asked of GitHub at most once per INFRA_STATUS_REFRESH_SECONDS (default 10) whoever polls.',
      responses: {
        '200': {
          description: '`deployment` is null when there has been none.',
          content: json(ref('DeploymentAnswer'), {
            running: {
              summary: 'Starting',
              value: { success: true, deployment: deploymentExample },
            },
            none: { summary: 'None yet', value: { success: true, deployment: null } },
          }),
        },
        '403': infraForbidden,
        ...commonResponses,
      },
    },
  },
  '/infra/status/{id}': {
    get: {
      operationId: 'deploymentStatus',
      tags: ['infrastructure'],
      summary: 'One deployment',
      parameters: [
        {
          name: 'id',
          in: 'path',
          required: true,
          description: 'The deployment id. Anything that is not one is 404.',
          schema: { type: 'string' },
          example: DEPLOYMENT_ID_EXAMPLE,
        },
      ],
      responses: {
        '200': {
          description: 'The deployment.',
          content: json(ref('DeploymentAnswer'), {
            done: {
              summary: 'Done',
              value: { success: true, deployment: { ...deploymentExample, status: 'SUCCESS' } },
            },
          }),
        },
        '400': responseRef('MalformedPath'),
        '403': infraForbidden,
        '404': responseRef('NotFound'),
        ...commonResponses,
      },
    },
  },
};

export const openApiDocument = () => ({
  openapi: '3.1.0',
  info: {
    title: 'IoT Playground Serverless API',
    version: '1.0.0',
    description: [
      'Runs of the IoT Playground simulator, the sensor readings posted during them, and their reports; and the infrastructure panel that starts and stops Grafana.',
      '',
      'All bodies are JSON (the report download is a ZIP). An empty query parameter or header counts as absent, and so does a null field in a request body. Errors of the functions are `{error, message, details}` (some add fields); answers API Gateway gives itself are `{message}`. Unknown paths answer 404 and a known path under another method 405 (with `Allow` and `allowed`), both with the error body.',
      '',
      `CORS: preflight is answered by the gateway; allowed request headers ${topology.api.corsAllowedHeaders.join(', ')}; exposed response headers ${topology.api.corsExposedHeaders.join(', ')}.`,
    ].join('\n'),
  },
  servers: [{ url: '/', description: 'This stack' }],
  tags: [
    { name: 'runs', description: 'Start, watch and finish runs' },
    { name: 'sensors', description: 'Post and read readings' },
    { name: 'reports', description: 'Reports of ended runs' },
    {
      name: 'infrastructure',
      description: "The front end's infrastructure panel: Grafana on demand (docs/infra-panel.md)",
    },
  ],
  // The JWT authorizer is optional per stage: without it no token is needed.
  security: [{}, { jwt: [] }],
  paths: { ...paths, ...infraPaths },
  components: {
    schemas,
    responses,
    parameters,
    securitySchemes: {
      sigv4: {
        type: 'apiKey',
        in: 'header',
        name: 'Authorization',
        description:
          'AWS Signature Version 4 (`AWS4-HMAC-SHA256`, service `execute-api`): IAM authorization of the admin routes where the stage has no JWT authorizer.',
      },
      jwt: {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: "Only where the stage configures the JWT authorizer; the user is the token's.",
      },
    },
  },
});

export type OpenApiDocument = ReturnType<typeof openApiDocument>;
