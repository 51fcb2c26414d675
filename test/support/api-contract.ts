/**
 * Every answer an e2e test receives, held to the OpenAPI description (shared/api/openapi.json):
 * its status must be documented for the operation, its content type must be one documented for
 * that status, its body must match the schema (the schemas forbid undocumented fields), its
 * documented headers must be present and well-formed, and it may carry no header of its own
 * that the description does not name. `checkedFetch` is `fetch` with that check: the test
 * client (local-stack.ts) and the tests that call fetch themselves go through it.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

type Json = Record<string, any>;

const DESCRIPTION: Json = JSON.parse(
  readFileSync(new URL('../../shared/api/openapi.json', import.meta.url), 'utf8'),
);

/** Paths the local stack serves beside the API: its documentation, not part of the contract. */
const LOCAL_DOCUMENTATION = /^\/api\/(openapi\.json|docs(\/.*)?)$/;

/**
 * Headers any answer may carry without the description naming them: HTTP's own, CORS (set by
 * the gateway from the topology, described in the description's introduction), and API
 * Gateway's request id and error type.
 */
const TRANSPORT_HEADERS =
  /^(content-type|content-length|date|connection|keep-alive|transfer-encoding|vary|access-control-.*|apigw-requestid|x-amzn-errortype)$/;

/** Answers to a request that matched no route: the run API's `$default` handling, and the gateway's own. */
const UNROUTED_RESPONSES: Json = {
  '400': { $ref: '#/components/responses/MalformedPath' },
  '404': { $ref: '#/components/responses/NotFound' },
  '405': { $ref: '#/components/responses/MethodNotAllowed' },
  '413': { $ref: '#/components/responses/PayloadTooLarge' },
  '429': { $ref: '#/components/responses/Throttled' },
  '500': { $ref: '#/components/responses/ServerError' },
  '502': { $ref: '#/components/responses/BadGateway' },
};

// ajv-formats is CommonJS with a default export; under NodeNext its type is the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
ajv.addSchema(DESCRIPTION, 'api');

const pointer = (...segments: string[]) =>
  segments.map((s) => s.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

const resolve = (value: Json): Json => {
  if (typeof value?.$ref !== 'string') return value;
  const target = (value.$ref as string)
    .replace(/^#\//, '')
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<Json>((node, key) => node?.[key], DESCRIPTION);
  return resolve(target);
};

const validators = new Map<string, ValidateFunction>();
const validatorAt = (location: string): ValidateFunction => {
  let validate = validators.get(location);
  if (!validate) {
    validate = ajv.compile({ $ref: `api#/${location}` });
    validators.set(location, validate);
  }
  return validate;
};

interface Route {
  template: string;
  pattern: RegExp;
  operations: Json;
}
const ROUTES: Route[] = Object.entries(DESCRIPTION.paths as Json).map(([template, item]) => ({
  template,
  pattern: new RegExp(`^${template.replace(/\{[^/}]+\}/g, '[^/]+')}$`),
  operations: item,
}));
/** Static paths before templated ones, as API Gateway matches them. */
ROUTES.sort((a, b) => a.template.split('{').length - b.template.split('{').length);

export interface Answer {
  method: string;
  /** Path and query of the request. */
  url: string;
  status: number;
  headers: Headers;
  body: Buffer;
}

/** What is wrong with an answer, by the description; empty when it conforms. */
export const contractProblems = (answer: Answer): string[] => {
  const method = answer.method.toLowerCase();
  const path = new URL(answer.url, 'http://localhost').pathname;
  // The API: the run and sensor routes, and the infrastructure panel's at the root.
  if (!path.startsWith('/api/') && path !== '/api' && !path.startsWith('/infra/')) return [];
  if (LOCAL_DOCUMENTATION.test(path)) return [];
  const what = `${answer.method} ${path} → ${answer.status}`;

  const route = ROUTES.find((r) => r.pattern.test(path));
  const operation = route?.operations[method] as Json | undefined;
  const [responses, location] = operation
    ? [operation.responses as Json, pointer('paths', route!.template, method, 'responses')]
    : [UNROUTED_RESPONSES, undefined];
  const documented = responses[String(answer.status)] as Json | undefined;
  if (!documented) {
    return [`${what}: status ${answer.status} is not documented`];
  }
  const response = resolve(documented);
  // Where the response object lives in the description, for the schema validators.
  const responseLocation =
    typeof documented.$ref === 'string'
      ? (documented.$ref as string).replace(/^#\//, '')
      : `${location}/${answer.status}`;

  const problems: string[] = [];
  const headers = (response.headers ?? {}) as Json;
  const named = new Map(Object.keys(headers).map((name) => [name.toLowerCase(), name]));
  for (const [name, spec] of Object.entries(headers)) {
    const value = answer.headers.get(name);
    const header = resolve(spec as Json);
    if (value === null) {
      if (header.required) problems.push(`${what}: header ${name} is missing`);
      continue;
    }
    const validate = validatorAt(`${responseLocation}/${pointer('headers', name, 'schema')}`);
    if (!validate(value))
      problems.push(`${what}: header ${name}: ${ajv.errorsText(validate.errors)}`);
  }
  answer.headers.forEach((_value, name) => {
    if (!TRANSPORT_HEADERS.test(name) && !named.has(name)) {
      problems.push(`${what}: header ${name} is not documented`);
    }
  });

  const content = (response.content ?? {}) as Json;
  const mediaType = (answer.headers.get('content-type') ?? '').split(';')[0]!.trim();
  // A HEAD answer has the headers of the GET and no body.
  if (answer.method === 'HEAD') return problems;
  if (Object.keys(content).length === 0) {
    if (answer.body.length > 0) problems.push(`${what}: a body where none is documented`);
    return problems;
  }
  if (!(mediaType in content)) {
    problems.push(`${what}: content type ${mediaType || '(none)'} is not documented`);
    return problems;
  }
  if (mediaType === 'application/json') {
    let body: unknown;
    try {
      body = JSON.parse(answer.body.toString('utf8'));
    } catch {
      return [...problems, `${what}: the body is not JSON`];
    }
    const validate = validatorAt(`${responseLocation}/${pointer('content', mediaType, 'schema')}`);
    if (!validate(body)) {
      problems.push(
        `${what}: body ${ajv.errorsText(validate.errors, { dataVar: 'body' })}: ${JSON.stringify(body).slice(0, 300)}`,
      );
    }
  }
  return problems;
};

export class ContractViolation extends Error {}

export const assertInContract = (answer: Answer): void => {
  const problems = contractProblems(answer);
  if (problems.length > 0) {
    throw new ContractViolation(`Answer not as described:\n  ${problems.join('\n  ')}`);
  }
};

/**
 * `fetch`, with the answer checked against the description before it is handed back. A CORS
 * preflight is the gateway's own business (no operation describes OPTIONS) and is not checked.
 */
export const checkedFetch = async (
  input: string | URL | Request,
  init?: RequestInit,
): Promise<Response> => {
  const request = new Request(input, init);
  const response = await fetch(request.clone());
  const preflight =
    request.method === 'OPTIONS' && request.headers.has('access-control-request-method');
  if (!preflight) {
    const url = new URL(request.url);
    assertInContract({
      method: request.method,
      url: `${url.pathname}${url.search}`,
      status: response.status,
      headers: response.headers,
      body: Buffer.from(await response.clone().arrayBuffer()),
    });
  }
  return response;
};
