/**
 * The HTTP API: every topology route, the topology's `$default` function for unmatched
 * requests, CORS, stage throttling, JSON access logs, an optional JWT authorizer and an
 * optional custom domain.
 */
import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';
import type { ThroughputSettings } from '#infra/throughput.ts';
import { type FunctionName, topology } from '#infra/topology.ts';
import type { JwtSettings } from '../stage-config.ts';

export interface ApiCustomDomain {
  domainName: string;
  certificate: acm.ICertificate;
  hostedZone: route53.IHostedZone;
}

export interface PublicApiProps {
  functions: Record<FunctionName, lambda.IFunction>;
  /** The stage's steady request rate and burst (STAGE_THROUGHPUT). */
  throttle: ThroughputSettings['apiThrottle'];
  corsOrigins: string[];
  jwt?: JwtSettings;
  customDomain?: ApiCustomDomain;
  logRetention: logs.RetentionDays;
  removalPolicy: RemovalPolicy;
}

/** The HTTP API's `$context` variables worth keeping per request, as one JSON line. */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  method: '$context.httpMethod',
  path: '$context.path',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
  userAgent: '$context.identity.userAgent',
};

const corsMethod = (method: string): apigw.CorsHttpMethod => {
  const value = apigw.CorsHttpMethod[method as keyof typeof apigw.CorsHttpMethod];
  if (value === undefined) throw new Error(`Unknown CORS method ${method} in the topology`);
  return value;
};

export class PublicApi extends Construct {
  readonly httpApi: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly accessLogGroup: logs.LogGroup;
  /** Base URL clients use: the custom domain when configured, else the execute-api endpoint. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: PublicApiProps) {
    super(scope, id);
    const { api } = topology;

    // One integration per function, shared by its routes.
    const integrations = new Map<FunctionName, HttpLambdaIntegration>();
    const integrationFor = (name: FunctionName): HttpLambdaIntegration => {
      let integration = integrations.get(name);
      if (integration === undefined) {
        integration = new HttpLambdaIntegration(`${name}Integration`, props.functions[name], {
          payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
        });
        integrations.set(name, integration);
      }
      return integration;
    };

    const authorizer = props.jwt
      ? new HttpJwtAuthorizer('JwtAuthorizer', props.jwt.issuer, {
          jwtAudience: props.jwt.audience,
        })
      : undefined;

    this.httpApi = new apigw.HttpApi(this, 'HttpApi', {
      description: 'IoT Playground: runs and sensor measurements',
      // Unmatched requests reach a function that answers with the project's JSON 404/405.
      defaultIntegration: integrationFor(api.defaultRouteFunction),
      defaultAuthorizer: authorizer,
      corsPreflight: {
        allowOrigins: props.corsOrigins,
        allowHeaders: api.corsAllowedHeaders,
        allowMethods: api.corsAllowedMethods.map(corsMethod),
        exposeHeaders: api.corsExposedHeaders,
        maxAge: Duration.seconds(api.corsMaxAgeSeconds),
      },
      // The stage below carries throttling and access logs, which the default stage cannot.
      createDefaultStage: false,
    });

    if (authorizer === undefined) {
      Validations.of(this.httpApi).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'Without jwtIssuer/jwtAudience the API is public by contract: the existing front end ' +
          'and simulator send no credentials. Stage throttling and strict input validation ' +
          'bound abuse; setting the JWT context puts every route behind the authorizer.',
      });
    }

    for (const route of topology.routes) {
      this.httpApi.addRoutes({
        path: route.path,
        methods: [apigw.HttpMethod[route.method]],
        integration: integrationFor(route.function),
      });
    }

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });

    const domainName = props.customDomain
      ? new apigw.DomainName(this, 'DomainName', {
          domainName: props.customDomain.domainName,
          certificate: props.customDomain.certificate,
          endpointType: apigw.EndpointType.REGIONAL,
          securityPolicy: apigw.SecurityPolicy.TLS_1_2,
        })
      : undefined;

    this.stage = new apigw.HttpStage(this, 'Stage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogGroup),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
      domainMapping: domainName ? { domainName } : undefined,
    });

    if (props.customDomain && domainName) {
      new route53.ARecord(this, 'AliasRecord', {
        zone: props.customDomain.hostedZone,
        recordName: props.customDomain.domainName,
        target: route53.RecordTarget.fromAlias(
          new targets.ApiGatewayv2DomainProperties(
            domainName.regionalDomainName,
            domainName.regionalHostedZoneId,
          ),
        ),
      });
      this.url = `https://${props.customDomain.domainName}/`;
    } else {
      this.url = this.stage.url;
    }
  }
}
