/**
 * The GitHub credential, from the Secrets Manager secret only this function may read. Its value
 * is either a fine-grained personal access token (the token itself, or `{"token": "..."}`) or a
 * GitHub App's `{"appId", "installationId", "privateKey"}`, from which a short-lived
 * installation token narrowed to this repository and `actions: write` is minted.
 * https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
 * https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app
 */
import { createSign } from 'node:crypto';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GITHUB_API_VERSION, GitHubError } from './github.ts';

/** A changed secret value is picked up within this long. */
const SECRET_CACHE_MS = 5 * 60_000;
/** An installation token lives an hour; a new one is minted this long before it expires. */
const TOKEN_MARGIN_MS = 5 * 60_000;

export type GitHubCredential =
  | { kind: 'token'; token: string }
  | { kind: 'app'; appId: string; installationId: string; privateKey: string };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The secret's value as a credential; a value of neither form is a configuration error. */
export const parseCredential = (value: string): GitHubCredential => {
  const text = value.trim();
  let parsed: unknown = text;
  if (text.startsWith('{')) {
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error('The GitHub credential secret holds malformed JSON');
    }
  }
  if (typeof parsed === 'string' && /^[\w-]{20,255}$/.test(parsed)) {
    return { kind: 'token', token: parsed };
  }
  if (isRecord(parsed) && typeof parsed.token === 'string' && parsed.token !== '') {
    return { kind: 'token', token: parsed.token };
  }
  if (
    isRecord(parsed) &&
    ['appId', 'installationId'].every((key) => /^\w+$/.test(String(parsed[key] ?? ''))) &&
    typeof parsed.privateKey === 'string' &&
    parsed.privateKey.includes('PRIVATE KEY')
  ) {
    return {
      kind: 'app',
      appId: String(parsed.appId),
      installationId: String(parsed.installationId),
      privateKey: parsed.privateKey,
    };
  }
  throw new Error(
    'The GitHub credential secret must hold a token, {"token": ...} or {"appId", "installationId", "privateKey"}',
  );
};

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/**
 * The JWT a GitHub App signs in with: RS256, issued a minute in the past against clock drift,
 * expiring within GitHub's ten-minute limit, its issuer the app.
 */
export const appJwt = (appId: string, privateKey: string, now: number): string => {
  const iat = Math.floor(now / 1000) - 60;
  const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const payload = base64url(JSON.stringify({ iat, exp: iat + 540, iss: appId }));
  const signature = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(privateKey);
  return `${header}.${payload}.${base64url(signature)}`;
};

export interface TokenSourceSettings {
  secretId: string;
  secrets: Pick<SecretsManagerClient, 'send'>;
  apiUrl: string;
  /** `owner/name`: an installation token is narrowed to it. */
  repository: string;
  now: () => number;
  fetch?: typeof fetch;
}

/** Tokens for GitHub's API, the secret read at most every few minutes. */
export const tokenSource = (settings: TokenSourceSettings): (() => Promise<string>) => {
  const doFetch = settings.fetch ?? fetch;
  let secret: { credential: GitHubCredential; readAt: number } | undefined;
  let minted: { token: string; expiresAt: number } | undefined;

  const credential = async (): Promise<GitHubCredential> => {
    if (secret && settings.now() - secret.readAt < SECRET_CACHE_MS) return secret.credential;
    const out = await settings.secrets.send(
      new GetSecretValueCommand({ SecretId: settings.secretId }),
    );
    if (out.SecretString === undefined) throw new Error('The GitHub credential secret is empty');
    const parsed = parseCredential(out.SecretString);
    if (JSON.stringify(parsed) !== JSON.stringify(secret?.credential)) minted = undefined;
    secret = { credential: parsed, readAt: settings.now() };
    return parsed;
  };

  const installationToken = async (app: Extract<GitHubCredential, { kind: 'app' }>) => {
    if (minted && minted.expiresAt - TOKEN_MARGIN_MS > settings.now()) return minted.token;
    const repositoryName = settings.repository.split('/')[1];
    const response = await doFetch(
      `${settings.apiUrl.replace(/\/$/, '')}/app/installations/${app.installationId}/access_tokens`,
      {
        method: 'POST',
        headers: {
          accept: 'application/vnd.github+json',
          authorization: `Bearer ${appJwt(app.appId, app.privateKey, settings.now())}`,
          'x-github-api-version': GITHUB_API_VERSION,
          'user-agent': 'iot-playground-infra-api',
          'content-type': 'application/json',
        },
        // Narrowed to this repository and what the panel needs, whatever the app may do.
        body: JSON.stringify({
          repositories: [repositoryName],
          permissions: { actions: 'write', metadata: 'read' },
        }),
        redirect: 'error',
        signal: AbortSignal.timeout(5_000),
      },
    );
    const body = (await response.json().catch(() => ({}))) as {
      token?: string;
      expires_at?: string;
      message?: string;
    };
    if (response.status !== 201 || body.token === undefined) {
      throw new GitHubError(
        response.status,
        `GitHub refused an installation token: ${response.status} ${body.message ?? ''}`.trim(),
      );
    }
    minted = { token: body.token, expiresAt: Date.parse(body.expires_at ?? '') || 0 };
    return body.token;
  };

  return async () => {
    const current = await credential();
    return current.kind === 'token' ? current.token : installationToken(current);
  };
};
