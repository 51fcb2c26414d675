/**
 * The local stack: the topology run on one machine. An HTTP gateway, a Lambda invoker, dynalite
 * and the schedules, wired from infra/topology.ts exactly as the CDK app wires AWS.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { apiDocs } from './api-docs/index.ts';
import { fileURLToPath } from 'node:url';
import {
  CONCLUSIONS,
  startLocalGitHub,
  type Conclusion,
  type LocalGitHub,
  type RunTimings,
} from './github/index.ts';
import { startLocalSecretsManager } from './secrets-manager/index.ts';
import { startLocalSns, type PublishedMessage } from './sns/index.ts';
import {
  functionEnvironment as topologyEnvironment,
  functionNames,
  tableNames,
  topology,
  type FunctionName,
  type QueueName,
} from '../topology.ts';
import { bundleFunction, bundleWorker } from './bundle.ts';
import type { DynamoFaults } from './dynamo-faults/index.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION, localTableName, startDynamoDb } from './dynamodb.ts';
import {
  makeGateway,
  makeIamAuthorizer,
  makeJwtAuthorizer,
  type IamPrincipal,
  type JwtAuthorizerConfig,
} from './gateway/index.ts';
import { LambdaInvoker, type FunctionRuntime } from './lambda/index.ts';
import { grafanaPages, localDeployment } from './grafana/index.ts';
import { LOCAL_API_ID, LocalMeter, logGroupOf, type UsageTotals } from './meter/index.ts';
import type { SQSEvent } from 'aws-lambda';
import { MetricsCollector, parseEmf } from './metrics.ts';
import {
  localDeadLetterQueueName,
  localQueueName,
  startQueues,
  type LocalQueues,
  type QueueOverrides,
} from './queues.ts';
import { scheduledEvent, startSchedules } from './scheduler.ts';

/**
 * The one principal the local gateway's IAM authorization knows: the stack's own local
 * credential. An operator signs the admin routes with it (`npm run admin` with
 * AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local, region us-east-1).
 */
export const LOCAL_OPERATOR: IamPrincipal = {
  ...LOCAL_CREDENTIALS,
  accountId: '000000000000',
  userArn: 'arn:aws:iam::000000000000:user/local-operator',
};

export interface LocalStackOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  /** Folder for DynamoDB data and queued messages that survive restarts; in memory when absent. */
  dataDir?: string;
  /** Settings applied to every function, over the topology's (e.g. RUN_GRACE_SECONDS). */
  env?: Record<string, string>;
  /** Settings for one function, over everything else. */
  functionEnv?: Partial<Record<FunctionName, Record<string, string>>>;
  corsOrigins?: string[];
  /** API Gateway's JWT authorizer on every route but OPTIONS, as with jwtIssuer/jwtAudience. */
  jwt?: JwtAuthorizerConfig;
  /** Run the topology's schedules on their rates (tests usually trigger them by hand). */
  schedules?: boolean;
  /** Shorter visibility timeouts or receive counts, so tests see redelivery in seconds. */
  queues?: Partial<Record<QueueName, QueueOverrides>>;
  /** Shorter function timeouts (seconds), e.g. to keep a shortened visibility timeout above them. */
  functionTimeoutSeconds?: Partial<Record<FunctionName, number>>;
  /** Execution environments per function, like Lambda's concurrency. */
  maxEnvironmentsPerFunction?: number;
  /** Where the gateway's access log and the functions' log lines go. */
  log?: (line: string) => void;
  /** How long the GitHub stand-in's workflow runs stay queued and in progress. */
  githubRunTimings?: RunTimings;
}

export interface LocalStack {
  url: string;
  port: number;
  dynamoDbEndpoint: string;
  tables: Record<(typeof tableNames)[number], string>;
  metrics: MetricsCollector;
  /**
   * What the stack served, measured once: the usage totals below and, for the local
   * dashboards, EMF and measured AWS metrics as time series and the functions' log lines.
   */
  meter: LocalMeter;
  sqsEndpoint: string;
  queues: LocalQueues['queues'];
  faults: LocalFaults;
  /** AWS requests counted since start or the last reset: SQS per action, DynamoDB per operation. */
  requestCounts(): { sqs: Record<string, number>; dynamodb: Record<string, number> };
  resetRequestCounts(): void;
  /** What AWS would bill beyond requests (API, Lambda time, DynamoDB units, logs); reset with the counts. */
  usage(): UsageTotals;
  invoke(functionName: FunctionName, event: unknown): Promise<unknown>;
  /** Fires a function's schedule now, as EventBridge would. */
  runSchedule(functionName: FunctionName): Promise<unknown>;
  /** The GitHub REST stand-in the infrastructure panel dispatches the deploy workflow on. */
  github: LocalGitHub;
  /** What was published to the stage's alarm topic. */
  notifications(): PublishedMessage[];
  stop(): Promise<void>;
}

/** The repository and credential the local stack's GitHub stand-in serves. */
export const LOCAL_GITHUB = {
  repository: 'local/iot-playground-serverless',
  token: 'github_pat_local_stand_in_token_with_actions_write',
  secretName: 'IotPlayground-local-infra-panel-github',
  alarmTopic: 'IotPlayground-local-alarms',
  /** The stage the local stack stands for: the panel's `environment`. */
  stage: 'dev',
} as const;

/** Failures the local stack can inject, for tests of the delivery guarantees. */
export interface LocalFaults {
  /** The next `count` SendMessageBatch entries fail (SQS answers them in `Failed`). */
  failSendBatchEntries(count: number): void;
  /** The next `count` SendMessageBatch calls fail as a whole (500 InternalError). */
  failSendBatchCalls(count: number): void;
  /** The next `count` requests of a DynamoDB operation are throttled. */
  throttleDynamoDb(operation: string, count: number): void;
  /** The next `count` BatchWriteItem requests leave half their items unprocessed. */
  leaveWritesUnprocessed(count: number): void;
  /** The next `count` consumer invocations fail before the function runs (a crash). */
  failConsumerInvocations(count: number): void;
  /**
   * The next `count` consumer invocations crash mid-batch: the function processes the first
   * half of the records, then the invocation fails as a whole (nothing is deleted).
   */
  crashConsumerMidBatch(count: number): void;
  /** The next `count` invocations of a function time out within `withinMs` (default 300). */
  timeOutInvocations(functionName: FunctionName, count: number, withinMs?: number): void;
  /** The next `count` invocations of a function have their thread killed within `withinMs`. */
  killInvocations(functionName: FunctionName, count: number, withinMs?: number): void;
  /** The next `count` deploy workflow runs end with `conclusion` (default `failure`). */
  failGitHubRuns(count: number, conclusion?: Conclusion): void;
  clear(): void;
}

/** Planned faults of invocations, taken one per invocation in the order planned. */
type PlannedInvocationFault =
  { kind: 'fail' | 'crashMidBatch' } | { kind: 'timeout' | 'kill'; withinMs: number };

const DEFAULT_FAULT_WINDOW_MS = 300;

const makeFaults = (queues: LocalQueues, dynamo: DynamoFaults, github: LocalGitHub) => {
  const planned = new Map<FunctionName, PlannedInvocationFault[]>();
  const plan = (name: FunctionName, fault: PlannedInvocationFault, count: number) => {
    const list = planned.get(name) ?? [];
    for (let i = 0; i < count; i++) list.push(fault);
    planned.set(name, list);
  };
  const consumer = topology.queues.measurements.consumer.function;
  const faults: LocalFaults = {
    failSendBatchEntries: (count) => queues.server.faults.failSendBatchEntries({ count }),
    failSendBatchCalls: (count) => queues.server.faults.failNextRequests('SendMessageBatch', count),
    throttleDynamoDb: (operation, count) => dynamo.throttle(operation, count),
    leaveWritesUnprocessed: (count) => dynamo.unprocessed(count),
    failConsumerInvocations: (count) => plan(consumer, { kind: 'fail' }, count),
    crashConsumerMidBatch: (count) => plan(consumer, { kind: 'crashMidBatch' }, count),
    timeOutInvocations: (name, count, withinMs = DEFAULT_FAULT_WINDOW_MS) =>
      plan(name, { kind: 'timeout', withinMs }, count),
    killInvocations: (name, count, withinMs = DEFAULT_FAULT_WINDOW_MS) =>
      plan(name, { kind: 'kill', withinMs }, count),
    failGitHubRuns: (count, conclusion) => github.failNextRuns(count, conclusion),
    clear: () => {
      queues.server.faults.clear();
      dynamo.clear();
      github.clearFaults();
      planned.clear();
    },
  };
  const takeInvocationFault = (name: FunctionName) => planned.get(name)?.shift();
  return { faults, takeInvocationFault };
};

/** Runs an invocation under the fault planned for it, if any. */
const invokeUnderFault = async (
  invoker: LambdaInvoker,
  name: FunctionName,
  event: unknown,
  fault: PlannedInvocationFault | undefined,
): Promise<unknown> => {
  switch (fault?.kind) {
    case undefined:
      return invoker.invoke(name, event);
    case 'fail':
      throw new Error(`${name}: injected invocation failure`);
    case 'crashMidBatch': {
      const records = (event as SQSEvent).Records;
      await invoker.invoke(name, { Records: records.slice(0, Math.ceil(records.length / 2)) });
      throw new Error(`${name}: injected crash after ${Math.ceil(records.length / 2)} record(s)`);
    }
    case 'timeout':
      return invoker.invoke(name, event, { timeoutMs: 1 + Math.random() * fault.withinMs });
    case 'kill':
      return invoker.invoke(name, event, { killAfterMs: Math.random() * fault.withinMs });
  }
};

const functionEnvironment = (
  name: FunctionName,
  shared: Record<string, string>,
  queueUrls: Record<QueueName, string>,
  options: LocalStackOptions,
  /** What a deployment gives a function beside the topology's settings (the CDK stack's part). */
  deployment: Partial<Record<FunctionName, Record<string, string>>>,
): Record<string, string> => {
  const spec = topology.functions[name];
  const bindings = Object.fromEntries([
    ...Object.keys(spec.tables).map((table) => [
      topology.tables[table as keyof typeof topology.tables].env,
      localTableName(table as keyof typeof topology.tables),
    ]),
    ...Object.keys(spec.queues).map((queue) => [
      topology.queues[queue as QueueName].env,
      queueUrls[queue as QueueName],
    ]),
  ]);
  return {
    PATH: process.env.PATH ?? '',
    TZ: 'UTC',
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_LAMBDA_FUNCTION_NAME: name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    ...shared,
    ...bindings,
    ...topologyEnvironment(name),
    ...deployment[name],
    ...options.env,
    ...options.functionEnv?.[name],
  };
};

/** The workflow files the GitHub stand-in reads: the repository's own. */
const WORKFLOWS_DIR = fileURLToPath(new URL('../../.github/workflows/', import.meta.url));

export const startLocalStack = async (options: LocalStackOptions = {}): Promise<LocalStack> => {
  const log = options.log ?? (() => undefined);
  const meter = new LocalMeter((name) => topology.functions[name as FunctionName].memoryMb);
  // On AWS the stack creates every function's log group: each exists before its first line.
  for (const name of functionNames) meter.logs.createLogGroup(logGroupOf(name));
  // Functions reach DynamoDB through the fault proxy, which prices each request in its thread.
  const dynamo = await startDynamoDb({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    onRequest: meter.dynamoDb,
  });
  const queues = await startQueues(
    options.queues,
    meter.sqsRequest,
    options.dataDir === undefined ? undefined : join(options.dataDir, 'sqs'),
  );
  const stopSampling = meter.sampleQueues(
    Object.values(queues.queues).flatMap(({ queue, deadLetters }) => [queue, deadLetters]),
  );
  // The infrastructure panel's outside world: GitHub, its credential's secret, the alarm topic.
  const github = await startLocalGitHub({
    repository: LOCAL_GITHUB.repository,
    workflowsDir: WORKFLOWS_DIR,
    workflows: [topology.functions.infraApi.environment.GITHUB_WORKFLOW!],
    tokens: [
      {
        token: LOCAL_GITHUB.token,
        // A fine-grained token as docs/infra-panel.md says to create it.
        permissions: { actions: 'write', metadata: 'read' },
        repositories: [LOCAL_GITHUB.repository],
      },
    ],
    ...(options.githubRunTimings ? { runTimings: options.githubRunTimings } : {}),
  });
  const secrets = await startLocalSecretsManager([
    { name: LOCAL_GITHUB.secretName, value: LOCAL_GITHUB.token },
  ]);
  const sns = await startLocalSns([LOCAL_GITHUB.alarmTopic]);
  const deploymentEnv: Partial<Record<FunctionName, Record<string, string>>> = {
    infraApi: {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      AWS_ENDPOINT_URL_SNS: sns.endpoint,
      GITHUB_API_URL: github.url,
      GITHUB_WEB_URL: github.webUrl,
      GITHUB_REPOSITORY: LOCAL_GITHUB.repository,
      GITHUB_CREDENTIAL_SECRET_ARN: secrets.arnOf(LOCAL_GITHUB.secretName),
      ALARM_TOPIC_ARN: sns.topicArn(LOCAL_GITHUB.alarmTopic),
      INFRA_STAGE: LOCAL_GITHUB.stage,
      // dev opts in to the anonymous panel, as the CDK app's dev stage does by default.
      INFRA_ANONYMOUS: 'true',
    },
  };
  const { faults, takeInvocationFault } = makeFaults(queues, dynamo.faults, github);
  const metrics = new MetricsCollector(meter.emf);
  const shared = {
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.proxyEndpoint,
    AWS_ENDPOINT_URL_SQS: queues.server.endpoint,
  };
  const queueUrls = Object.fromEntries(
    Object.entries(queues.queues).map(([name, { queue }]) => [name, queue.url]),
  ) as Record<QueueName, string>;

  const runtimes: FunctionRuntime[] = functionNames.map((name) => ({
    name,
    bundle: () => bundleFunction(name),
    memoryMb: topology.functions[name].memoryMb,
    timeoutMs:
      (options.functionTimeoutSeconds?.[name] ?? topology.functions[name].timeoutSeconds) * 1000,
    env: functionEnvironment(name, shared, queueUrls, options, deploymentEnv),
  }));
  const invoker = new LambdaInvoker(
    runtimes,
    bundleWorker,
    {
      onLine: (functionName, _stream, line) => {
        const emf = parseEmf(line);
        meter.functionLine(functionName, line, emf !== undefined);
        if (!emf) log(`[${functionName}] ${line}`);
        const refused = emf && metrics.record(emf);
        if (refused) log(`[${functionName}] EMF document refused as CloudWatch would: ${refused}`);
      },
      onInvocation: (functionName, wallMs, cpuMs) => meter.functionRan(functionName, wallMs, cpuMs),
    },
    options.maxEnvironmentsPerFunction,
  );
  const invoke = meter.instrumentInvoke((name, event: unknown) =>
    invokeUnderFault(
      invoker,
      name as FunctionName,
      event,
      takeInvocationFault(name as FunctionName),
    ),
  );

  const gateway = makeGateway({
    ...(options.jwt ? { jwt: makeJwtAuthorizer(options.jwt) } : {}),
    iam: makeIamAuthorizer({ region: LOCAL_REGION, principals: [LOCAL_OPERATOR] }),
    routes: topology.routes,
    defaultRouteFunction: topology.api.defaultRouteFunction,
    maxBodyBytes: topology.api.maxBodyBytes,
    cors: {
      allowOrigins: options.corsOrigins ?? ['*'],
      allowHeaders: topology.api.corsAllowedHeaders,
      allowMethods: topology.api.corsAllowedMethods,
      exposeHeaders: topology.api.corsExposedHeaders,
      maxAgeSeconds: topology.api.corsMaxAgeSeconds,
    },
    invoke,
    log,
  });

  await queues.startConsumers(async (name, event) => {
    return invoke(name, event);
  }, log);

  // DynamoDB requests are counted where they are served: in the DynamoDB thread, in the shared
  // memory its planned faults live in, so a count is exact the moment the answer leaves.
  const requestCounts = () => ({
    sqs: meter.sqsRequests(),
    dynamodb: { ...dynamo.faults.stats().requests },
  });
  const resetRequestCounts = () => {
    dynamo.faults.resetStats();
    meter.resetTotals();
  };
  const controls = localControls({
    notifications: () => sns.published(),
    metrics,
    faults,
    queues,
    meter,
    requestCounts,
    resetRequestCounts,
  });
  // The dashboards get this stack's names, as Grafana's start gives them the stack's on AWS.
  const dashboards = grafanaPages(
    { series: meter.series, logs: meter.logs },
    Date.now,
    localDeployment({
      apiId: LOCAL_API_ID,
      functionLogGroup: logGroupOf,
      queueName: localQueueName,
      deadLetterQueueName: localDeadLetterQueueName,
      tableName: localTableName,
    }),
  );
  const server = createServer((request, response) => {
    const handled =
      controls(request, response) ??
      dashboards(request, response) ??
      apiDocs(request, response) ??
      (meter.apiRequest(response), gateway(request, response));
    handled.catch((error: unknown) => {
      log(`gateway error: ${(error as Error).message}`);
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          error: 'Internal gateway error',
          message: 'Internal gateway error',
          details: [],
        }),
      );
    });
  });
  await once(server.listen(options.port ?? 3000, options.host ?? '127.0.0.1'), 'listening');
  const { port } = server.address() as AddressInfo;
  // grafanaUrl leads to this stack's own dashboards unless a Grafana URL was given. Functions
  // start on their first invocation, so the port is known before the run API reads this.
  const runApiEnv = runtimes.find((runtime) => runtime.name === 'runApi')?.env;
  if (
    runApiEnv &&
    options.env?.GRAFANA_URL === undefined &&
    !options.functionEnv?.runApi?.GRAFANA_URL
  ) {
    runApiEnv.GRAFANA_URL = `${localDashboardBase(options.host, port)}`;
  }

  const runSchedule = (name: FunctionName) => invoke(name, scheduledEvent(`${name}-schedule`));
  const stopSchedules =
    options.schedules === false
      ? () => undefined
      : startSchedules(topology.schedules, async (schedule) => {
          try {
            await runSchedule(schedule.function);
          } catch (error) {
            log(`[schedule ${schedule.function}] ${(error as Error).message}`);
          }
        });

  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    dynamoDbEndpoint: dynamo.endpoint,
    tables: Object.fromEntries(
      tableNames.map((name) => [name, localTableName(name)]),
    ) as LocalStack['tables'],
    metrics,
    meter,
    sqsEndpoint: queues.server.endpoint,
    queues: queues.queues,
    faults,
    requestCounts,
    resetRequestCounts,
    usage: () => meter.usage(),
    invoke,
    runSchedule,
    github,
    notifications: () => sns.published(),
    stop: async () => {
      stopSchedules();
      stopSampling();
      server.close();
      server.closeAllConnections();
      await queues.close();
      await invoker.close();
      await dynamo.close();
      await Promise.all([github.stop(), secrets.stop(), sns.stop()]);
    },
  };
};

/** Base of the local dashboards (`/grafana`), as a browser on this machine reaches it. */
const localDashboardBase = (host: string | undefined, port: number): string => {
  const loopback = host === undefined || ['127.0.0.1', 'localhost', '0.0.0.0'].includes(host);
  return `http://${loopback ? 'localhost' : host}:${port}/grafana`;
};

interface Controls {
  notifications: () => PublishedMessage[];
  metrics: MetricsCollector;
  faults: LocalFaults;
  queues: LocalQueues;
  meter: LocalMeter;
  requestCounts: LocalStack['requestCounts'];
  resetRequestCounts: () => void;
}

/** A fault plan as `POST /local/faults` takes it; every field optional. */
interface FaultPlan {
  sendBatchEntryFailures?: number;
  sendBatchFailures?: number;
  dynamoDbThrottle?: { operation: string; count: number };
  unprocessedBatchWrites?: number;
  consumerFailures?: number;
  consumerCrashesMidBatch?: number;
  functionTimeouts?: { function: string; count: number; withinMs?: number };
  workerKills?: { function: string; count: number; withinMs?: number };
  /** The next deploy workflow runs of the GitHub stand-in fail (or end as `conclusion`). */
  githubRunFailures?: { count: number; conclusion?: string };
}

const applyFaultPlan = (faults: LocalFaults, plan: FaultPlan): void => {
  const count = (value: unknown, field: string): number => {
    if (!Number.isInteger(value) || (value as number) < 0)
      throw new Error(`${field} must be a whole number`);
    return value as number;
  };
  if (plan.sendBatchEntryFailures !== undefined)
    faults.failSendBatchEntries(count(plan.sendBatchEntryFailures, 'sendBatchEntryFailures'));
  if (plan.dynamoDbThrottle !== undefined)
    faults.throttleDynamoDb(
      String(plan.dynamoDbThrottle.operation),
      count(plan.dynamoDbThrottle.count, 'dynamoDbThrottle.count'),
    );
  if (plan.unprocessedBatchWrites !== undefined)
    faults.leaveWritesUnprocessed(count(plan.unprocessedBatchWrites, 'unprocessedBatchWrites'));
  if (plan.consumerFailures !== undefined)
    faults.failConsumerInvocations(count(plan.consumerFailures, 'consumerFailures'));
  if (plan.sendBatchFailures !== undefined)
    faults.failSendBatchCalls(count(plan.sendBatchFailures, 'sendBatchFailures'));
  if (plan.consumerCrashesMidBatch !== undefined)
    faults.crashConsumerMidBatch(count(plan.consumerCrashesMidBatch, 'consumerCrashesMidBatch'));
  if (plan.githubRunFailures !== undefined) {
    const { conclusion } = plan.githubRunFailures;
    if (conclusion !== undefined && !(CONCLUSIONS as readonly string[]).includes(conclusion)) {
      throw new Error(`githubRunFailures.conclusion must be one of ${CONCLUSIONS.join(', ')}`);
    }
    faults.failGitHubRuns(
      count(plan.githubRunFailures.count, 'githubRunFailures.count'),
      conclusion as Conclusion | undefined,
    );
  }
  const invocationFaults = [
    ['functionTimeouts', faults.timeOutInvocations],
    ['workerKills', faults.killInvocations],
  ] as const;
  for (const [field, inject] of invocationFaults) {
    const planned = plan[field];
    if (planned === undefined) continue;
    if (!(functionNames as readonly unknown[]).includes(planned.function)) {
      throw new Error(`${field}.function must be one of ${functionNames.join(', ')}`);
    }
    inject(
      planned.function as FunctionName,
      count(planned.count, `${field}.count`),
      planned.withinMs === undefined ? undefined : count(planned.withinMs, `${field}.withinMs`),
    );
  }
};

const readJson = async (request: IncomingMessage): Promise<unknown> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? {} : (JSON.parse(text) as unknown);
};

/**
 * `/local/*`: the stack's own endpoints, outside the API's route table — gathered metrics,
 * AWS request counts and queue depths, and fault injection for tests and experiments.
 */
const localControls =
  ({
    notifications,
    metrics,
    faults,
    queues,
    meter,
    requestCounts,
    resetRequestCounts,
  }: Controls) =>
  (request: IncomingMessage, response: ServerResponse): Promise<void> | undefined => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith('/local/')) return undefined;
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    const route = `${request.method} ${url.pathname}`;
    switch (route) {
      case 'GET /local/health':
        send(200, { status: 'ok' });
        break;
      case 'GET /local/metrics': {
        const namespace = url.searchParams.get('namespace') ?? undefined;
        const name = url.searchParams.get('name') ?? undefined;
        send(200, {
          documents: metrics.documents,
          refused: { documents: metrics.refused, reasons: metrics.refusals },
          series: metrics.list({ namespace, name }),
        });
        break;
      }
      case 'DELETE /local/metrics':
        metrics.clear();
        send(200, { cleared: true });
        break;
      case 'GET /local/stats':
        send(200, {
          requests: requestCounts(),
          usage: meter.usage(),
          queues: Object.fromEntries(
            Object.entries(queues.queues).map(([name, { queue, deadLetters }]) => [
              name,
              { ...queue.counts(), deadLetters: deadLetters.counts() },
            ]),
          ),
        });
        break;
      case 'GET /local/resources':
        send(200, {
          sqsEndpoint: queues.server.endpoint,
          queues: Object.fromEntries(
            Object.entries(queues.queues).map(([name, { queue, deadLetters }]) => [
              name,
              {
                url: queue.url,
                arn: queue.arn,
                consumer: topology.queues[name as QueueName].consumer.function,
                deadLetters: { url: deadLetters.url, arn: deadLetters.arn },
              },
            ]),
          ),
        });
        break;
      case 'GET /local/logs':
        send(200, {
          lines: meter.logs
            .of(logGroupOf(url.searchParams.get('function') ?? ''))
            .map((line) => line.message),
        });
        break;
      case 'GET /local/notifications':
        send(200, { messages: notifications() });
        break;
      case 'DELETE /local/stats':
        resetRequestCounts();
        send(200, { cleared: true });
        break;
      case 'POST /local/faults':
        return readJson(request)
          .then(
            (plan) => {
              applyFaultPlan(faults, plan as FaultPlan);
              send(200, { planned: plan });
            },
            () => send(400, { error: 'Fault plan is not valid JSON', details: [] }),
          )
          .catch((error: unknown) => send(400, { error: (error as Error).message, details: [] }));
      case 'DELETE /local/faults':
        faults.clear();
        send(200, { cleared: true });
        break;
      default:
        send(404, { error: `No local control at ${route}`, details: [] });
    }
    return Promise.resolve();
  };
