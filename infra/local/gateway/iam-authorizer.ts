/**
 * API Gateway's IAM authorization (`AWS_IAM` on an HTTP API route), for the local gateway. AWS
 * invokes such a route only for a request signed with SigV4 by a principal allowed
 * `execute-api:Invoke` on it
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-access-control-iam.html);
 * anything else gets `403 {"message":"Forbidden"}` from API Gateway itself (an HTTP API's answer
 * to an unsigned or refused request, e.g. https://github.com/aws/aws-cdk/issues/21182).
 *
 * Here the principals are a configured list of access keys (the local stack knows its own), each
 * allowed to invoke every IAM route: no IAM policies are evaluated. A signature is checked as
 * AWS checks it (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html):
 * `AWS4-HMAC-SHA256` in the Authorization header, the credential scope's date, region and
 * service (`execute-api`), `host` and `x-amz-date` signed, the timestamp within five minutes
 * of now (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_aws-signing.html), and the
 * signature computed again over the request as received — method, path, query, the signed
 * headers and the body's hash.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { EXECUTE_API, parseAuthorization, signedHeaders } from '#infra/admin/sigv4.ts';

export interface IamPrincipal {
  accessKeyId: string;
  secretAccessKey: string;
  accountId: string;
  userArn: string;
}

export interface IamAuthorizerConfig {
  region: string;
  principals: IamPrincipal[];
  /** The signing name; `execute-api` for API Gateway (another only to check AWS's examples). */
  service?: string;
  now?: () => number;
}

/** `requestContext.authorizer.iam` of a payload 2.0 event (aws/aws-lambda-go events/testdata/apigw-v2-request-iam.json). */
export interface IamContext {
  accessKey: string;
  accountId: string;
  callerId: string;
  cognitoIdentity: null;
  principalOrgId: null;
  userArn: string;
  userId: string;
}

export type IamAuthorization = { ok: true; iam: IamContext } | { ok: false; description: string };

export interface ReceivedRequest {
  method: string;
  /** Path and query string as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** AWS denies a request that reaches it more than five minutes from its timestamp. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

const headerValue = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

const sameHex = (a: string, b: string): boolean =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export const makeIamAuthorizer = (config: IamAuthorizerConfig) => {
  const now = config.now ?? Date.now;
  const service = config.service ?? EXECUTE_API;
  const principals = new Map(config.principals.map((p) => [p.accessKeyId, p]));
  return async (request: ReceivedRequest): Promise<IamAuthorization> => {
    const refuse = (description: string): IamAuthorization => ({ ok: false, description });
    const authorization = headerValue(request.headers, 'authorization');
    if (authorization === undefined) return refuse('the request is not signed');
    const parts = parseAuthorization(authorization);
    if (parts === undefined)
      return refuse('the Authorization header is not an AWS4-HMAC-SHA256 signature');
    const principal = principals.get(parts.accessKeyId);
    if (principal === undefined) return refuse(`access key ${parts.accessKeyId} is not known`);
    if (parts.terminator !== 'aws4_request' || parts.region !== config.region) {
      return refuse(`the credential scope is not ${config.region}/${service}/aws4_request`);
    }
    if (parts.service !== service) return refuse(`the request is not signed for ${service}`);
    if (!parts.signedHeaders.includes('host') || !parts.signedHeaders.includes('x-amz-date')) {
      return refuse('host and x-amz-date must be signed');
    }
    const amzDate = AMZ_DATE.exec(headerValue(request.headers, 'x-amz-date') ?? '');
    if (!amzDate) return refuse('x-amz-date is missing or malformed');
    const [, year, month, day, hour, minute, second] = amzDate as unknown as string[];
    const signingDate = new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}Z`);
    if (`${year}${month}${day}` !== parts.date) {
      return refuse('the credential scope date is not the date of x-amz-date');
    }
    if (Math.abs(now() - signingDate.getTime()) > MAX_CLOCK_SKEW_MS) {
      return refuse('the signature has expired (more than five minutes from now)');
    }
    // Only S3 takes a client's word for the payload hash; here it must be the body's.
    const payloadHash = headerValue(request.headers, 'x-amz-content-sha256');
    if (
      payloadHash !== undefined &&
      payloadHash !== createHash('sha256').update(request.body).digest('hex')
    ) {
      return refuse('x-amz-content-sha256 is not the hash of the body');
    }

    const host = headerValue(request.headers, 'host') ?? '';
    const url = new URL(request.url, `http://${host}`);
    const signed = Object.fromEntries(
      parts.signedHeaders
        .filter((name) => name !== 'host' && name !== 'x-amz-date')
        .map((name) => [name, headerValue(request.headers, name) ?? '']),
    );
    const expected = parseAuthorization(
      (
        await signedHeaders(
          { method: request.method, url, headers: signed, body: request.body },
          {
            credentials: principal,
            region: config.region,
            service,
            signingDate,
            applyChecksum: false,
          },
        )
      ).authorization,
    );
    if (
      expected === undefined ||
      expected.signedHeaders.join(';') !== parts.signedHeaders.join(';') ||
      !sameHex(expected.signature, parts.signature)
    ) {
      return refuse('the signature does not match the request');
    }
    return {
      ok: true,
      iam: {
        accessKey: principal.accessKeyId,
        accountId: principal.accountId,
        callerId: principal.accessKeyId,
        cognitoIdentity: null,
        principalOrgId: null,
        userArn: principal.userArn,
        userId: principal.accessKeyId,
      },
    };
  };
};

export type IamAuthorizer = ReturnType<typeof makeIamAuthorizer>;
