/**
 * Secrets Manager's `GetSecretValue`, as `@aws-sdk/client-secrets-manager` calls it (the JSON
 * 1.1 protocol: `POST /` with `X-Amz-Target: secretsmanager.<Action>`), for the secrets the
 * local stack seeds. Nothing else: every other action is refused.
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/CommonErrors.html
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalSecret {
  name: string;
  value: string;
}

export interface LocalSecretsManager {
  endpoint: string;
  /** The secret's ARN, as a function is given it. */
  arnOf(name: string): string;
  /** Replaces a secret's value (a new version), as PutSecretValue would. */
  putValue(name: string, value: string): void;
  stop(): Promise<void>;
}

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

/** A secret's ARN ends in a dash and six random characters. */
const arnFor = (name: string) =>
  `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-${randomUUID().slice(0, 6)}`;

export const startLocalSecretsManager = async (
  secrets: LocalSecret[],
  options: { host?: string } = {},
): Promise<LocalSecretsManager> => {
  const stored = new Map(
    secrets.map((secret) => [
      secret.name,
      { ...secret, arn: arnFor(secret.name), versionId: randomUUID(), createdAt: Date.now() },
    ]),
  );
  const find = (secretId: unknown) =>
    [...stored.values()].find((secret) => secret.name === secretId || secret.arn === secretId);

  const answer = (response: ServerResponse, status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
    response.end(JSON.stringify(body));
  };
  const error = (response: ServerResponse, status: number, type: string, message: string) =>
    answer(response, status, { __type: type, message });

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const target = String(request.headers['x-amz-target'] ?? '');
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<
          string,
          unknown
        >;
      } catch {
        error(response, 400, 'SerializationException', 'Malformed JSON');
        return;
      }
      if (target !== 'secretsmanager.GetSecretValue') {
        error(response, 400, 'UnknownOperationException', `${target} is not emulated`);
        return;
      }
      if (typeof input.SecretId !== 'string' || input.SecretId.length === 0) {
        error(response, 400, 'InvalidParameterException', 'SecretId is required');
        return;
      }
      const secret = find(input.SecretId);
      if (!secret) {
        error(
          response,
          400,
          'ResourceNotFoundException',
          "Secrets Manager can't find the specified secret.",
        );
        return;
      }
      answer(response, 200, {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: secret.versionId,
        SecretString: secret.value,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: secret.createdAt / 1000,
      });
    });
  });
  await once(server.listen(0, options.host ?? '127.0.0.1'), 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${options.host ?? '127.0.0.1'}:${port}`,
    arnOf: (name) => {
      const secret = stored.get(name);
      if (!secret) throw new Error(`No local secret ${name}`);
      return secret.arn;
    },
    putValue: (name, value) => {
      const secret = stored.get(name);
      if (!secret) throw new Error(`No local secret ${name}`);
      stored.set(name, { ...secret, value, versionId: randomUUID() });
    },
    stop: async () => {
      server.close();
      server.closeAllConnections();
    },
  };
};
