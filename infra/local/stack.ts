/**
 * The local stack: the topology run on one machine. An HTTP gateway, a Lambda invoker, dynalite
 * and the schedules, wired from infra/topology.ts exactly as the CDK app wires AWS.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { functionNames, tableNames, topology, type FunctionName } from '../topology.ts';
import { bundleFunction, bundleWorker } from './bundle.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION, localTableName, startDynamoDb } from './dynamodb.ts';
import { makeGateway } from './gateway.ts';
import { LambdaInvoker, type FunctionRuntime } from './invoker.ts';
import { MetricsCollector, parseEmf } from './metrics.ts';
import { scheduledEvent, startSchedules } from './scheduler.ts';

export interface LocalStackOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  /** Folder for DynamoDB data that survives restarts; in memory when absent. */
  dataDir?: string;
  /** Settings applied to every function, over the topology's (e.g. RUN_GRACE_SECONDS). */
  env?: Record<string, string>;
  /** Settings for one function, over everything else. */
  functionEnv?: Partial<Record<FunctionName, Record<string, string>>>;
  corsOrigins?: string[];
  /** Run the topology's schedules on their rates (tests usually trigger them by hand). */
  schedules?: boolean;
  /** Execution environments per function, like Lambda's concurrency. */
  maxEnvironmentsPerFunction?: number;
  /** Where the gateway's access log and the functions' log lines go. */
  log?: (line: string) => void;
}

export interface LocalStack {
  url: string;
  port: number;
  dynamoDbEndpoint: string;
  tables: Record<(typeof tableNames)[number], string>;
  metrics: MetricsCollector;
  invoke(functionName: FunctionName, event: unknown): Promise<unknown>;
  /** Fires a function's schedule now, as EventBridge would. */
  runSchedule(functionName: FunctionName): Promise<unknown>;
  stop(): Promise<void>;
}

const functionEnvironment = (
  name: FunctionName,
  shared: Record<string, string>,
  options: LocalStackOptions,
): Record<string, string> => {
  const spec = topology.functions[name];
  const bindings = Object.fromEntries(
    Object.keys(spec.tables).map((table) => [
      topology.tables[table as keyof typeof topology.tables].env,
      localTableName(table as keyof typeof topology.tables),
    ]),
  );
  return {
    PATH: process.env.PATH ?? '',
    TZ: 'UTC',
    NODE_OPTIONS: '--enable-source-maps',
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_LAMBDA_FUNCTION_NAME: name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    POWERTOOLS_SERVICE_NAME: spec.service,
    ...shared,
    ...bindings,
    ...spec.environment,
    ...options.env,
    ...options.functionEnv?.[name],
  };
};

export const startLocalStack = async (options: LocalStackOptions = {}): Promise<LocalStack> => {
  const log = options.log ?? (() => undefined);
  const dynamo = await startDynamoDb(options.dataDir ? { dataDir: options.dataDir } : {});
  const metrics = new MetricsCollector();
  const shared = { AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint };

  const runtimes: FunctionRuntime[] = functionNames.map((name) => ({
    name,
    bundle: () => bundleFunction(name),
    memoryMb: topology.functions[name].memoryMb,
    timeoutMs: topology.functions[name].timeoutSeconds * 1000,
    env: functionEnvironment(name, shared, options),
  }));
  const invoker = new LambdaInvoker(
    runtimes,
    bundleWorker,
    {
      onLine: (functionName, _stream, line) => {
        const emf = parseEmf(line);
        if (emf) metrics.record(emf);
        else log(`[${functionName}] ${line}`);
      },
    },
    options.maxEnvironmentsPerFunction,
  );

  const gateway = makeGateway({
    routes: topology.routes,
    defaultRouteFunction: topology.api.defaultRouteFunction,
    maxBodyBytes: topology.api.maxBodyBytes,
    cors: {
      allowOrigins: options.corsOrigins ?? ['*'],
      allowHeaders: topology.api.corsAllowedHeaders,
      allowMethods: topology.api.corsAllowedMethods,
      maxAgeSeconds: topology.api.corsMaxAgeSeconds,
    },
    invoke: (name, event) => invoker.invoke(name, event),
    log,
  });

  const controls = localControls(metrics);
  const server = createServer((request, response) => {
    const handled = controls(request, response) ?? gateway(request, response);
    handled.catch((error: unknown) => {
      log(`gateway error: ${(error as Error).message}`);
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: 'Internal gateway error', details: [] }));
    });
  });
  server.listen(options.port ?? 3000, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  const runSchedule = (name: FunctionName) =>
    invoker.invoke(name, scheduledEvent(`${name}-schedule`));
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
    invoke: (name, event) => invoker.invoke(name, event),
    runSchedule,
    stop: async () => {
      stopSchedules();
      server.close();
      server.closeAllConnections();
      await invoker.close();
      await dynamo.close();
    },
  };
};

/** `/local/*`: the stack's own endpoints, outside the API's route table. */
const localControls =
  (metrics: MetricsCollector) =>
  (request: IncomingMessage, response: ServerResponse): Promise<void> | undefined => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith('/local/')) return undefined;
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    const route = `${request.method} ${url.pathname}`;
    if (route === 'GET /local/health') send(200, { status: 'ok' });
    else if (route === 'GET /local/metrics') {
      const namespace = url.searchParams.get('namespace') ?? undefined;
      const name = url.searchParams.get('name') ?? undefined;
      send(200, { documents: metrics.documents, series: metrics.list({ namespace, name }) });
    } else if (route === 'DELETE /local/metrics') {
      metrics.clear();
      send(200, { cleared: true });
    } else send(404, { error: `No local control at ${route}`, details: [] });
    return Promise.resolve();
  };
