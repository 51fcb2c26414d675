/**
 * A handler shaped like the real ones, bundled by function-factory.test.ts through the same
 * esbuild settings: a `#shared` alias, an AWS SDK v3 client (ESM and CJS parts) and Powertools.
 */
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { createSqsClient } from '#shared/aws-clients.ts';
import { optionalEnv } from '#shared/config.ts';
import { createLogger } from '#shared/powertools.ts';

const logger = createLogger();
const sqs = createSqsClient();

export const handler = async (): Promise<{ service: string | undefined; queue: string }> => {
  logger.debug('bundled fixture invoked');
  const command = new GetQueueUrlCommand({ QueueName: 'fixture' });
  return { service: optionalEnv('POWERTOOLS_SERVICE_NAME'), queue: command.input.QueueName ?? '' };
};

export const clientRegionIsConfigurable = (): boolean => typeof sqs.config.region === 'function';
