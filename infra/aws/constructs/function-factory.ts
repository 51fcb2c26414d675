/**
 * The one way a Lambda of the topology is built: arm64, nodejs22.x, an ESM esbuild bundle with
 * source maps, an explicit log group with retention, the Powertools environment, and the
 * topology's table and queue bindings (grant + environment variable in one call).
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  functionEnvironment,
  type FunctionName,
  type FunctionSpec,
  type QueueName,
  type QueueAccessLevel,
  type TableName,
  topology,
} from '#infra/topology.ts';
import { ESM_REQUIRE_BANNER, LAMBDA_NODE_TARGET, MAIN_FIELDS } from '../../bundling.ts';
import type { StageSettings } from '../stage-config.ts';
import type { IngestionQueue } from './ingestion-queue.ts';
import type { DataTables, TableAccess } from './tables.ts';

/** Repository root: topology entries are relative to it and it holds the lock file. */
export const REPO_ROOT = path.resolve(fileURLToPath(new URL('../../../', import.meta.url)));

export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_22_X;
export const FUNCTION_ARCHITECTURE = lambda.Architecture.ARM_64;

/**
 * Supplies a function's code instead of bundling its entry, so assertion tests synthesize
 * without esbuild runs (and before the handlers exist). The handler must be `index.handler`.
 */
export type CodeProvider = (name: FunctionName, spec: FunctionSpec) => lambda.Code;

export const bundlingOptions = {
  format: OutputFormat.ESM,
  target: LAMBDA_NODE_TARGET,
  mainFields: MAIN_FIELDS,
  minify: true,
  sourceMap: true,
  // The maps are read only to translate stack traces; the sources themselves are not needed.
  sourcesContent: false,
  // The AWS SDK v3 is bundled, not taken from the runtime: the version we test locally is the
  // version that runs, it moves only with our lock file, and tree shaking keeps just the
  // clients we use (the runtime's copy is neither pinned nor smaller to load).
  externalModules: [],
  bundleAwsSDK: true,
  banner: ESM_REQUIRE_BANNER,
  // esbuild is a dev dependency; Docker is neither needed nor assumed.
  forceDockerBundling: false,
  tsconfig: path.join(REPO_ROOT, 'tsconfig.json'),
  logLevel: LogLevel.WARNING,
};

export interface ServiceFunctionProps {
  name: FunctionName;
  settings: StageSettings;
  tables: DataTables;
  queues: Record<QueueName, IngestionQueue>;
  /** Stage-specific values that replace the topology's plain settings. */
  environment?: Record<string, string>;
  code?: CodeProvider;
}

export class ServiceFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly logGroup: logs.LogGroup;
  readonly spec: FunctionSpec;
  private readonly tables: DataTables;
  private readonly queues: Record<QueueName, IngestionQueue>;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id);
    this.spec = topology.functions[props.name];
    this.tables = props.tables;
    this.queues = props.queues;

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.settings.logRetention,
      removalPolicy: props.settings.removalPolicy,
    });

    // An own role instead of AWSLambdaBasicExecutionRole: log writes only to this log group.
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.name} function`,
    });
    this.logGroup.grantWrite(role);

    const code = props.code?.(props.name, this.spec);
    this.fn = new NodejsFunction(this, 'Function', {
      description: this.spec.description,
      runtime: FUNCTION_RUNTIME,
      architecture: FUNCTION_ARCHITECTURE,
      memorySize: this.spec.memoryMb,
      timeout: Duration.seconds(this.spec.timeoutSeconds),
      // Its own executions, from infra/throughput.ts: a flood elsewhere in the account (the
      // other stage's included) cannot take them, and this function cannot take others'.
      reservedConcurrentExecutions: props.settings.throughput.reservedConcurrency[props.name],
      logGroup: this.logGroup,
      // JSON logs let Lambda drop its own INFO lines (START, END, REPORT: ~300 bytes per
      // invocation) while WARN and ERROR platform events stay. The functions already log JSON
      // (Powertools) and EMF, which Lambda passes through unchanged.
      loggingFormat: lambda.LoggingFormat.JSON,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      role,
      environment: {
        ...functionEnvironment(props.name),
        // Stack traces point at the TypeScript sources through the bundled source maps.
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      ...(code
        ? { code, handler: 'index.handler' }
        : {
            entry: path.join(REPO_ROOT, this.spec.entry),
            handler: 'handler',
            projectRoot: REPO_ROOT,
            depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
            bundling: bundlingOptions,
          }),
    });

    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'nodejs22.x is the runtime the project pins (.nvmrc: Node 22 on Lambda, the line ' +
        'tested locally); it is in AWS support. Moving to a newer runtime is a deliberate, ' +
        'tested change of FUNCTION_RUNTIME, not something a linter should force.',
    });

    for (const [table, access] of Object.entries(this.spec.tables) as [TableName, TableAccess][]) {
      this.bindTable(table, access);
    }
    for (const [queue, access] of Object.entries(this.spec.queues) as [
      QueueName,
      QueueAccessLevel,
    ][]) {
      this.bindQueue(queue, access);
    }
  }

  /** Grants exactly `access` on the table and gives its physical name in the topology's env var. */
  bindTable(name: TableName, access: TableAccess): void {
    this.tables.grant(this.fn, name, access);
    this.fn.addEnvironment(topology.tables[name].env, this.tables.tables[name].tableName);
  }

  /** Grants sending to the queue and gives its URL in the topology's env var. */
  bindQueue(name: QueueName, access: QueueAccessLevel): void {
    const { queue } = this.queues[name];
    if (access === 'send') queue.grantSendMessages(this.fn);
    if (access === 'depth') queue.grant(this.fn, 'sqs:GetQueueAttributes');
    this.fn.addEnvironment(topology.queues[name].env, queue.queueUrl);
  }
}
