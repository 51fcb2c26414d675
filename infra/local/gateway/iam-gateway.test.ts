/**
 * The local gateway without a JWT authorizer, as API Gateway behaves with the stack's set-up:
 * the front end's routes are open, and an admin route has IAM authorization (`AWS_IAM`), so a
 * request without a valid SigV4 signature is answered `403 {"message":"Forbidden"}` by the
 * gateway and never reaches the function
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-access-control-iam.html;
 * the body as an HTTP API answers it, e.g. https://github.com/aws/aws-cdk/issues/21182), while a
 * signed one reaches it with the signer in `requestContext.authorizer.iam`.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { signedHeaders } from '#infra/admin/sigv4.ts';
import { makeIamAuthorizer, type IamPrincipal } from './iam-authorizer.ts';
import { useRunApiBehindGateway } from './test-support.ts';

const OPERATOR: IamPrincipal = {
  accessKeyId: 'AKIDGATEWAYTEST',
  secretAccessKey: 'gateway-test-secret',
  accountId: '000000000000',
  userArn: 'arn:aws:iam::000000000000:user/operator',
};

const served = useRunApiBehindGateway({
  iam: makeIamAuthorizer({ region: 'us-east-1', principals: [OPERATOR] }),
});
const { invoked } = served;

beforeEach(() => {
  invoked.length = 0;
});

const interruptAll = async (sign?: { secretAccessKey: string }) => {
  const url = new URL('/api/runs/interrupt-all', served.baseUrl);
  const body = '{}';
  const headers = sign
    ? await signedHeaders(
        { method: 'POST', url, headers: { 'content-type': 'application/json' }, body },
        { credentials: { ...OPERATOR, ...sign }, region: 'us-east-1' },
      )
    : { 'content-type': 'application/json' };
  delete headers.host;
  const response = await fetch(url, { method: 'POST', headers, body });
  return { status: response.status, body: (await response.json()) as unknown };
};

describe('admin routes under IAM authorization', () => {
  it('answers an unsigned request 403 {"message":"Forbidden"} without invoking the function', async () => {
    expect(await interruptAll()).toEqual({ status: 403, body: { message: 'Forbidden' } });
    expect(invoked).toEqual([]);
  });

  it('answers a request signed with the wrong secret 403 without invoking the function', async () => {
    expect(await interruptAll({ secretAccessKey: 'guessed' })).toEqual({
      status: 403,
      body: { message: 'Forbidden' },
    });
    expect(invoked).toEqual([]);
  });

  it('passes a signed request on with the signer in requestContext.authorizer.iam', async () => {
    const answer = await interruptAll({ secretAccessKey: OPERATOR.secretAccessKey });
    expect(answer).toMatchObject({ status: 200, body: { interrupted: 0 } });
    expect(invoked).toHaveLength(1);
    expect(invoked[0]!.requestContext).toMatchObject({
      authorizer: { iam: { accessKey: OPERATOR.accessKeyId, userArn: OPERATOR.userArn } },
    });
  });

  it('leaves the front end’s routes open', async () => {
    const response = await fetch(`${served.baseUrl}/api/runs/can-start`);
    expect(response.status).toBe(200);
    expect(invoked[0]!.requestContext).not.toHaveProperty('authorizer');
  });
});
