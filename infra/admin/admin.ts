/**
 * `npm run admin`: an operator calls the API's admin routes. Without the JWT authorizer those
 * routes take IAM authorization, so the request is signed with SigV4 by the caller's AWS
 * credentials (whoever holds `execute-api:Invoke` on the route, output `AdminInvokeArn`);
 * under the JWT authorizer it carries `API_TOKEN`, a token with the admin group or scope.
 */
import { parseArgs } from 'node:util';
import { type Credentials, signedHeaders } from './sigv4.ts';

export const HELP = `Usage: npm run admin -- <command> --url <ApiUrl> [--region <region>]

Commands:
  interrupt-all   every RUNNING run becomes INTERRUPTED (POST /api/runs/interrupt-all)

The request is signed with SigV4 by your AWS credentials (the SDK's chain: environment
variables, AWS_PROFILE, SSO, ...); the principal needs execute-api:Invoke on the route
(stack output AdminInvokeArn). Region: --region, else AWS_REGION, else the one in an
execute-api URL. Under the JWT authorizer, set API_TOKEN (a token with the admin group or
scope) instead: it is sent as a Bearer token and nothing is signed.

Exit code: 0 done, 1 refused or failed, 2 usage.`;

const COMMANDS = {
  'interrupt-all': { method: 'POST', path: '/api/runs/interrupt-all' },
} as const;

/** `<api-id>.execute-api.<region>.amazonaws.com` names its region. */
const regionOfUrl = (url: URL): string | undefined =>
  /^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(url.hostname)?.[1];

export interface AdminDeps {
  env: NodeJS.ProcessEnv;
  /** The caller's AWS credentials, resolved only when a request is signed. */
  credentials: () => Credentials;
  print: (line: string) => void;
  fetch?: typeof fetch;
}

export const runAdminCommand = async (argv: string[], deps: AdminDeps): Promise<number> => {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        region: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    deps.print(`${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    deps.print(HELP);
    return 0;
  }
  const command = COMMANDS[positionals[0] as keyof typeof COMMANDS];
  if (positionals.length !== 1 || command === undefined || values.url === undefined) {
    deps.print(HELP);
    return 2;
  }
  let url: URL;
  try {
    url = new URL(command.path, values.url.endsWith('/') ? values.url : `${values.url}/`);
  } catch {
    deps.print(`--url ${values.url} is not a URL`);
    return 2;
  }
  const body = '{}';
  const base = { 'content-type': 'application/json' };
  let headers: Record<string, string>;
  if (deps.env.API_TOKEN) {
    headers = { ...base, authorization: `Bearer ${deps.env.API_TOKEN}` };
  } else {
    const region = values.region ?? deps.env.AWS_REGION ?? regionOfUrl(url);
    if (region === undefined) {
      deps.print('Give --region (or AWS_REGION): the URL does not name one.');
      return 2;
    }
    // fetch sets Host itself, from the same URL the signature covers.
    const { host: _host, ...signed } = await signedHeaders(
      { method: command.method, url, headers: base, body },
      { credentials: deps.credentials(), region },
    );
    headers = signed;
  }
  const response = await (deps.fetch ?? fetch)(url, { method: command.method, headers, body });
  const text = await response.text();
  deps.print(`${command.method} ${url.pathname} -> ${response.status} ${text}`);
  if (response.ok) return 0;
  if (response.status === 403 || response.status === 401) {
    deps.print(
      deps.env.API_TOKEN
        ? 'Refused: the token lacks the admin group or scope, or is not valid for this API.'
        : 'Refused: the signature was not accepted. Check the region, and that your principal ' +
            'may execute-api:Invoke the route (stack output AdminInvokeArn).',
    );
  }
  return 1;
};
