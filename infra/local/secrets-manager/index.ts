/** The local stack's Secrets Manager: GetSecretValue of the secrets it seeds (README.md). */
export { startLocalSecretsManager, type LocalSecret, type LocalSecretsManager } from './server.ts';
