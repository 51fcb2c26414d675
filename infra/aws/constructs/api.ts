/**
 * The HTTP API: every topology route, the topology's `$default` function for unmatched
 * requests, CORS, stage throttling, JSON access logs, an optional JWT authorizer (else IAM
 * authorization on the admin routes) and an optional custom domain.
 */
import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';
import type { ThroughputSettings } from '#infra/throughput.ts';
import { type FunctionName, routeAuthorization, routeKey, topology } from '#infra/topology.ts';
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
  routeThrottles: ThroughputSettings['routeThrottles'];
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

/** The unauthenticated preflight route a JWT-protected API needs. */

/** The throttle of a route that has its own, or undefined (the stage's applies). */
const routeThrottle = (
  route: (typeof topology.routes)[number],
  throttles: ThroughputSettings['routeThrottles'],
) => {
  switch (route.function) {
    case 'runApi':
      return routeKey(route) === INTERRUPT_ALL_ROUTE ? throttles.interruptAll : throttles.runApi;
    case 'ingest':
      return throttles.ingest;
    case 'sensorQuery':
      return throttles.sensorQuery;
    // The infrastructure panel: at worst an anonymous caller starts or stops Grafana, slowly.
    case 'infraApi':
      return route.method === 'POST' ? throttles.infraPanelDeploy : throttles.infraPanelRead;
    default:
      return undefined;
  }
};

/**
 * Per-route throttles (stage RouteSettings): every run API route, interrupt-all lowest, the
 * data routes — posting readings and reading them back — and the infrastructure panel's routes,
 * each within the stage's throttle.
 */
export const routeSettings = (throttles: ThroughputSettings['routeThrottles']) =>
  Object.fromEntries(
    topology.routes.flatMap((route) => {
      const throttle = routeThrottle(route, throttles);
      if (throttle === undefined) return [];
      // RouteSettings is untyped JSON in CloudFormation: its keys are written as is.
      return [
        [
          routeKey(route),
          { ThrottlingRateLimit: throttle.rateLimit, ThrottlingBurstLimit: throttle.burstLimit },
        ],
      ];
    }),
  );

export const INTERRUPT_ALL_ROUTE = 'POST /api/runs/interrupt-all';

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
  /** What an operator's policy allows `execute-api:Invoke` on: the IAM-authorized routes. */
  readonly iamRouteArns: string[] = [];

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
      // With a custom domain, the domain is the only way in: the default
      // https://<id>.execute-api.<region>.amazonaws.com endpoint would otherwise keep answering
      // (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-disable-default-endpoint.html).
      disableExecuteApiEndpoint: props.customDomain !== undefined,
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
      const iam = routeAuthorization(route, authorizer !== undefined) === 'iam';
      this.httpApi.addRoutes({
        path: route.path,
        methods: [apigw.HttpMethod[route.method]],
        integration: integrationFor(route.function),
        // Otherwise the API's default: the JWT authorizer, or none.
        ...(iam ? { authorizer: new HttpIamAuthorizer() } : {}),
      });
      if (iam) this.iamRouteArns.push(this.httpApi.arnForExecuteApi(route.method, route.path));
    }

    if (authorizer) {
      // The authorizer on `$default` would catch browsers' CORS preflights (they carry no
      // token) and answer 401. AWS: "add an OPTIONS /{proxy+} route ... that doesn't require
      // authorization and attach an integration"; it outranks `$default`
      // (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html).
      const [preflight] = this.httpApi.addRoutes({
        path: topology.api.preflightRoute.path,
        methods: [apigw.HttpMethod.OPTIONS],
        integration: integrationFor(api.defaultRouteFunction),
        authorizer: new apigw.HttpNoneAuthorizer(),
      });
      Validations.of(preflight!).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'CORS preflight: browsers send OPTIONS without credentials, so this route must not ' +
          'require the JWT; the run API answers it with 204 and no data, every other route ' +
          'stays behind the authorizer.',
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
    (this.stage.node.defaultChild as apigw.CfnStage).routeSettings = routeSettings(
      props.routeThrottles,
    );

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
