/**
 * Who may call the stand-in, as GitHub decides it: fine-grained tokens with their repository
 * permissions and repositories, and GitHub Apps signing in with a JWT to mint installation
 * tokens narrowed to some of their installation's repositories and permissions.
 * https://docs.github.com/en/rest/authentication/permissions-required-for-fine-grained-personal-access-tokens
 * https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
 * https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app
 */
import { createPublicKey, createVerify, randomBytes, type KeyObject } from 'node:crypto';

export type Access = 'read' | 'write';
/** Repository permissions by name (`actions`, `metadata`, ...). */
export type Permissions = Record<string, Access>;

export interface Grant {
  permissions: Permissions;
  /** `owner/name` of each repository it reaches. */
  repositories: string[];
}

export interface AppInstallation extends Grant {
  appId: string;
  installationId: string;
  /** The app's public key (PEM), to verify its JWTs. */
  publicKey: string;
}

/** An answer GitHub would give instead: its status and `message`. */
export class GitHubRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const allows = (grant: Grant, permission: string, access: Access): boolean => {
  const held = grant.permissions[permission];
  return held === 'write' || (held === 'read' && access === 'read');
};

/** Installation tokens live an hour. */
const INSTALLATION_TOKEN_MS = 3_600_000;
/** GitHub's limit on a JWT's lifetime: `exp` no more than 10 minutes after `iat`. */
const MAX_JWT_SECONDS = 600;

export class Credentials {
  private readonly tokens = new Map<string, Grant & { expiresAt?: number }>();
  private readonly installations = new Map<string, AppInstallation & { key: KeyObject }>();

  constructor(
    tokens: (Grant & { token: string })[],
    installations: AppInstallation[],
    private readonly now: () => number,
  ) {
    for (const { token, ...grant } of tokens) this.tokens.set(token, grant);
    for (const installation of installations) {
      this.installations.set(installation.installationId, {
        ...installation,
        key: createPublicKey(installation.publicKey),
      });
    }
  }

  /** The grant of a request's `Authorization: Bearer|token <token>`; 401 as GitHub words it. */
  grantOf(authorization: string | undefined): Grant {
    const token = /^(?:Bearer|token) (\S+)$/i.exec(authorization ?? '')?.[1];
    const grant = token === undefined ? undefined : this.tokens.get(token);
    if (!grant || (grant.expiresAt !== undefined && grant.expiresAt <= this.now())) {
      throw new GitHubRefusal(401, 'Bad credentials');
    }
    return grant;
  }

  /** The app installation a JWT signs in as, checked as GitHub checks it. */
  private installationFor(authorization: string | undefined, installationId: string) {
    const jwt = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
    const installation = this.installations.get(installationId);
    const parts = jwt?.split('.') ?? [];
    if (parts.length !== 3) throw new GitHubRefusal(401, 'A JSON web token could not be decoded');
    const [header, payload, signature] = parts as [string, string, string];
    let claims: { iat?: number; exp?: number; iss?: string | number };
    let alg: string | undefined;
    try {
      alg = (JSON.parse(Buffer.from(header, 'base64url').toString()) as { alg?: string }).alg;
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as typeof claims;
    } catch {
      throw new GitHubRefusal(401, 'A JSON web token could not be decoded');
    }
    if (!installation || String(claims.iss) !== installation.appId) {
      throw new GitHubRefusal(404, 'Not Found');
    }
    const verified =
      alg === 'RS256' &&
      createVerify('RSA-SHA256')
        .update(`${header}.${payload}`)
        .verify(installation.key, Buffer.from(signature, 'base64url'));
    if (!verified) {
      throw new GitHubRefusal(
        401,
        "'Issuer' claim ('iss') must be an Integer or signature invalid",
      );
    }
    const now = Math.floor(this.now() / 1000);
    if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number') {
      throw new GitHubRefusal(401, "Missing 'issued at' or 'expiration time' claim");
    }
    if (claims.exp - claims.iat > MAX_JWT_SECONDS) {
      throw new GitHubRefusal(401, "'Expiration time' claim ('exp') is too far in the future");
    }
    if (claims.exp <= now) {
      throw new GitHubRefusal(
        401,
        "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
      );
    }
    if (claims.iat > now + 60) {
      throw new GitHubRefusal(
        401,
        "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
      );
    }
    return installation;
  }

  /**
   * `POST /app/installations/{id}/access_tokens`: a token for at most the installation's
   * repositories and permissions; asking for more is a 422.
   */
  mintInstallationToken(
    authorization: string | undefined,
    installationId: string,
    request: { repositories?: unknown; permissions?: unknown },
  ) {
    const installation = this.installationFor(authorization, installationId);
    const owner = installation.repositories[0]?.split('/')[0];
    const names = Array.isArray(request.repositories)
      ? request.repositories.map((name) => `${owner}/${String(name)}`)
      : installation.repositories;
    if (names.some((name) => !installation.repositories.includes(name))) {
      throw new GitHubRefusal(
        422,
        'There is at least one repository that does not exist or is not accessible to the parent installation.',
      );
    }
    const asked =
      typeof request.permissions === 'object' && request.permissions !== null
        ? (request.permissions as Permissions)
        : installation.permissions;
    for (const [permission, access] of Object.entries(asked)) {
      if (!allows(installation, permission, access)) {
        throw new GitHubRefusal(
          422,
          'The permissions requested are not granted to this installation.',
        );
      }
    }
    const token = `ghs_${randomBytes(18).toString('base64url')}`;
    const expiresAt = this.now() + INSTALLATION_TOKEN_MS;
    this.tokens.set(token, { permissions: asked, repositories: names, expiresAt });
    return {
      token,
      expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      permissions: asked,
      repository_selection: 'selected',
    };
  }
}
