import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/** A payload-v2 event as API Gateway would send it for `routeKey`. */
export const httpEvent = (
  routeKey: string,
  overrides: Partial<APIGatewayProxyEventV2> & { claims?: Record<string, unknown> } = {},
): APIGatewayProxyEventV2 => {
  const { claims, ...rest } = overrides;
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
    },
    ...rest,
  } as APIGatewayProxyEventV2;
};
