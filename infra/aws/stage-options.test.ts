/**
 * Stage prod with every optional feature: JWT authorizer, custom domain, alarm e-mail,
 * explicit CORS origins and Grafana URL; plus the configuration's refusals.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { STAGE_THROUGHPUT } from '#infra/throughput.ts';
import { tableNames, topology } from '#infra/topology.ts';
import { REPO_ROOT } from './constructs/function-factory.ts';
import { readDeploymentConfig, type ContextKey } from './stage-config.ts';
import { OUTPUTS } from './stack.ts';
import { logicalId, resourcesOfType, synthesize, useSynth } from './test-support.ts';

const PROD_CONTEXT = {
  stage: 'prod',
  component: 'lambdas',
  corsOrigins: 'https://play.example.com, https://www.example.com',
  jwtIssuer: 'https://auth.example.com/realms/iot',
  jwtAudience: 'iot-playground,iot-simulator',
  domainName: 'api.example.com',
  hostedZoneName: 'example.com',
  hostedZoneId: 'Z0123456789ABCDEFGHIJ',
  alarmEmail: 'ops@example.com',
  grafanaUrl: 'https://grafana.example.org',
};

const synth = useSynth(PROD_CONTEXT);

describe('stage prod', () => {
  it('names the stack after the stage and protects it from deletion', () => {
    expect(synth.stack.stackName).toBe('IotPlayground-prod');
    expect(synth.stack.terminationProtection).toBe(true);
  });

  it.each(tableNames)('retains table %s with deletion protection and PITR', (name) => {
    const table =
      synth.template.toJSON().Resources[logicalId(synth, synth.stack.tables.tables[name])];
    expect(table).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        DeletionProtectionEnabled: true,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      },
    });
  });

  it('is sized for its throughput: a wider API throttle and a consumer of larger batches', () => {
    const { apiThrottle, consumer } = STAGE_THROUGHPUT.prod;
    expect(apiThrottle.rateLimit).toBeGreaterThan(topology.api.throttle.rateLimit);
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: {
        ThrottlingRateLimit: apiThrottle.rateLimit,
        ThrottlingBurstLimit: apiThrottle.burstLimit,
      },
    });
    synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: consumer.batchSize,
      MaximumBatchingWindowInSeconds: consumer.maxBatchingWindowSeconds,
      ScalingConfig: { MaximumConcurrency: consumer.maxConcurrency },
    });
  });

  it('keeps function logs for three months', () => {
    const groupId = logicalId(synth, synth.stack.functions.ingest.logGroup);
    expect(synth.template.toJSON().Resources[groupId]).toMatchObject({
      Properties: { RetentionInDays: 90 },
      DeletionPolicy: 'Retain',
    });
  });

  it('allows only the configured CORS origins', () => {
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.objectLike({
        AllowOrigins: ['https://play.example.com', 'https://www.example.com'],
      }),
    });
  });

  it('gives the run API the configured Grafana URL', () => {
    const fn = synth.template.toJSON().Resources[logicalId(synth, synth.stack.functions.runApi.fn)];
    expect(fn.Properties.Environment.Variables.GRAFANA_URL).toBe(PROD_CONTEXT.grafanaUrl);
  });
});

describe('JWT authorizer', () => {
  it('validates tokens of the configured issuer and audiences', () => {
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: {
        Issuer: PROD_CONTEXT.jwtIssuer,
        Audience: ['iot-playground', 'iot-simulator'],
      },
    });
  });

  it('protects every route, $default included, and leaves only the CORS preflight open', () => {
    const authorizerId = Object.keys(
      resourcesOfType(synth.template, 'AWS::ApiGatewayV2::Authorizer'),
    )[0];
    const routes = Object.values(resourcesOfType(synth.template, 'AWS::ApiGatewayV2::Route'));
    const preflight = routes.filter((route) => route.Properties?.RouteKey === 'OPTIONS /{proxy+}');
    // AWS: with an authorizer on $default, "add an OPTIONS /{proxy+} route ... that doesn't
    // require authorization" (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html).
    expect(preflight).toHaveLength(1);
    expect(preflight[0]!.Properties).toMatchObject({ AuthorizationType: 'NONE' });
    expect(preflight[0]!.Properties).not.toHaveProperty('AuthorizerId');
    const others = routes.filter((route) => route !== preflight[0]);
    expect(others).toHaveLength(topology.routes.length + 1);
    for (const route of others) {
      expect(route.Properties).toMatchObject({
        AuthorizationType: 'JWT',
        AuthorizerId: { Ref: authorizerId },
      });
    }
  });
});

describe('custom domain', () => {
  it('creates a DNS-validated certificate in the given zone', () => {
    synth.template.hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: PROD_CONTEXT.domainName,
      ValidationMethod: 'DNS',
      DomainValidationOptions: [
        { DomainName: PROD_CONTEXT.domainName, HostedZoneId: PROD_CONTEXT.hostedZoneId },
      ],
    });
  });

  it('maps the domain to the API stage and points an alias record at it', () => {
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: PROD_CONTEXT.domainName,
      DomainNameConfigurations: [
        Match.objectLike({ EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' }),
      ],
    });
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::ApiMapping', { Stage: '$default' });
    synth.template.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: `${PROD_CONTEXT.domainName}.`,
      Type: 'A',
      HostedZoneId: PROD_CONTEXT.hostedZoneId,
    });
  });

  it('turns off the default execute-api endpoint, so the domain is the only way in', () => {
    // Otherwise https://<id>.execute-api.<region>.amazonaws.com keeps answering beside the domain
    // (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-disable-default-endpoint.html).
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      DisableExecuteApiEndpoint: true,
    });
  });

  it('outputs the custom domain as the API URL', () => {
    expect(synth.template.toJSON().Outputs[OUTPUTS.apiUrl].Value).toBe(
      `https://${PROD_CONTEXT.domainName}/`,
    );
  });

  it('uses an existing certificate when its ARN is given', () => {
    const withCertificate = synthesize({
      ...PROD_CONTEXT,
      certificateArn: 'arn:aws:acm:eu-west-1:111111111111:certificate/abc',
    });
    try {
      withCertificate.template.resourceCountIs('AWS::CertificateManager::Certificate', 0);
      withCertificate.template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
        DomainNameConfigurations: [
          Match.objectLike({
            CertificateArn: 'arn:aws:acm:eu-west-1:111111111111:certificate/abc',
          }),
        ],
      });
    } finally {
      withCertificate.dispose();
    }
  });
});

describe('alarm e-mail', () => {
  it('subscribes the address to a TLS-only topic', () => {
    synth.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: PROD_CONTEXT.alarmEmail,
    });
    synth.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('lets CloudWatch alarms of this account, and only those, publish to the topic', () => {
    const policies = Object.values(resourcesOfType(synth.template, 'AWS::SNS::TopicPolicy'));
    expect(policies).toHaveLength(1);
    const statements = (policies[0]?.Properties?.PolicyDocument as { Statement: unknown[] })
      .Statement;
    const topicId = Object.keys(resourcesOfType(synth.template, 'AWS::SNS::Topic'))[0];
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: topicId },
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: {
            'aws:SourceArn': {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':cloudwatch:',
                  { Ref: 'AWS::Region' },
                  ':',
                  { Ref: 'AWS::AccountId' },
                  ':alarm:*',
                ],
              ],
            },
          },
        },
      }),
    );
  });

  it('keeps alarm messages SNS could not deliver in an encrypted dead-letter queue', () => {
    // A subscription's redrive policy: "messages that can't be delivered due to client errors
    // or server errors are held in the dead-letter queue"
    // (https://docs.aws.amazon.com/sns/latest/dg/sns-dead-letter-queues.html).
    const topicId = Object.keys(resourcesOfType(synth.template, 'AWS::SNS::Topic'))[0]!;
    const [subscription] = Object.values(resourcesOfType(synth.template, 'AWS::SNS::Subscription'));
    const target = (subscription!.Properties!.RedrivePolicy as { deadLetterTargetArn: unknown })
      .deadLetterTargetArn as { 'Fn::GetAtt': [string, string] };
    const queueId = target['Fn::GetAtt'][0];
    expect(target).toEqual({ 'Fn::GetAtt': [queueId, 'Arn'] });
    expect(synth.template.toJSON().Resources[queueId]).toMatchObject({
      Type: 'AWS::SQS::Queue',
      Properties: { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 },
    });
    // Only this topic may put messages into it, over TLS.
    for (const statement of [
      {
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Condition: { ArnEquals: { 'aws:SourceArn': { Ref: topicId } } },
      },
      { Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
    ]) {
      synth.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike(statement)]) },
      });
    }
    // And an alarm says something is there.
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
    });
  });

  it('notifies the topic from every alarm', () => {
    const topicId = Object.keys(resourcesOfType(synth.template, 'AWS::SNS::Topic'))[0];
    const alarms = Object.values(resourcesOfType(synth.template, 'AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) {
      expect(alarm.Properties?.AlarmActions).toEqual([{ Ref: topicId }]);
    }
  });

  it('uses the prod thresholds', () => {
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 600,
    });
  });
});

describe('cdk-nag', () => {
  it('is AwsSolutions clean with every option on', () => {
    expect(synth.nagFindings()).toEqual([]);
  });
});

describe('deployment configuration', () => {
  const read = (context: Partial<Record<ContextKey, string>>) =>
    readDeploymentConfig((key) => context[key]);

  it('defaults to dev, lambdas and any CORS origin', () => {
    expect(read({})).toMatchObject({ stage: 'dev', component: 'lambdas', corsOrigins: ['*'] });
  });

  it('treats empty values as unset (CI passes -c key= for unset variables)', () => {
    expect(read({ jwtIssuer: '', jwtAudience: ' ', alarmEmail: '' })).toMatchObject({
      jwt: undefined,
      alarmEmail: undefined,
    });
  });

  it.each([
    [{ stage: 'staging' }, /stage=staging must be one of dev, prod/],
    [{ component: 'grafana' }, /component=grafana must be one of lambdas, full/],
    [{ stage: 'prod', alarmEmail: 'ops@example.com' }, /corsOrigins is required for stage prod/],
    [{ stage: 'prod', corsOrigins: '*' }, /alarmEmail is required for stage prod/],
    [
      {
        stage: 'prod',
        corsOrigins: '*',
        alarmEmail: 'a@example.com',
        component: 'full',
        grafanaDomainName: 'g.example.com',
        hostedZoneName: 'example.com',
        grafanaAnonymousViewer: 'true',
      },
      /grafanaAnonymousViewer only behind grafanaAllowedCidrs or Grafana OIDC/,
    ],
    [{ grafanaAllowedCidrs: '10.0.0.0/33' }, /not an IPv4 CIDR/],
    [{ grafanaOidcIssuer: 'https://id.example.com' }, /Grafana OIDC needs all of/],
    [{ monthlyBudgetUsd: '-5' }, /must be a positive number/],
    [{ devAccount: '1234' }, /not a 12-digit account id/],
    [{ corsOrigins: 'https://ok.example.com/path' }, /without a path/],
    [{ jwtIssuer: 'https://auth.example.com' }, /jwtIssuer and jwtAudience must be given together/],
    [{ jwtIssuer: 'http://auth.example.com', jwtAudience: 'a' }, /must be an https URL/],
    [{ domainName: 'api.example.com' }, /needs context hostedZoneName/],
    [{ domainName: 'api.example.org', hostedZoneName: 'example.com' }, /not inside hosted zone/],
    [{ hostedZoneName: 'example.com' }, /need domainName or grafanaDomainName/],
    [{ alarmEmail: 'nobody' }, /not an e-mail address/],
    [{ grafanaUrl: 'http://localhost:3001' }, /points at this machine/],
    [{ grafanaUrl: 'http://127.0.0.1:3000/grafana' }, /points at this machine/],
    [{ grafanaAnonymousViewer: 'yes' }, /must be true or false/],
    // Prod names its front ends: any origin would let every site call the API from a browser.
    [
      { stage: 'prod', corsOrigins: '*', alarmEmail: 'a@example.com' },
      /prod allows no CORS origin \*/,
    ],
    [
      { stage: 'prod', corsOrigins: 'https://a.example.com, *', alarmEmail: 'a@example.com' },
      /prod allows no CORS origin \*/,
    ],
    // Anonymous viewers over plain HTTP, reachable from the whole internet: refused (dev too).
    [
      { component: 'full', grafanaAnonymousViewer: 'true' },
      /anonymous viewer over plain HTTP only behind grafanaAllowedCidrs/,
    ],
    [
      { stage: 'prod', corsOrigins: '*', component: 'full', alarmEmail: 'a@example.com' },
      /prod serves Grafana over HTTPS only/,
    ],
  ] as [Partial<Record<ContextKey, string>>, RegExp][])('refuses %o', (context, message) => {
    expect(() => read(context)).toThrow(message);
  });

  it('lets dev show Grafana anonymously over HTTP to allow-listed addresses, or over HTTPS', () => {
    const restricted = read({
      component: 'full',
      grafanaAnonymousViewer: 'true',
      grafanaAllowedCidrs: '203.0.113.0/24',
    });
    expect(restricted.grafanaAnonymousViewer).toBe(true);
    const https = read({
      component: 'full',
      grafanaAnonymousViewer: 'true',
      grafanaDomainName: 'grafana.example.com',
      hostedZoneName: 'example.com',
    });
    expect(https.grafanaAnonymousViewer).toBe(true);
  });

  it('lets prod run Grafana behind its own domain', () => {
    const config = read({
      stage: 'prod',
      corsOrigins: 'https://play.example.com',
      alarmEmail: 'ops@example.com',
      component: 'full',
      grafanaDomainName: 'grafana.example.com',
      hostedZoneName: 'example.com',
    });
    expect(config.domain?.grafanaDomainName).toBe('grafana.example.com');
  });

  it('synthesizes for `npm run destroy -- -c stage=prod` with no other context', () => {
    const script = (
      JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
        scripts: Record<string, string>;
      }
    ).scripts.destroy!;
    const context = Object.fromEntries(
      [...script.matchAll(/-c (\w+)=(\S+)/g)].map((match) => [match[1], match[2]]),
    );
    // The destroy workflow names component full, so both components' resources are known.
    for (const component of ['lambdas', 'full']) {
      const destroying = synthesize({ ...context, stage: 'prod', component });
      try {
        expect(destroying.stack.stackName).toBe('IotPlayground-prod');
      } finally {
        destroying.dispose();
      }
    }
  });
});
