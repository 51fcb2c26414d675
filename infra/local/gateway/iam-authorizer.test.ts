/**
 * The local IAM authorizer against AWS's rules. The signature is AWS's SigV4: AWS's own
 * published example request must verify, and any change to what was signed must not
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html);
 * a request reaches AWS within five minutes of its timestamp or is denied
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_aws-signing.html); and an HTTP API
 * route with IAM authorization is invoked only for a request signed for `execute-api`
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-access-control-iam.html).
 */
import { describe, expect, it } from 'vitest';
import { signedHeaders } from '#infra/admin/sigv4.ts';
import { makeIamAuthorizer, type IamPrincipal } from './iam-authorizer.ts';

const OPERATOR: IamPrincipal = {
  accessKeyId: 'AKIDLOCALOPERATOR',
  secretAccessKey: 'local-operator-secret',
  accountId: '000000000000',
  userArn: 'arn:aws:iam::000000000000:user/operator',
};
const NOW = Date.parse('2026-11-25T10:00:00Z');
const authorizer = makeIamAuthorizer({
  region: 'us-east-1',
  principals: [OPERATOR],
  now: () => NOW,
});

const URL_OF = 'http://127.0.0.1:3000/api/runs/interrupt-all';

/** A request signed by `credentials` the way the operator command signs it. */
const signed = async (
  overrides: {
    credentials?: { accessKeyId: string; secretAccessKey: string };
    region?: string;
    service?: string;
    signingDate?: Date;
    body?: string;
  } = {},
) => {
  const body = overrides.body ?? '{}';
  const headers = await signedHeaders(
    { method: 'POST', url: new URL(URL_OF), headers: { 'content-type': 'application/json' }, body },
    {
      credentials: overrides.credentials ?? OPERATOR,
      region: overrides.region ?? 'us-east-1',
      service: overrides.service ?? 'execute-api',
      signingDate: overrides.signingDate ?? new Date(NOW),
    },
  );
  return {
    method: 'POST',
    url: '/api/runs/interrupt-all',
    headers: { ...headers, host: '127.0.0.1:3000' } as Record<string, string>,
    body: Buffer.from(body),
  };
};

describe('IAM authorizer (SigV4)', () => {
  it('accepts AWS’s published example of a signed request', async () => {
    // https://docs.aws.amazon.com/general/latest/gr/sigv4-signed-request-examples.html: the
    // example IAM request signed with AKIDEXAMPLE at 20110909T233600Z. Computed by AWS, not by
    // the signer this stand-in uses, so the two cannot share a mistake unnoticed.
    const example = makeIamAuthorizer({
      region: 'us-east-1',
      service: 'iam',
      principals: [
        {
          accessKeyId: 'AKIDEXAMPLE',
          secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
          accountId: '111122223333',
          userArn: 'arn:aws:iam::111122223333:user/example',
        },
      ],
      now: () => Date.parse('2011-09-09T23:36:00Z'),
    });
    const request = {
      method: 'POST',
      url: '/',
      headers: {
        host: 'iam.amazonaws.com',
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        'x-amz-date': '20110909T233600Z',
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/iam/aws4_request, ' +
          'SignedHeaders=content-type;host;x-amz-date, ' +
          'Signature=ced6826de92d2bdeed8f846f0bf508e8559e98e4b0199114b84c54174deb456c',
      },
      body: Buffer.from('Action=ListUsers&Version=2010-05-08'),
    };
    expect(await example(request)).toMatchObject({ ok: true });
    expect(
      await example({ ...request, body: Buffer.from('Action=ListUsers&Version=2010-05-09') }),
    ).toMatchObject({ ok: false });
  });

  it('lets a request signed with a known key through and says who signed it', async () => {
    const result = await authorizer(await signed());
    expect(result).toEqual({
      ok: true,
      iam: {
        accessKey: OPERATOR.accessKeyId,
        accountId: OPERATOR.accountId,
        callerId: OPERATOR.accessKeyId,
        cognitoIdentity: null,
        principalOrgId: null,
        userArn: OPERATOR.userArn,
        userId: OPERATOR.accessKeyId,
      },
    });
  });

  it('refuses a request that is not signed', async () => {
    const request = await signed();
    delete (request.headers as Record<string, string>).authorization;
    expect(await authorizer(request)).toMatchObject({ ok: false });
  });

  it.each([
    [
      'an unknown access key',
      { credentials: { accessKeyId: 'AKIDSTRANGER', secretAccessKey: 'x' } },
    ],
    ['the wrong secret', { credentials: { ...OPERATOR, secretAccessKey: 'guessed' } }],
    ['another region', { region: 'eu-west-1' }],
    ['another service', { service: 'lambda' }],
    ['a timestamp six minutes old', { signingDate: new Date(NOW - 6 * 60_000) }],
    ['a timestamp six minutes ahead', { signingDate: new Date(NOW + 6 * 60_000) }],
  ] as const)('refuses a request signed with %s', async (_what, overrides) => {
    expect(await authorizer(await signed(overrides))).toMatchObject({ ok: false });
  });

  it('accepts a timestamp four minutes old', async () => {
    expect(
      await authorizer(await signed({ signingDate: new Date(NOW - 4 * 60_000) })),
    ).toMatchObject({ ok: true });
  });

  it('refuses a request changed after signing: body, path, method or a signed header', async () => {
    const request = await signed();
    const changes = [
      { ...request, body: Buffer.from('{"all":true}') },
      { ...request, url: '/api/runs/start' },
      { ...request, method: 'PUT' },
      { ...request, headers: { ...request.headers, 'content-type': 'text/plain' } },
      { ...request, headers: { ...request.headers, host: 'evil.example.com' } },
    ];
    for (const changed of changes) {
      expect(await authorizer(changed)).toMatchObject({ ok: false });
    }
  });

  it('refuses a payload hash header that does not match the body', async () => {
    const request = await signed();
    // The SDK signs x-amz-content-sha256; a client could send another body under it.
    const forged = { ...request, body: Buffer.from('{"forged":1}') };
    expect(request.headers['x-amz-content-sha256']).toBeDefined();
    expect(await authorizer(forged)).toMatchObject({ ok: false });
  });
});
