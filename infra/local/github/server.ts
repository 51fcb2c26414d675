/**
 * The GitHub REST stand-in's HTTP server: the calls the infrastructure panel makes, answered and
 * refused as GitHub answers and refuses them (README.md lists what is emulated).
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AppInstallation, allows, Credentials, type Grant, GitHubRefusal } from './auth.ts';
import { type Conclusion, DEFAULT_RUN_TIMINGS, type RunTimings, Runs } from './runs.ts';
import {
  dispatchInputs,
  readWorkflow,
  renderRunName,
  type WorkflowDefinition,
} from './workflows.ts';

export interface LocalGitHubOptions {
  /** `owner/name` of the one repository served. */
  repository: string;
  defaultBranch?: string;
  /** Other branches and tags a dispatch may name. */
  refs?: string[];
  /** The folder of the repository's workflow files (`.github/workflows`). */
  workflowsDir: string;
  /** The workflow files served, e.g. `['deploy.yml']`. */
  workflows: string[];
  tokens?: (Grant & { token: string })[];
  apps?: AppInstallation[];
  runTimings?: RunTimings;
  /**
   * False: a server from before `return_run_details` (GitHub Enterprise Server up to 3.19),
   * which refuses the key like any unknown one.
   */
  returnRunDetails?: boolean;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  now?: () => number;
}

export interface LocalGitHub {
  /** The REST API's base URL (what GITHUB_API_URL names). */
  url: string;
  /** Where runs' pages are (`html_url`): the same server. */
  webUrl: string;
  /** The next `count` dispatched runs end with `conclusion` (default `failure`). */
  failNextRuns(count: number, conclusion?: Conclusion): void;
  /** Dispatches received, for tests: the workflow, its ref and inputs. */
  dispatches(): { workflow: string; ref: string; inputs: Record<string, string> }[];
  /** Each run's inputs, creation and completion (epoch ms), oldest first: what overlapped. */
  runTimeline(): ReturnType<Runs['timeline']>;
  clearFaults(): void;
  stop(): Promise<void>;
}

const DOCS = 'https://docs.github.com/rest';

const readBody = async (request: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

const parseJson = (text: string): Record<string, unknown> => {
  if (text.trim() === '') return {};
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    // Refused below.
  }
  throw new GitHubRefusal(400, 'Problems parsing JSON');
};

/** GitHub's `created` filter: `>=t`, `>t`, `<=t`, `<t`, `a..b` or a date. */
const createdFilter = (value: string | null): ((ms: number) => boolean) | undefined => {
  if (value === null) return undefined;
  const time = (text: string) => {
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) throw new GitHubRefusal(422, `Invalid created filter: ${value}`);
    return ms;
  };
  const range = /^(.+)\.\.(.+)$/.exec(value);
  if (range) {
    const [from, to] = [time(range[1]!), time(range[2]!)];
    return (ms) => ms >= from && ms <= to;
  }
  const compare = /^(>=|<=|>|<)(.+)$/.exec(value);
  if (!compare) {
    const day = time(value);
    return (ms) => ms >= day && ms < day + 86_400_000;
  }
  const at = time(compare[2]!);
  return {
    '>=': (ms: number) => ms >= at,
    '<=': (ms: number) => ms <= at,
    '>': (ms: number) => ms > at,
    '<': (ms: number) => ms < at,
  }[compare[1] as '>=' | '<=' | '>' | '<'];
};

export const startLocalGitHub = async (options: LocalGitHubOptions): Promise<LocalGitHub> => {
  const now = options.now ?? Date.now;
  const defaultBranch = options.defaultBranch ?? 'main';
  const refs = new Set([defaultBranch, ...(options.refs ?? [])]);
  const workflows: WorkflowDefinition[] = options.workflows.map((file, index) =>
    readWorkflow(options.workflowsDir, file, 100_001 + index),
  );
  const credentials = new Credentials(options.tokens ?? [], options.apps ?? [], now);
  let base = '';
  const runs = new Runs(
    options.repository,
    () => base,
    () => base,
    options.runTimings ?? DEFAULT_RUN_TIMINGS,
    now,
  );
  const dispatches: ReturnType<LocalGitHub['dispatches']> = [];

  const workflowOf = (id: string) =>
    workflows.find((workflow) => workflow.file === id || String(workflow.id) === id);

  /** The request's grant on the repository: 404 where the token cannot see it, as GitHub hides it. */
  const repositoryGrant = (request: IncomingMessage, owner: string, name: string) => {
    const grant = credentials.grantOf(request.headers.authorization);
    const full = `${owner}/${name}`.toLowerCase();
    if (
      full !== options.repository.toLowerCase() ||
      !grant.repositories.some((repo) => repo.toLowerCase() === full)
    ) {
      throw new GitHubRefusal(404, 'Not Found');
    }
    return grant;
  };

  const requireAccess = (
    request: IncomingMessage,
    grant: Grant,
    permission: string,
    access: 'read' | 'write',
  ) => {
    if (!allows(grant, permission, access)) {
      const kind = request.headers.authorization?.includes('ghs_')
        ? 'integration'
        : 'personal access token';
      throw new GitHubRefusal(403, `Resource not accessible by ${kind}`);
    }
  };

  const handle = async (
    request: IncomingMessage,
    url: URL,
  ): Promise<{ status: number; body?: unknown; html?: string }> => {
    const method = request.method ?? 'GET';
    const path = url.pathname.replace(/\/$/, '');
    let match: RegExpExecArray | null;

    // Runs' and workflows' pages, where html_url leads: a line of text, not GitHub's site.
    if (
      method === 'GET' &&
      (match = /^\/([^/]+)\/([^/]+)\/actions\/(runs\/\d+|workflows\/[^/]+)$/.exec(path))
    ) {
      const [, , , what] = match;
      const run = what!.startsWith('runs/') ? runs.get(Number(what!.slice(5))) : undefined;
      return {
        status: 200,
        html: `<!doctype html><title>GitHub stand-in</title><p>Local GitHub stand-in: ${
          run
            ? `run ${run.id} (${run.display_title}) is ${run.status} ${run.conclusion ?? ''}`
            : what
        }</p>`,
      };
    }

    // GitHub refuses API requests without a User-Agent.
    if (!request.headers['user-agent']) {
      throw new GitHubRefusal(
        403,
        'Request forbidden by administrative rules. Please make sure your request has a User-Agent header',
      );
    }

    if (
      method === 'POST' &&
      (match = /^\/app\/installations\/([^/]+)\/access_tokens$/.exec(path))
    ) {
      const body = parseJson(await readBody(request));
      return {
        status: 201,
        body: credentials.mintInstallationToken(request.headers.authorization, match[1]!, body),
      };
    }

    if ((match = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path)) === null) {
      throw new GitHubRefusal(404, 'Not Found');
    }
    const [, owner, name, rest = ''] = match;
    const grant = repositoryGrant(request, owner!, name!);
    const repository = `${owner}/${name}`;

    if (method === 'GET' && rest === '') {
      return {
        status: 200,
        body: {
          id: 424_242,
          name,
          full_name: repository,
          private: true,
          default_branch: defaultBranch,
          html_url: `${base}/${repository}`,
        },
      };
    }

    if (method === 'GET' && (match = /^\/actions\/runs\/(\d+)$/.exec(rest))) {
      requireAccess(request, grant, 'actions', 'read');
      const run = runs.get(Number(match[1]));
      if (!run) throw new GitHubRefusal(404, 'Not Found');
      return { status: 200, body: run };
    }

    if ((match = /^\/actions\/workflows\/([^/]+)\/(dispatches|runs)$/.exec(rest))) {
      const workflow = workflowOf(decodeURIComponent(match[1]!));
      if (!workflow) throw new GitHubRefusal(404, 'Not Found');
      if (method === 'GET' && match[2] === 'runs') {
        requireAccess(request, grant, 'actions', 'read');
        const perPage = Math.min(Number(url.searchParams.get('per_page') ?? 30) || 30, 100);
        const all = runs.list(workflow.id, {
          event: url.searchParams.get('event') ?? undefined,
          branch: url.searchParams.get('branch') ?? undefined,
          status: url.searchParams.get('status') ?? undefined,
          created: createdFilter(url.searchParams.get('created')),
        });
        return {
          status: 200,
          body: { total_count: all.length, workflow_runs: all.slice(0, perPage) },
        };
      }
      if (method === 'POST' && match[2] === 'dispatches') {
        requireAccess(request, grant, 'actions', 'write');
        const body = parseJson(await readBody(request));
        const permitted = ['ref', 'inputs'];
        if (options.returnRunDetails !== false) permitted.push('return_run_details');
        const unknown = Object.keys(body).find((key) => !permitted.includes(key));
        if (unknown !== undefined)
          throw new GitHubRefusal(422, `"${unknown}" is not a permitted key.`);
        if (typeof body.ref !== 'string')
          throw new GitHubRefusal(422, 'Invalid request.\n\n"ref" wasn\'t supplied.');
        const ref = body.ref.replace(/^refs\/(heads|tags)\//, '');
        if (!refs.has(ref)) throw new GitHubRefusal(422, `No ref found for: ${body.ref}`);
        if (!workflow.inputs) {
          throw new GitHubRefusal(422, "Workflow does not have 'workflow_dispatch' trigger");
        }
        const given = body.inputs ?? {};
        if (typeof given !== 'object' || given === null || Array.isArray(given)) {
          throw new GitHubRefusal(
            422,
            "Invalid request.\n\nFor 'properties/inputs', is not an object.",
          );
        }
        const checked = dispatchInputs(workflow, given as Record<string, unknown>);
        if ('error' in checked) throw new GitHubRefusal(422, checked.error);
        const id = runs.start({
          workflow,
          displayTitle: renderRunName(workflow, checked.inputs),
          headBranch: ref,
          inputs: checked.inputs,
          actor: 'local-actor',
        });
        dispatches.push({ workflow: workflow.file, ref, inputs: checked.inputs });
        if (body.return_run_details !== true) return { status: 204 };
        const run = runs.get(id)!;
        return {
          status: 200,
          body: { workflow_run_id: id, run_url: run.url, html_url: run.html_url },
        };
      }
    }
    throw new GitHubRefusal(404, 'Not Found');
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    handle(request, url)
      .catch((error: unknown) => {
        if (error instanceof GitHubRefusal) {
          return {
            status: error.status,
            body: { message: error.message, documentation_url: DOCS, status: String(error.status) },
          };
        }
        return { status: 500, body: { message: (error as Error).message } };
      })
      .then(({ status, body, html }: { status: number; body?: unknown; html?: string }) => {
        if (html !== undefined) {
          response.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
          response.end(html);
        } else if (body === undefined) {
          response.writeHead(status);
          response.end();
        } else {
          response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
          response.end(JSON.stringify(body));
        }
      })
      .catch(() => response.destroy());
  });
  await once(server.listen(options.port ?? 0, options.host ?? '127.0.0.1'), 'listening');
  const { port } = server.address() as AddressInfo;
  base = `http://${options.host ?? '127.0.0.1'}:${port}`;

  return {
    url: base,
    webUrl: base,
    failNextRuns: (count, conclusion = 'failure') => runs.planConclusion(conclusion, count),
    dispatches: () => [...dispatches],
    runTimeline: () => runs.timeline(),
    clearFaults: () => runs.clearPlans(),
    stop: async () => {
      server.close();
      server.closeAllConnections();
      await once(server, 'close').catch(() => undefined);
    },
  };
};
