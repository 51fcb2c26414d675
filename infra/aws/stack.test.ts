/**
 * The `lambdas` component in stage dev (no optional context): the properties the design
 * relies on, read from the synthesized template.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { PIPELINE_NAMESPACE } from '#shared/metrics-contract.ts';
import {
  functionNames,
  queueNames,
  routeKey,
  tableNames,
  topology,
  type FunctionName,
} from '#infra/topology.ts';
import { VISIBILITY_TO_TIMEOUT_RATIO } from './constructs/ingestion-queue.ts';
import { tableActions } from './constructs/tables.ts';
import { NO_GRAFANA, OUTPUTS } from './stack.ts';
import { asArray, logicalId, resourcesOfType, statementsOfRole, useSynth } from './test-support.ts';

const synth = useSynth({ stage: 'dev', component: 'lambdas' });

const functionId = (name: FunctionName): string => logicalId(synth, synth.stack.functions[name].fn);
const roleId = (name: FunctionName): string =>
  logicalId(synth, synth.stack.functions[name].fn.role!);
const tableId = (name: keyof typeof topology.tables): string =>
  logicalId(synth, synth.stack.tables.tables[name]);
const functionEnv = (name: FunctionName): Record<string, unknown> => {
  const resource = synth.template.toJSON().Resources[functionId(name)];
  return resource.Properties.Environment.Variables as Record<string, unknown>;
};

describe('functions', () => {
  it.each(functionNames)('%s runs nodejs22.x on arm64 with the topology sizing', (name) => {
    const spec = topology.functions[name];
    const props = synth.template.toJSON().Resources[functionId(name)].Properties;
    expect(props).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: spec.memoryMb,
      Timeout: spec.timeoutSeconds,
      Handler: 'index.handler',
    });
  });

  it.each(functionNames)('%s logs JSON without the platform START/END/REPORT lines', (name) => {
    // Three platform lines per invocation cost more than the reading at one reading a request.
    const props = synth.template.toJSON().Resources[functionId(name)].Properties;
    expect(props.LoggingConfig).toMatchObject({ LogFormat: 'JSON', SystemLogLevel: 'WARN' });
  });

  it.each(functionNames)('%s has the Powertools env and its topology settings', (name) => {
    const spec = topology.functions[name];
    expect(functionEnv(name)).toMatchObject({
      ...spec.environment,
      POWERTOOLS_SERVICE_NAME: spec.service,
      POWERTOOLS_METRICS_NAMESPACE: PIPELINE_NAMESPACE,
      NODE_OPTIONS: '--enable-source-maps',
    });
  });

  it.each(functionNames)('%s gets exactly its tables and queues through env', (name) => {
    const spec = topology.functions[name];
    const env = functionEnv(name);
    for (const table of tableNames) {
      const variable = topology.tables[table].env;
      if (table in spec.tables) expect(env[variable]).toEqual({ Ref: tableId(table) });
      else expect(env).not.toHaveProperty(variable);
    }
    const queueVariable = topology.queues.measurements.env;
    if ('measurements' in spec.queues) {
      expect(env[queueVariable]).toEqual({
        Ref: logicalId(synth, synth.stack.queues.measurements.queue),
      });
    } else {
      expect(env).not.toHaveProperty(queueVariable);
    }
  });

  it.each(functionNames)('%s logs to its own log group with a retention', (name) => {
    const props = synth.template.toJSON().Resources[functionId(name)].Properties;
    const logGroupId = logicalId(synth, synth.stack.functions[name].logGroup);
    expect(props.LoggingConfig).toMatchObject({ LogGroup: { Ref: logGroupId } });
    expect(synth.template.toJSON().Resources[logGroupId]).toMatchObject({
      Type: 'AWS::Logs::LogGroup',
      Properties: { RetentionInDays: 7 },
      DeletionPolicy: 'Delete',
    });
  });

  it('uses no AWS managed policy (AWSLambdaBasicExecutionRole and the like)', () => {
    for (const name of functionNames) {
      const role = synth.template.toJSON().Resources[roleId(name)];
      expect(role.Properties.ManagedPolicyArns ?? []).toEqual([]);
    }
  });

  it('gives the run API no GRAFANA_URL without a Grafana, and the output says so', () => {
    expect(functionEnv('runApi')).not.toHaveProperty('GRAFANA_URL');
    expect(synth.template.toJSON().Outputs[OUTPUTS.grafanaUrl].Value).toBe(NO_GRAFANA);
  });
});

describe('least privilege', () => {
  const dataActions = (statement: { Action: string | string[] }) =>
    asArray(statement.Action).filter((action) => /^(dynamodb|sqs):/.test(action));

  it('no policy uses a wildcard action, and no data action has a wildcard resource', () => {
    for (const policy of Object.values(resourcesOfType(synth.template, 'AWS::IAM::Policy'))) {
      const document = policy.Properties?.PolicyDocument as {
        Statement: { Action: string | string[]; Resource: unknown }[];
      };
      for (const statement of document.Statement) {
        for (const action of asArray(statement.Action)) expect(action).not.toContain('*');
        if (dataActions(statement).length > 0) {
          expect(JSON.stringify(statement.Resource)).not.toContain('*');
        }
      }
    }
  });

  it('no function may Scan a table', () => {
    const actions = Object.values(resourcesOfType(synth.template, 'AWS::IAM::Policy')).flatMap(
      (policy) =>
        (policy.Properties?.PolicyDocument as { Statement: { Action: string | string[] }[] })
          .Statement,
    );
    expect(actions.flatMap((statement) => asArray(statement.Action))).not.toContain(
      'dynamodb:Scan',
    );
  });

  it.each(functionNames)('%s gets exactly the table access the topology declares', (name) => {
    const spec = topology.functions[name];
    const statements = statementsOfRole(synth.template, roleId(name));
    for (const table of tableNames) {
      const tableArn = { 'Fn::GetAtt': [tableId(table), 'Arn'] };
      const onTable = statements.filter((statement) =>
        asArray(statement.Resource).some(
          (resource) => JSON.stringify(resource) === JSON.stringify(tableArn),
        ),
      );
      const granted = new Set(onTable.flatMap((statement) => asArray(statement.Action)));
      const access = spec.tables[table];
      expect([...granted].sort(), `${name} on ${table}`).toEqual(
        access ? [...tableActions(access)].sort() : [],
      );
    }
  });

  it('only the ingest function may send to the queue, only the consumer may receive, the sweeper read its depth', () => {
    const queueArn = {
      'Fn::GetAtt': [logicalId(synth, synth.stack.queues.measurements.queue), 'Arn'],
    };
    for (const name of functionNames) {
      const actions = statementsOfRole(synth.template, roleId(name))
        .filter((statement) => JSON.stringify(statement.Resource) === JSON.stringify(queueArn))
        .flatMap((statement) => asArray(statement.Action));
      const access = topology.functions[name].queues.measurements;
      expect(actions.includes('sqs:SendMessage'), name).toBe(access === 'send');
      expect(actions.includes('sqs:ReceiveMessage'), name).toBe(
        name === topology.queues.measurements.consumer.function,
      );
      // The sweeper puts report builds off while readings wait: it reads how many, nothing else.
      if (access === 'depth') expect(actions, name).toEqual(['sqs:GetQueueAttributes']);
    }
  });
});

describe('tables', () => {
  it.each(tableNames)('%s is on demand with PITR, TTL and the topology keys', (name) => {
    const spec = topology.tables[name];
    const resource = synth.template.toJSON().Resources[tableId(name)];
    expect(resource.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: spec.ttlAttribute, Enabled: true },
      KeySchema: [
        { AttributeName: spec.partitionKey.name, KeyType: 'HASH' },
        ...(spec.sortKey ? [{ AttributeName: spec.sortKey.name, KeyType: 'RANGE' }] : []),
      ],
    });
    const indexes = (resource.Properties.GlobalSecondaryIndexes ?? []) as { IndexName: string }[];
    expect(indexes.map((index) => index.IndexName)).toEqual(spec.indexes.map((i) => i.name));
    // dev: removed with the stack.
    expect(resource.DeletionPolicy).toBe('Delete');
  });

  it('the idempotency table uses the Powertools default attribute names', () => {
    synth.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
    });
  });
});

describe('measurement queue', () => {
  const spec = topology.queues.measurements;
  const consumer = topology.functions[spec.consumer.function];

  it('has a visibility timeout of at least six times the consumer timeout', () => {
    const queue =
      synth.template.toJSON().Resources[logicalId(synth, synth.stack.queues.measurements.queue)];
    expect(queue.Properties.VisibilityTimeout).toBe(spec.visibilityTimeoutSeconds);
    expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(
      VISIBILITY_TO_TIMEOUT_RATIO * consumer.timeoutSeconds,
    );
  });

  it('redrives to an encrypted DLQ after maxReceiveCount', () => {
    const dlqId = logicalId(synth, synth.stack.queues.measurements.deadLetterQueue);
    const queue =
      synth.template.toJSON().Resources[logicalId(synth, synth.stack.queues.measurements.queue)];
    expect(queue.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
        maxReceiveCount: spec.maxReceiveCount,
      },
    });
    expect(synth.template.toJSON().Resources[dlqId].Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: spec.deadLetterRetentionSeconds,
    });
  });

  it('every queue and its dead-letter queue refuse requests without TLS', () => {
    const policies = resourcesOfType(synth.template, 'AWS::SQS::QueuePolicy');
    expect(Object.keys(policies)).toHaveLength(2 * queueNames.length);
    for (const policy of Object.values(policies)) {
      expect(JSON.stringify(policy.Properties)).toContain('"aws:SecureTransport":"false"');
    }
  });

  it('feeds the consumer with partial batch responses and the topology batching', () => {
    synth.template.resourceCountIs('AWS::Lambda::EventSourceMapping', queueNames.length);
    synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionId(spec.consumer.function) },
      EventSourceArn: {
        'Fn::GetAtt': [logicalId(synth, synth.stack.queues.measurements.queue), 'Arn'],
      },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: spec.consumer.batchSize,
      MaximumBatchingWindowInSeconds: spec.consumer.maxBatchingWindowSeconds,
      ScalingConfig: { MaximumConcurrency: spec.consumer.maxConcurrency },
    });
  });
});

describe('report queue', () => {
  const reports = topology.queues.reports;

  it("feeds the sweeper the run API's and the consumer's report requests at once", () => {
    synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionId(reports.consumer.function) },
      EventSourceArn: {
        'Fn::GetAtt': [logicalId(synth, synth.stack.queues.reports.queue), 'Arn'],
      },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: reports.consumer.batchSize,
      MaximumBatchingWindowInSeconds: 0,
      ScalingConfig: { MaximumConcurrency: reports.consumer.maxConcurrency },
    });
    for (const producer of ['runApi', 'ingestConsumer'] as const) {
      expect(topology.functions[producer].queues).toEqual({ reports: 'send' });
    }
  });
});

describe('HTTP API', () => {
  const integrationTarget = (functionName: FunctionName) => {
    const fnId = functionId(functionName);
    const integrations = resourcesOfType(synth.template, 'AWS::ApiGatewayV2::Integration');
    const ids = Object.entries(integrations)
      .filter(([, integration]) =>
        JSON.stringify(integration.Properties?.IntegrationUri).includes(`"${fnId}"`),
      )
      .map(([id]) => id);
    expect(ids).toHaveLength(1);
    return { 'Fn::Join': ['', ['integrations/', { Ref: ids[0] }]] };
  };

  it.each(topology.routes.map((route) => [routeKey(route), route.function] as const))(
    'routes %s to %s',
    (key, functionName) => {
      synth.template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: key,
        Target: integrationTarget(functionName),
      });
    },
  );

  it('has exactly the topology routes plus $default on the default route function', () => {
    const keys = Object.values(resourcesOfType(synth.template, 'AWS::ApiGatewayV2::Route')).map(
      (route) => route.Properties?.RouteKey,
    );
    expect(keys.sort()).toEqual(['$default', ...topology.routes.map(routeKey)].sort());
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: '$default',
      Target: integrationTarget(topology.api.defaultRouteFunction),
    });
  });

  it('uses payload format 2.0 for every integration', () => {
    for (const integration of Object.values(
      resourcesOfType(synth.template, 'AWS::ApiGatewayV2::Integration'),
    )) {
      expect(integration.Properties).toMatchObject({
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
      });
    }
  });

  it('answers CORS with the topology headers and methods, any origin in dev by default', () => {
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: {
        AllowOrigins: ['*'],
        AllowHeaders: topology.api.corsAllowedHeaders,
        AllowMethods: topology.api.corsAllowedMethods,
        ExposeHeaders: topology.api.corsExposedHeaders,
        MaxAge: topology.api.corsMaxAgeSeconds,
      },
    });
  });

  it('throttles the stage and writes JSON access logs', () => {
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: topology.api.throttle.rateLimit,
        ThrottlingBurstLimit: topology.api.throttle.burstLimit,
      },
      AccessLogSettings: {
        DestinationArn: {
          'Fn::GetAtt': [logicalId(synth, synth.stack.api.accessLogGroup), 'Arn'],
        },
        Format: Match.stringLikeRegexp('"status":"\\$context.status"'),
      },
    });
  });

  it('keeps the execute-api endpoint without a custom domain (it is the API URL)', () => {
    const [api] = Object.values(resourcesOfType(synth.template, 'AWS::ApiGatewayV2::Api'));
    expect(api!.Properties?.DisableExecuteApiEndpoint ?? false).toBe(false);
  });

  it('has no authorizer unless JWT context is given', () => {
    synth.template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
  });

  it('puts admin routes behind IAM authorization and leaves the front end’s routes open', () => {
    // Without JWT the handler cannot tell an operator from anyone: AWS_IAM makes API Gateway
    // refuse a request not signed (SigV4) by a principal allowed execute-api:Invoke
    // (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-access-control-iam.html).
    const routes = Object.values(resourcesOfType(synth.template, 'AWS::ApiGatewayV2::Route'));
    const byKey = new Map(routes.map((route) => [route.Properties?.RouteKey, route.Properties]));
    const admin = topology.routes.filter((route) => route.admin).map(routeKey);
    expect(admin).toEqual(['POST /api/runs/interrupt-all']);
    for (const key of admin) expect(byKey.get(key)).toMatchObject({ AuthorizationType: 'AWS_IAM' });
    for (const [key, props] of byKey) {
      if (admin.includes(key as string)) continue;
      expect(props?.AuthorizationType ?? 'NONE', String(key)).toBe('NONE');
    }
  });

  it('outputs the ARN an operator policy grants execute-api:Invoke on', () => {
    const output = synth.template.toJSON().Outputs[OUTPUTS.adminInvokeArn];
    expect(JSON.stringify(output.Value)).toContain('/POST/api/runs/interrupt-all');
  });
});

describe('sweeper schedule', () => {
  it('invokes the sweeper every minute', () => {
    const [schedule] = topology.schedules;
    expect(schedule).toBeDefined();
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId(schedule!.function), 'Arn'] } }),
      ],
    });
    synth.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [functionId(schedule!.function), 'Arn'] },
    });
  });
});

describe('alarms', () => {
  const alarms = () =>
    Object.values(resourcesOfType(synth.template, 'AWS::CloudWatch::Alarm')).map(
      (alarm) => alarm.Properties as Record<string, unknown>,
    );

  it('fires on any message in the DLQ', () => {
    const dlqName = {
      'Fn::GetAtt': [
        logicalId(synth, synth.stack.queues.measurements.deadLetterQueue),
        'QueueName',
      ],
    };
    expect(alarms()).toContainEqual(
      expect.objectContaining({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: dlqName }],
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      }),
    );
  });

  it('fires when the oldest queued message is too old', () => {
    expect(alarms()).toContainEqual(
      expect.objectContaining({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateAgeOfOldestMessage',
        Threshold: 300,
      }),
    );
  });

  it.each(functionNames)('watches errors and throttles of %s', (name) => {
    for (const metric of ['Errors', 'Throttles']) {
      expect(alarms()).toContainEqual(
        expect.objectContaining({
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId(name) } }],
        }),
      );
    }
  });

  it('watches API 5xx', () => {
    expect(alarms()).toContainEqual(
      expect.objectContaining({ Namespace: 'AWS/ApiGateway', MetricName: '5xx' }),
    );
  });

  it('has no notification topic without alarmEmail', () => {
    synth.template.resourceCountIs('AWS::SNS::Topic', 0);
  });
});

describe('component lambdas', () => {
  it('creates no VPC, NAT gateway or container service', () => {
    for (const type of ['AWS::EC2::VPC', 'AWS::EC2::NatGateway', 'AWS::ECS::Service']) {
      synth.template.resourceCountIs(type, 0);
    }
  });

  it('outputs the API URL, Grafana URL, queue, DLQ and table names', () => {
    const outputs = Object.keys(synth.template.toJSON().Outputs as object);
    expect(outputs).toEqual(
      expect.arrayContaining([
        OUTPUTS.apiUrl,
        OUTPUTS.grafanaUrl,
        OUTPUTS.queueName,
        OUTPUTS.deadLetterQueueName,
        ...tableNames.map(OUTPUTS.tableName),
      ]),
    );
  });

  it('is cdk-nag AwsSolutions clean', () => {
    expect(synth.nagFindings()).toEqual([]);
  });
});
