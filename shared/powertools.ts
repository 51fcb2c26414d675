/**
 * The one Powertools setup of the project. Service name, namespace and log level come from
 * the environment the infrastructure sets (POWERTOOLS_SERVICE_NAME, POWERTOOLS_LOG_LEVEL).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';

export const createLogger = (): Logger => new Logger();

/**
 * Starts an invocation's log context: the Lambda context plus the keys of this request.
 * Keys of the previous invocation on the same container are dropped first.
 */
export const beginInvocation = (
  logger: Logger,
  context: Context,
  keys: Record<string, string | undefined> = {},
): void => {
  logger.resetKeys();
  logger.addContext(context);
  const present = Object.fromEntries(Object.entries(keys).filter(([, v]) => v !== undefined));
  logger.appendKeys(present as Record<string, string>);
};
