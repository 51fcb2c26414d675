/**
 * One source of truth: every request validator of the functions agrees with the OpenAPI
 * description on every input fast-check generates. Inputs are valid requests with fields
 * mutated across each rule's boundary (ranges, lengths, patterns, types, null, shapes); for each
 * the validator's verdict (accepted, or refused with a domain error) must equal the verdict of
 * the description's schema (Ajv, JSON Schema 2020-12, formats on).
 *
 * The only refusals the schema may not share are the rules no schema can state, each named in
 * the description's text: a timestamp's window around the time of the request, a run id that
 * must match another field or the X-Run-Id header, the size of `params` as JSON, `from` after
 * `to`, an instant before 1970 or after 9999, and "runId or sensorId". The tests below classify
 * a disagreement by those rules only; anything else fails.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { DomainError, type ErrorDetail } from '#shared/errors.ts';
import { MAX_KEY_TIME_MS, MEASUREMENT_LIMITS } from '#shared/measurement.ts';
import { parseInstantParam } from '#shared/time.ts';
import { IDEMPOTENCY_KEY } from '#services/ingest/app.ts';
import { parseIngestBody } from '#services/ingest/validation.ts';
import { parseFinishCommand, parseLimit, parseStartCommand } from '#services/run-api/requests.ts';
import { parseReportQuery } from '#services/run-api/reports.ts';
import { parseSensorDataQuery } from '#services/sensor-query/params.ts';
import { openApiDocument } from './openapi.ts';

const RUNS = 400;
const RUN = '0f8fad5b-d9cb-469f-a165-70867728950e';
const OTHER_RUN = '9b2e4f1a-3c5d-4e6f-8a7b-1c2d3e4f5a6b';
const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);

const document = openApiDocument();
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(document, 'api');
const schemaAt = (pointer: string) => ajv.compile({ $ref: `api#${pointer}` });
const escape = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');
const bodySchema = (path: string, method: string) =>
  schemaAt(`/paths/${escape(path)}/${method}/requestBody/content/application~1json/schema`);

/** A parameter's schema, by name, for an operation (resolving `$ref`s to shared parameters). */
const parameterSchema = (path: string, method: string, name: string) => {
  const parameters = (document.paths as any)[path][method].parameters as any[];
  const index = parameters.findIndex((p) => (p.$ref ? false : p.name === name));
  if (index < 0) throw new Error(`no parameter ${name} on ${method} ${path}`);
  return schemaAt(`/paths/${escape(path)}/${method}/parameters/${index}/schema`);
};

/** The validator's verdict: the details of its refusal, or undefined when it accepts. */
const refusal = (validate: () => unknown): ErrorDetail[] | undefined => {
  try {
    validate();
    return undefined;
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return error.details.length > 0 ? error.details : [{ message: error.message }];
  }
};

/** As the body reaches a function: JSON (no undefined, no -0, no NaN). */
const asJson = (value: unknown): unknown =>
  value === undefined ? undefined : JSON.parse(JSON.stringify(value));

/**
 * The property: schema and validator agree, except where every problem the validator names is
 * one of `unstated` (rules the description states in words only).
 */
const agree = (
  schemaAccepts: boolean,
  problems: ErrorDetail[] | undefined,
  unstated: (problem: ErrorDetail) => boolean = () => false,
): boolean => {
  if (problems === undefined) return schemaAccepts;
  if (!schemaAccepts) return true;
  return problems.every(unstated);
};

// --- Values around each rule -------------------------------------------------------------

const odd = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 8 }),
  fc.constant(''),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
);
const maybe = <T>(arbitrary: fc.Arbitrary<T>) =>
  fc.option(arbitrary, { nil: undefined, freq: 3 }) as fc.Arbitrary<T | undefined>;

const id = fc.oneof(
  { arbitrary: fc.stringMatching(/^[A-Za-z0-9_.:-]{1,64}$/), weight: 4 },
  { arbitrary: fc.constantFrom('', 'a'.repeat(64), 'a'.repeat(65), 'bad id', 'é'), weight: 2 },
  { arbitrary: fc.string({ maxLength: 70 }), weight: 1 },
  { arbitrary: odd, weight: 1 },
);
const numberAround = (...edges: number[]) =>
  fc.oneof(
    fc.constantFrom(...edges.flatMap((e) => [e, e - 0.001, e + 0.001, e - 1, e + 1])),
    fc.double({ min: Math.min(...edges) - 10, max: Math.max(...edges) + 10, noNaN: true }),
    odd,
  );

const { minAbsReading, maxAbsReading, maxAgeMs, maxFutureMs } = MEASUREMENT_LIMITS;
const reading = fc.oneof(
  fc.constantFrom(0, -0, 21.5, -40, maxAbsReading, -maxAbsReading, minAbsReading, -minAbsReading),
  fc.constantFrom(maxAbsReading * 1.0001, minAbsReading * 0.9, 1e-320, 1e300, -1e-200),
  fc.double({ min: -1e4, max: 1e4, noNaN: true }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  odd,
);
const type = fc.oneof(
  fc.constantFrom('temperature', 'co2', 'pm2_5', 'a'.repeat(32), 'a'.repeat(33), 'Temp', '1abc'),
  fc.stringMatching(/^[a-z][a-z0-9_]{0,31}$/),
  odd,
);
/** Instants inside and outside the accepted window, as ISO strings of several forms or epoch ms. */
const timestamp = fc.oneof(
  fc
    .integer({ min: NOW - maxAgeMs - 86_400_000, max: NOW + maxFutureMs + 3_600_000 })
    .chain((ms) =>
      fc.constantFrom(
        ms,
        new Date(ms).toISOString(),
        new Date(ms).toISOString().replace('.000Z', 'Z'),
        new Date(ms).toISOString().replace('Z', '+00:00'),
        new Date(ms).toISOString().replace('T', ' '),
        new Date(ms).toISOString().slice(0, 16) + 'Z',
        ms + 0.5,
      ),
    ),
  fc.constantFrom(
    '2026-02-30T00:00:00Z',
    '2026-11-25T24:00:00Z',
    '2026-11-25T11:59:60Z',
    '2026-11-25t11:00:00z',
    '2026-11-25T11:00:00.123456789+01:30',
    '2026-11-25T11:00:00+24:00',
    '2026-11-25T11:00:00',
  ),
  odd,
);

const item = fc.record(
  {
    sensorId: id,
    type,
    reading,
    temperature: reading,
    humidity: reading,
    pressure: reading,
    timestamp,
    id,
    runId: fc.constantFrom(RUN, OTHER_RUN, 'not-a-run', null, 5),
  },
  { requiredKeys: [] },
);
/** Items mostly of one valid shape, so that validation reaches past the first problem. */
const plausibleItem = fc.oneof(
  fc.record({ sensorId: id, type: maybe(type), reading, timestamp: maybe(timestamp) }),
  fc.record({
    sensorId: id,
    temperature: maybe(reading),
    humidity: maybe(reading),
    pressure: maybe(reading),
    id: maybe(id),
    timestamp: maybe(timestamp),
  }),
  item,
);

// --- The properties ------------------------------------------------------------------------

describe('the request validators agree with the OpenAPI description', () => {
  it('POST /api/runs/start: parseStartCommand and StartRequest', () => {
    const schema = bodySchema('/api/runs/start', 'post');
    const fields = fc.record(
      {
        duration: numberAround(1, 86_400),
        interval: numberAround(0.01, 3_600),
        sensorIds: fc.oneof(
          fc.array(id, { maxLength: 4 }),
          fc.constantFrom(100, 101).map((n) => Array.from({ length: n }, (_, i) => `s-${i}`)),
          odd,
        ),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      fields,
      fields.map((params) => ({ params })),
      fc.record({ params: odd, duration: numberAround(1), interval: numberAround(1) }),
      odd,
    );
    fc.assert(
      fc.property(body, (raw) => {
        const value = asJson(raw);
        return agree(
          schema(value),
          refusal(() => parseStartCommand(value)),
          (p) => p.field === 'params' && /bytes/.test(p.message),
        );
      }),
      // A body CI found the two disagreeing on: the validator takes a null sensorIds as absent.
      { numRuns: RUNS, examples: [[{ duration: 1, interval: 0.01, sensorIds: null }]] },
    );
  });

  it('POST /api/runs/{id}/finish: parseFinishCommand and FinishRequest (the body is optional)', () => {
    const schema = bodySchema('/api/runs/{id}/finish', 'post');
    const text = fc.oneof(
      fc.string({ maxLength: 5 }),
      fc.constantFrom('a'.repeat(1000), 'a'.repeat(1001), ''),
      odd,
    );
    const body = fc.oneof(
      fc.record(
        {
          status: fc.oneof(fc.constantFrom('COMPLETED', 'SUCCESS', 'FAILED', 'RUNNING'), odd),
          errorMessage: text,
          message: text,
        },
        { requiredKeys: [] },
      ),
      odd,
      fc.constant(undefined),
    );
    fc.assert(
      fc.property(body, (raw) => {
        const value = asJson(raw);
        const schemaAccepts = value === undefined || schema(value);
        return agree(
          schemaAccepts,
          refusal(() => parseFinishCommand(value)),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('POST /api/sensors/data: parseIngestBody and MeasurementRequest', () => {
    const schema = bodySchema('/api/sensors/data', 'post');
    const body = fc.oneof(
      plausibleItem,
      fc.array(plausibleItem, { maxLength: 4 }),
      fc.record(
        {
          measurements: fc.oneof(fc.array(plausibleItem, { maxLength: 4 }), odd),
          runId: fc.constantFrom(RUN, OTHER_RUN, 'x'),
        },
        { requiredKeys: ['measurements'] },
      ),
      fc.constantFrom(MEASUREMENT_LIMITS.maxItems, MEASUREMENT_LIMITS.maxItems + 1).map((n) => ({
        measurements: Array.from({ length: n }, () => ({ sensorId: 's', reading: 1 })),
      })),
      odd,
    );
    const windowOrRun = (p: ErrorDetail) =>
      /in the future|older than/.test(p.message) || /differs from/.test(p.message);
    fc.assert(
      fc.property(body, (raw) => {
        const value = asJson(raw);
        // The run comes from the X-Run-Id header here; a body's runId must name the same run.
        return agree(
          schema(value),
          refusal(() => parseIngestBody(value, RUN, NOW)),
          windowOrRun,
        );
      }),
      { numRuns: RUNS * 2 },
    );
  });

  /** A query string's value as the schema sees it: integers are digits; empty is absent. */
  const queryValue = (raw: string, integer: boolean): unknown =>
    integer ? (/^\d+$/.test(raw) ? Number(raw) : raw) : raw;
  const integerText = fc.oneof(
    fc.integer({ min: -5, max: 1_200 }).map(String),
    fc
      .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 1_200 }))
      .map(([zeros, n]) => `${'0'.repeat(zeros)}${n}`),
    fc.constantFrom(
      '0',
      '1',
      '100',
      '101',
      '1000',
      '1001',
      '007',
      '1e2',
      '5.0',
      ' 5',
      '0x10',
      '+5',
    ),
    fc.string({ maxLength: 4 }),
  );
  const instantText = fc.oneof(
    fc.integer({ min: -10, max: 2 ** 53 }).map(String),
    fc.constantFrom('9999999999999999', '99999999999999999', '253402300799999', '253402300800000'),
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    fc.constantFrom('2026-11-25T12:00:00+01:00', '2026-02-30T00:00:00Z', 'yesterday', ''),
  );
  /** Instants parse, but fall outside what the functions take (before 1970, after 9999). */
  const outOfRange = (raw: string | undefined) => {
    const ms = raw === undefined ? undefined : parseInstantParam(raw);
    return ms !== undefined && (ms < 0 || ms > MAX_KEY_TIME_MS);
  };

  it('GET /api/runs: parseLimit and the limit parameter', () => {
    const schema = parameterSchema('/api/runs', 'get', 'limit');
    fc.assert(
      fc.property(integerText, (raw) => {
        const absent = raw === '';
        return agree(
          absent || schema(queryValue(raw, true)),
          refusal(() => parseLimit(absent ? undefined : raw)),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('GET /api/sensors/data: parseSensorDataQuery and its parameters', () => {
    const path = '/api/sensors/data';
    const schemas = {
      runId: [parameterSchema(path, 'get', 'runId'), false],
      sensorId: [parameterSchema(path, 'get', 'sensorId'), false],
      from: [parameterSchema(path, 'get', 'from'), false],
      to: [parameterSchema(path, 'get', 'to'), false],
      limit: [parameterSchema(path, 'get', 'limit'), true],
      nextKey: [parameterSchema(path, 'get', 'nextKey'), false],
    } as const;
    /** Mostly absent or valid, so that each rule is reached with the others satisfied. */
    const often = <T>(valid: fc.Arbitrary<T>, other: fc.Arbitrary<T>) =>
      fc.oneof(
        { arbitrary: fc.constant(undefined), weight: 2 },
        { arbitrary: valid, weight: 2 },
        { arbitrary: other, weight: 1 },
      );
    const query = fc.record({
      runId: fc.oneof(
        { arbitrary: fc.constant(RUN), weight: 4 },
        {
          arbitrary: fc.oneof(fc.constantFrom(RUN.toUpperCase(), 'run-1', ''), fc.string()),
          weight: 1,
        },
      ),
      sensorId: often(
        fc.constantFrom('temp-1', 's'),
        id.filter((v): v is string => typeof v === 'string'),
      ),
      from: often(fc.constant('2026-11-25T12:00:00Z'), instantText),
      to: often(fc.constant('1795000000000'), instantText),
      limit: often(fc.integer({ min: 1, max: 1000 }).map(String), integerText),
      nextKey: often(fc.constant('abc'), fc.string({ maxLength: 5 })),
    });
    fc.assert(
      fc.property(query, (params) => {
        const present = Object.entries(params).filter(
          (entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '',
        );
        const schemaAccepts = present.every(([name, raw]) => {
          const [validate, integer] = schemas[name as keyof typeof schemas];
          return validate(queryValue(raw, integer));
        });
        const get = (name: string) => present.find(([n]) => n === name)?.[1] as string | undefined;
        return agree(
          schemaAccepts,
          refusal(() => parseSensorDataQuery(get)),
          (p) =>
            /runId or sensorId/.test(p.message) ||
            (p.field === 'from' && /after to/.test(p.message)) ||
            (p.field !== undefined && ['from', 'to'].includes(p.field) && outOfRange(get(p.field))),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('GET /api/reports/download: parseReportQuery and its parameters', () => {
    const path = '/api/reports/download';
    const query = fc.record(
      {
        runId: fc.oneof(fc.constantFrom(RUN, 'run-1'), fc.string({ maxLength: 5 })),
        from: instantText,
        to: instantText,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(query, (params) => {
        const present = Object.fromEntries(
          Object.entries(params).filter(([, v]) => v !== undefined && v !== ''),
        );
        const schemaAccepts = Object.entries(present).every(([name, raw]) =>
          parameterSchema(path, 'get', name)(raw),
        );
        const problems = refusal(() => parseReportQuery(present));
        return agree(
          schemaAccepts,
          problems,
          // A runId that is no run id finds nothing (404): the description says so in words.
          (p) => /No reports found|after to/.test(p.message),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('Idempotency-Key: the header pattern is the one the ingest checks', () => {
    const [keyParameter] = (
      (document.paths as any)['/api/sensors/data'].post.parameters as any[]
    ).filter((p) => p.name === 'Idempotency-Key');
    const schema = ajv.compile(keyParameter.schema);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.stringMatching(/^[A-Za-z0-9_.:+/=-]{1,130}$/),
          fc.string({ maxLength: 130 }),
          fc.uuid(),
        ),
        (key) => schema(key) === IDEMPOTENCY_KEY.test(key),
      ),
      { numRuns: RUNS },
    );
  });
});
