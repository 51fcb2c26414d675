/**
 * SigV4 for the IAM-authorized admin routes, with the AWS SDK's own signer
 * (`@smithy/signature-v4`): the operator command signs with it, and the local gateway checks a
 * signature by computing it again from the request it received.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

type SignerSettings = ConstructorParameters<typeof SignatureV4>[0];
type HttpRequest = Parameters<SignatureV4['presign']>[0];
type SourceData = string | ArrayBuffer | ArrayBufferView;

/** An access key, its secret and (for temporary credentials) the session token. */
export type Credentials = SignerSettings['credentials'];

/** The signing name of API Gateway's execute-api endpoints. */
export const EXECUTE_API = 'execute-api';

/** SHA-256 and HMAC-SHA-256 from node:crypto, in the shape the signer takes. */
export class NodeSha256 {
  private hash: Hash | Hmac;

  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }

  private fresh(): Hash | Hmac {
    return this.secret === undefined
      ? createHash('sha256')
      : createHmac('sha256', toBytes(this.secret));
  }

  update(data: Uint8Array): void {
    this.hash.update(data);
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {
    this.hash = this.fresh();
  }
}

const toBytes = (data: SourceData): Uint8Array =>
  typeof data === 'string'
    ? Buffer.from(data, 'utf8')
    : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

export interface RequestToSign {
  method: string;
  url: URL;
  /** Lower-case names; `host` is taken from the URL. */
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/** The SDK's request shape for `url`: host header, path and query as the signer reads them. */
export const toHttpRequest = ({ method, url, headers, body }: RequestToSign): HttpRequest => {
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of url.searchParams) {
    const seen = query[name];
    query[name] = seen === undefined ? value : [seen, value].flat();
  }
  return {
    method: method.toUpperCase(),
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    query,
    headers: { ...headers, host: url.host },
    ...(body === undefined ? {} : { body }),
  };
};

export interface SigningOptions {
  credentials: Credentials;
  region: string;
  service?: string;
  signingDate?: Date;
  /** Whether the signer adds and signs `x-amz-content-sha256` (the SDK's default: yes). */
  applyChecksum?: boolean;
}

/** The request's headers once signed: `authorization`, `x-amz-date` and what else was signed. */
export const signedHeaders = async (
  request: RequestToSign,
  { credentials, region, service = EXECUTE_API, signingDate, applyChecksum = true }: SigningOptions,
): Promise<Record<string, string>> => {
  const signer = new SignatureV4({
    credentials,
    region,
    service,
    sha256: NodeSha256,
    applyChecksum,
  });
  const signed = await signer.sign(toHttpRequest(request), signingDate ? { signingDate } : {});
  return Object.fromEntries(
    Object.entries(signed.headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
};

/**
 * The parts of an `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`
 * header, or undefined when it is not one.
 */
export const parseAuthorization = (
  header: string | undefined,
):
  | {
      accessKeyId: string;
      date: string;
      region: string;
      service: string;
      terminator: string;
      signedHeaders: string[];
      signature: string;
    }
  | undefined => {
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/([^/,\s]+),\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/.exec(
      header?.trim() ?? '',
    );
  if (!match) return undefined;
  const [, accessKeyId, date, region, service, terminator, headers, signature] = match as string[];
  return {
    accessKeyId: accessKeyId!,
    date: date!,
    region: region!,
    service: service!,
    terminator: terminator!,
    signedHeaders: headers!.split(';'),
    signature: signature!,
  };
};
