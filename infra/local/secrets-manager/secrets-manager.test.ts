/**
 * GetSecretValue as the SDK calls it, held to the API reference:
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html
 * (by name or ARN; `SecretString`, `VersionStages` AWSCURRENT; an unknown secret is
 * ResourceNotFoundException) — and nothing else is answered.
 */
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalSecretsManager, startLocalSecretsManager } from './index.ts';

let secrets: LocalSecretsManager;
let client: SecretsManagerClient;

beforeAll(async () => {
  secrets = await startLocalSecretsManager([{ name: 'IotPlayground-local-x', value: 'v1' }]);
  client = new SecretsManagerClient({
    endpoint: secrets.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});
afterAll(async () => {
  client?.destroy();
  await secrets?.stop();
});

describe('GetSecretValue', () => {
  it('answers by name and by ARN with the current version', async () => {
    const arn = secrets.arnOf('IotPlayground-local-x');
    expect(arn).toMatch(
      /^arn:aws:secretsmanager:us-east-1:\d{12}:secret:IotPlayground-local-x-\w{6}$/,
    );
    for (const id of ['IotPlayground-local-x', arn]) {
      const out = await client.send(new GetSecretValueCommand({ SecretId: id }));
      expect(out).toMatchObject({ ARN: arn, Name: 'IotPlayground-local-x', SecretString: 'v1' });
      expect(out.VersionStages).toEqual(['AWSCURRENT']);
    }
    secrets.putValue('IotPlayground-local-x', 'v2');
    expect((await client.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString).toBe(
      'v2',
    );
  });

  it('refuses an unknown secret with ResourceNotFoundException', async () => {
    await expect(
      client.send(new GetSecretValueCommand({ SecretId: 'nope' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('emulates nothing else, visibly', async () => {
    await expect(
      client.send(new DescribeSecretCommand({ SecretId: 'IotPlayground-local-x' })),
    ).rejects.toMatchObject({ name: 'UnknownOperationException' });
  });
});
