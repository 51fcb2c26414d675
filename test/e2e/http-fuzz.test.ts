/**
 * HTTP fuzzing of the local stack: thousands of generated requests to every route — wrong
 * types, huge and tiny numbers, unicode, deep nesting, duplicate keys, wrong content types,
 * bad headers, odd paths and methods, junk query strings. None may answer 5xx (no fault is
 * injected, so none of the gateway's documented 5xx applies), every answer is a JSON body
 * without internals, and nothing refused is stored: readings are checked in the table, runs
 * through the run API. Prints what was tried, by category. Seeded, so a failure reproduces.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '#infra/local/index.ts';
import { topology } from '#infra/topology.ts';
import { eventually } from '#test/support/eventually.ts';
import { type ApiClient, startTestStack } from '#test/support/local-stack.ts';
import { checkedFetch } from '#test/support/api-contract.ts';

const SEED = 20261126;
/** Requests per category: 2,000 in all. */
const PER_CATEGORY = 200;
const CONCURRENCY = 12;

let stack: LocalStack;
let api: ApiClient;
let runId: string;

beforeAll(async () => {
  ({ stack, api } = await startTestStack({ maxEnvironmentsPerFunction: 4 }));
  const start = await api.post('/api/runs/start', { duration: 3_600, interval: 1 });
  expect(start.status).toBe(201);
  runId = start.body.id;
});
afterAll(async () => {
  await stack?.stop();
});

interface FuzzRequest {
  category: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** Readings this request would store if accepted (known for generated ingest bodies). */
  sensorTag?: string;
}

const ROUTE_PATHS = topology.routes.map((route) => route.path);
const JSON_TYPE = { 'content-type': 'application/json' };

// --- Values ---------------------------------------------------------------------------------

/** Readings DynamoDB cannot hold (below its 1e-130 magnitude): the edge must refuse them. */
const UNSTORABLE = ['5e-324', '1e-320'];

const hugeOrTiny = fc.constantFrom(
  '1e309',
  '-1e309',
  '1e-400',
  ...UNSTORABLE,
  '-0',
  '0.0000000000000000000000000000001',
  '179769313486231570000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000',
  '123456789012345678901234567890',
  '1e9',
  '1000000001',
  '9007199254740993',
  '-9007199254740993',
  '0.1',
  '1E+2',
);
const jsonText = (value: unknown) => JSON.stringify(value) ?? 'null';
const wrongValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(null, true, false, [], {}, '', ' ', '5', 'NaN', 'Infinity', [5], { value: 5 }),
);
const unicodeText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    'temp\u0000',
    '\u202Eevil',
    '😀-sensor',
    'Ω',
    'ｔｅｍｐ',
    'a'.repeat(65),
    'temp\nerature',
    '\uFEFFtemp',
    'İ',
  ),
);
/** A lone surrogate, which JSON.stringify escapes but raw text carries as bad UTF-8. */
const loneSurrogates = fc.constantFrom('"\uD800"', '"\uDFFF"', '"\\uD800"', '"a\\uDC00b"');

const reading = (sensorId: string, overrides: Record<string, string> = {}) => {
  const fields: Record<string, string> = {
    sensorId: jsonText(sensorId),
    type: '"temperature"',
    reading: '21.5',
    timestamp: jsonText(new Date(Date.now() - 60_000).toISOString()),
    ...overrides,
  };
  return `{${Object.entries(fields)
    .map(([name, value]) => `${jsonText(name)}:${value}`)
    .join(',')}}`;
};

// --- Categories -----------------------------------------------------------------------------

const ingest = (category: string, body: string, tag?: string, headers = {}): FuzzRequest => ({
  category,
  method: 'POST',
  path: '/api/sensors/data',
  headers: { ...JSON_TYPE, 'x-run-id': runId, ...headers },
  body,
  ...(tag !== undefined && { sensorTag: tag }),
});

const runStart = (category: string, body: string, headers = {}): FuzzRequest => ({
  category,
  method: 'POST',
  path: '/api/runs/start',
  headers: { ...JSON_TYPE, ...headers },
  body,
});

let tags = 0;
const nextTag = () => `fuzz-${(tags += 1)}`;

const categories = (): Record<string, fc.Arbitrary<FuzzRequest>> => ({
  'wrong types': fc.oneof(
    fc
      .tuple(fc.constantFrom('sensorId', 'type', 'reading', 'timestamp', 'id', 'runId'), wrongValue)
      .map(([field, value]) => {
        const tag = nextTag();
        return ingest('wrong types', reading(tag, { [field]: jsonText(value) }), tag);
      }),
    fc
      .tuple(fc.constantFrom('duration', 'interval', 'sensorIds', 'params'), wrongValue)
      .map(([field, value]) =>
        runStart('wrong types', jsonText({ duration: 60, interval: 1, [field]: value })),
      ),
    wrongValue.map((value) => ingest('wrong types', jsonText({ measurements: value }))),
    wrongValue.map((value) => ({
      ...runStart('wrong types', jsonText(value)),
      path: `/api/runs/${runId}/finish`,
    })),
  ),
  'huge and tiny numbers': fc.oneof(
    hugeOrTiny.map((number) => {
      const tag = nextTag();
      return ingest('huge and tiny numbers', reading(tag, { reading: number }), tag);
    }),
    hugeOrTiny.map((number) => {
      const tag = nextTag();
      return ingest('huge and tiny numbers', reading(tag, { timestamp: number }), tag);
    }),
    fc
      .tuple(fc.constantFrom('duration', 'interval'), hugeOrTiny)
      .map(([field, number]) =>
        runStart('huge and tiny numbers', `{"duration":60,"interval":1,"${field}":${number}}`),
      ),
    hugeOrTiny.map((number) => ({
      category: 'huge and tiny numbers',
      method: 'GET',
      path: `/api/sensors/data?runId=${runId}&limit=${number}&from=${number}`,
      headers: {},
    })),
  ),
  unicode: fc.oneof(
    fc.tuple(fc.constantFrom('sensorId', 'type', 'id'), unicodeText).map(([field, text]) => {
      const tag = nextTag();
      return ingest('unicode', reading(tag, { [field]: jsonText(text) }), tag);
    }),
    loneSurrogates.map((raw) => {
      const tag = nextTag();
      return ingest('unicode', reading(tag, { type: raw }), tag);
    }),
    unicodeText.map((text) =>
      runStart('unicode', jsonText({ duration: 60, interval: 1, sensorIds: [text] })),
    ),
    unicodeText.map((text) => ({
      category: 'unicode',
      method: 'GET',
      path: `/api/sensors/data?sensorId=${encodeURIComponent(text)}`,
      headers: {},
    })),
    unicodeText.map((text) => ({
      category: 'unicode',
      method: 'GET',
      path: `/api/runs/${encodeURIComponent(text)}`,
      headers: {},
    })),
  ),
  'deep nesting': fc
    .tuple(fc.integer({ min: 50, max: 20_000 }), fc.constantFrom('[', '{"a":', '{"measurements":'))
    .chain(([depth, open]) =>
      fc.constantFrom(...ROUTE_PATHS).map((path) => {
        const close = open === '[' ? ']' : '}';
        const body = `${open.repeat(depth)}1${close.repeat(depth)}`;
        return {
          category: 'deep nesting',
          method: 'POST',
          path: path.replace('{id}', runId),
          headers: { ...JSON_TYPE, 'x-run-id': runId },
          body,
        };
      }),
    ),
  'duplicate keys': fc.oneof(
    fc.constantFrom('sensorId', 'type', 'reading', 'timestamp').map((field) => {
      const tag = nextTag();
      const base = reading(tag);
      // The same key twice, the second value invalid: a parser keeping either must be consistent
      return ingest('duplicate keys', `${base.slice(0, -1)},"${field}":{"x":1}}`, tag);
    }),
    fc.constant(0).map(() => {
      const tag = nextTag();
      return ingest(
        'duplicate keys',
        `{"runId":"${runId}","runId":"not-a-run",${reading(tag).slice(1)}`,
        tag,
      );
    }),
    fc
      .constant(0)
      .map(() => runStart('duplicate keys', '{"duration":60,"duration":-1,"interval":1}')),
    fc.constant(0).map(() => {
      const tag = nextTag();
      return ingest('duplicate keys', `{"measurements":[${reading(tag)}],"measurements":"x"}`, tag);
    }),
  ),
  'content types': fc
    .tuple(
      fc.constantFrom(
        'text/plain',
        'application/xml',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/json; charset=latin1',
        'application/octet-stream',
        '',
      ),
      fc.constantFrom('json', 'xml', 'form', 'binary', 'empty'),
    )
    .map(([type, kind]) => {
      const tag = nextTag();
      const body = {
        json: reading(tag),
        xml: `<reading><sensorId>${tag}</sensorId></reading>`,
        form: `sensorId=${tag}&type=temperature&reading=5`,
        binary: '\u0000\u0001\u00ff\u00fe',
        empty: '',
      }[kind];
      return ingest('content types', body, kind === 'json' ? tag : undefined, {
        'content-type': type,
      });
    }),
  'bad headers': fc.oneof(
    fc
      .constantFrom(
        'not-a-uuid',
        '',
        ' ',
        '0F8FAD5B-D9CB-469F-A165-70867728950E',
        `${'a'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`,
        'x'.repeat(8_000),
        '../../etc/passwd',
        "'; DROP TABLE runs; --",
      )
      .map((value) => {
        const tag = nextTag();
        return ingest('bad headers', reading(tag), tag, { 'x-run-id': value });
      }),
    fc.constantFrom('', 'x'.repeat(4_000), '\t', 'key with spaces', '%00').map((key) => {
      const tag = nextTag();
      return ingest('bad headers', reading(tag), tag, { 'idempotency-key': key });
    }),
    fc
      .constantFrom('', ' ', 'x'.repeat(2_000), 'ä', '<script>', 'admin\u0000')
      .map((user) =>
        runStart('bad headers', jsonText({ duration: 60, interval: 1 }), { 'x-user': user }),
      ),
    fc.constantFrom('Bearer x', 'Basic ====', 'x'.repeat(3_000)).map((authorization) => ({
      category: 'bad headers',
      method: 'GET',
      path: '/api/runs/can-start',
      headers: { authorization, origin: 'https://evil.example', 'accept-encoding': 'zz' },
    })),
  ),
  'odd paths and methods': fc.oneof(
    fc
      .tuple(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE'),
        fc.constantFrom(...ROUTE_PATHS),
        fc.constantFrom(
          '',
          '/',
          '//',
          '/..',
          '/%2e%2e',
          '/%00',
          '/x'.repeat(200),
          '?',
          '?a=%zz',
          `/${'é'.repeat(10)}`,
        ),
      )
      .map(([method, path, suffix]) => ({
        category: 'odd paths and methods',
        method,
        path: `${path.replace('{id}', runId)}${encodeURI(suffix).replace(/%25/g, '%')}`,
        headers: method === 'POST' ? JSON_TYPE : {},
        ...(method === 'POST' && { body: '{}' }),
      })),
    fc
      .constantFrom(
        '/api',
        '/api/',
        '/API/runs/all',
        '/api/runs/all/',
        '/api/runs//finish',
        '/api/runs/%2F/finish',
        `/api/runs/${runId}/finish/extra`,
        '/local',
        '/',
        '/api/sensors',
        '/api/reports/download',
      )
      .map((path) => ({ category: 'odd paths and methods', method: 'GET', path, headers: {} })),
  ),
  'every route': fc
    .tuple(fc.constantFrom(...topology.routes), fc.oneof(fc.jsonValue({ maxDepth: 3 }), wrongValue))
    .map(([route, value]) => ({
      category: 'every route',
      method: route.method,
      path: route.path.replace('{id}', runId),
      headers: { ...JSON_TYPE, 'x-run-id': runId },
      ...(route.method === 'POST' && { body: jsonText(value) }),
    })),
  'query strings': fc
    .tuple(
      fc.constantFrom('/api/sensors/data', '/api/runs'),
      fc.dictionary(
        fc.constantFrom('runId', 'sensorId', 'from', 'to', 'limit', 'nextKey', 'lastKey', 'x'),
        fc.oneof(
          fc.string({ maxLength: 40 }),
          fc.constantFrom(runId, '-1', '0', '1e999', 'NaN', '2024-02-30T00:00:00Z', 'AAAA', '%'),
        ),
      ),
    )
    .map(([path, params]) => ({
      category: 'query strings',
      method: 'GET',
      path: `${path}?${new URLSearchParams(params).toString()}`,
      headers: {},
    })),
});

// --- Sending --------------------------------------------------------------------------------

interface Outcome {
  request: FuzzRequest;
  status: number;
  text: string;
  contentType: string;
}

const send = async (request: FuzzRequest): Promise<Outcome | undefined> => {
  let response: Response;
  try {
    response = await checkedFetch(`${stack.url}${request.path}`, {
      method: request.method,
      headers: request.headers,
      ...(request.body !== undefined && { body: request.body }),
    });
  } catch (error) {
    // The client itself refuses some requests (TRACE, header bytes): nothing was sent.
    if (error instanceof TypeError) return undefined;
    throw error;
  }
  return {
    request,
    status: response.status,
    text: await response.text(),
    contentType: response.headers.get('content-type') ?? '',
  };
};

const sendAll = async (requests: FuzzRequest[]): Promise<Outcome[]> => {
  const outcomes: Outcome[] = [];
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const request = requests[next++] as FuzzRequest;
      const outcome = await send(request);
      if (outcome) outcomes.push(outcome);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return outcomes;
};

const storedReadings = async (): Promise<{ sensorId: string }[]> => {
  const items: { sensorId: string }[] = [];
  let nextKey: string | undefined;
  do {
    const page = await api.get(
      `/api/sensors/data?runId=${runId}&limit=1000${nextKey ? `&nextKey=${nextKey}` : ''}`,
    );
    items.push(...page.body.items);
    nextKey = page.body.nextKey;
  } while (nextKey);
  return items;
};

describe('HTTP fuzzing', () => {
  it('answers thousands of odd requests to every route without a 5xx, and stores only what it accepted', async () => {
    // Prepare
    const runsBefore = (await api.get('/api/runs/all')).body.length;
    const requests = Object.values(categories()).flatMap((arbitrary) =>
      fc.sample(arbitrary, { numRuns: PER_CATEGORY, seed: SEED }),
    );
    // Act
    const startedAt = performance.now();
    const outcomes = await sendAll(requests);
    const sendSeconds = (performance.now() - startedAt) / 1000;

    // Assess: every answer a client error at worst, in the error contract
    const byCategory: Record<string, Record<string, number>> = {};
    for (const { request, status } of outcomes) {
      const counts = (byCategory[request.category] ??= { sent: 0 });
      counts['sent'] = (counts['sent'] ?? 0) + 1;
      counts[String(status)] = (counts[String(status)] ?? 0) + 1;
    }
    console.log(
      `HTTP fuzz: ${outcomes.length} requests in ${sendSeconds.toFixed(1)} s (of ${requests.length} generated; the rest the client refuses to send)\n` +
        Object.entries(byCategory)
          .map(([category, counts]) => `  ${category.padEnd(22)} ${JSON.stringify(counts)}`)
          .join('\n'),
    );
    const serverErrors = outcomes.filter(({ status }) => status >= 500);
    expect(
      serverErrors.map(({ request, status, text }) => ({
        status,
        method: request.method,
        path: request.path.slice(0, 120),
        body: request.body?.slice(0, 200),
        answer: text.slice(0, 200),
      })),
    ).toEqual([]);
    for (const { request, status, text, contentType } of outcomes) {
      if (request.method === 'HEAD' || status === 204) continue;
      // A run's report is there as soon as the run ends: the download's ZIP.
      if (status === 200 && request.path.startsWith('/api/reports/download')) {
        expect(contentType).toBe('application/zip');
        continue;
      }
      expect(contentType, `${request.method} ${request.path}`).toMatch(/^application\/json/);
      const body = JSON.parse(text);
      if (status >= 400) {
        expect(typeof (body.error ?? body.message)).toBe('string');
        expect(text).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
      }
    }
    expect(new Set(outcomes.map((o) => o.request.category)).size).toBe(
      Object.keys(categories()).length,
    );
    // Every route was tried
    for (const route of topology.routes) {
      const pattern = new RegExp(`^${route.path.replace('{id}', '[^/?]+')}(\\?|$)`);
      expect(
        outcomes.some((o) => o.request.method === route.method && pattern.test(o.request.path)),
        `${route.method} ${route.path}`,
      ).toBe(true);
    }

    // Nothing refused is stored: stored sensors are exactly those of accepted requests
    // Once a 202 that lost them: now every request carrying one is refused.
    const carriesUnstorable = (o: Outcome) =>
      UNSTORABLE.some((n) => o.request.body?.includes(`:${n},`));
    expect(outcomes.filter((o) => carriesUnstorable(o) && o.status === 202)).toEqual([]);
    const accepted = outcomes.filter((o) => o.status === 202 && o.request.sensorTag);
    const acceptedReadings = accepted.reduce((sum, o) => sum + JSON.parse(o.text).accepted, 0);
    const acceptedTags = new Set(accepted.map((o) => o.request.sensorTag));
    const stored = await eventually(
      async () => {
        const items = (await storedReadings()).filter((item) => acceptedTags.has(item.sensorId));
        return items.length >= acceptedReadings ? items : undefined;
      },
      30_000,
      'the accepted readings to be stored',
    );
    expect(stored).toHaveLength(acceptedReadings);
    const others = (await storedReadings()).filter((item) => !acceptedTags.has(item.sensorId));
    expect(others).toEqual([]);
    // Nothing is left queued or retried: every accepted message was storable.
    await eventually(
      () => {
        const { visible, inFlight } = stack.queues.measurements.queue.counts();
        return visible + inFlight === 0 ? true : undefined;
      },
      30_000,
      'the queue to drain',
    );
    expect(stack.queues.measurements.deadLetters.counts().visible).toBe(0);
    // Runs: only the starts answered 201 created one
    const created = outcomes.filter(
      (o) => o.request.path === '/api/runs/start' && o.status === 201,
    );
    expect((await api.get('/api/runs/all')).body.length).toBe(runsBefore + created.length);
  }, 120_000);
});
