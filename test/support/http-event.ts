import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/**
 * The caller API Gateway describes after its IAM authorizer accepted a SigV4 signature
 * (`requestContext.authorizer.iam`, as in aws/aws-lambda-go events/testdata/apigw-v2-request-iam.json).
 */
export const IAM_CALLER = {
  accessKey: 'ASIAEXAMPLEOPERATOR1',
  accountId: '123456789012',
  callerId: 'AROAEXAMPLEOPERATOR:ops-session',
  cognitoIdentity: null,
  principalOrgId: null,
  userArn: 'arn:aws:sts::123456789012:assumed-role/operator/ops-session',
  userId: 'AROAEXAMPLEOPERATOR:ops-session',
};

/** A payload-v2 event as API Gateway would send it for `routeKey`. */
export const httpEvent = (
  routeKey: string,
  overrides: Partial<APIGatewayProxyEventV2> & {
    claims?: Record<string, unknown>;
    /** The route's IAM authorizer let a signed request through (IAM_CALLER). */
    iam?: boolean;
  } = {},
): APIGatewayProxyEventV2 => {
  const { claims, iam, ...rest } = overrides;
  const [method = 'GET', path = '/'] = routeKey.split(' ');
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: '',
    headers: {},
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'test',
      domainName: 'test.local',
      domainPrefix: 'test',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'req-1',
      routeKey,
      stage: '$default',
      time: '25/Nov/2026:10:00:00 +0000',
      timeEpoch: 0,
      ...(claims ? { authorizer: { jwt: { claims, scopes: [] } } } : {}),
      ...(iam ? { authorizer: { iam: IAM_CALLER } } : {}),
    },
    ...rest,
  } as APIGatewayProxyEventV2;
};
