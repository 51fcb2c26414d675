/**
 * Property tests of pagination cursors: any string is a valid cursor or a 400 (a BadRequestError),
 * and every cursor the API hands out decodes back to its key.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeSensorCursor } from '#services/sensor-query/cursor.ts';
import type { AccessPath } from '#services/sensor-query/params.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { BadRequestError } from './errors.ts';

const RUN = '0f8fad5b-d9cb-469f-a165-70867728950e';
const KEYS = ['runId', 'readingKey'];

/** Any string, base64url-looking strings, and encodings of arbitrary JSON (tampered cursors). */
const cursorText = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 3_000 }),
  fc.stringMatching(/^[A-Za-z0-9_-]{0,200}$/),
  fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value) ?? '').toString('base64url')),
  fc
    .dictionary(
      fc.constantFrom('runId', 'readingKey', 'sensorId', 'sensorKey', 'packKey', 'x'),
      fc.jsonValue(),
    )
    .map((key) => encodeCursor(key)),
);

/** Runs `decode`; a refusal must be a 400, anything else fails the property. */
const decodeOr400 = <T>(decode: () => T): T | 'refused' => {
  try {
    return decode();
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).statusCode).toBe(400);
    return 'refused';
  }
};

describe('decodeCursor', () => {
  it('decodes any string to a key of the expected attributes or refuses it with a 400', () => {
    fc.assert(
      fc.property(cursorText, (text) => {
        const key = decodeOr400(() => decodeCursor(text, KEYS, 'lastKey'));
        if (key !== 'refused') expect(Object.keys(key).sort()).toEqual([...KEYS].sort());
      }),
      { numRuns: 2_000 },
    );
  });

  it('reads back every key it encoded', () => {
    const value = fc.oneof(
      fc.string({ minLength: 1, maxLength: 512 }),
      // DynamoDB numbers, so JSON's: no NaN, no infinity, no negative zero
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (n === 0 ? 0 : n)),
    );
    fc.assert(
      fc.property(value, value, (runId, readingKey) => {
        const key = { runId, readingKey };
        expect(decodeCursor(encodeCursor(key), KEYS, 'lastKey')).toEqual(key);
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('decodeSensorCursor', () => {
  const paths: AccessPath[] = [
    { kind: 'run', runId: RUN },
    { kind: 'sensor', sensorId: 's-1' },
  ];

  it('decodes any string to a start key inside the query or refuses it with a 400', () => {
    fc.assert(
      fc.property(
        cursorText,
        fc.constantFrom(...paths),
        fc.option(fc.integer({ min: 0, max: 253_402_300_799_999 }), { nil: undefined }),
        (text, path, from) => {
          const range = from === undefined ? {} : { from };
          const key = decodeOr400(() => decodeSensorCursor(text, path, range));
          if (key === 'refused') return;
          if (path.kind === 'run') expect(key['runId']).toBe(RUN);
          else expect(key['sensorId']).toBe('s-1');
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('accepts the cursor of a page of the same query', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date(0), max: new Date(253_402_300_799_999), noInvalidDate: true }),
        (date) => {
          const time = date.toISOString();
          const key = { runId: RUN, readingKey: `${time}#s-1#temperature` };
          expect(decodeSensorCursor(encodeCursor(key), paths[0] as AccessPath, {})).toEqual(key);
        },
      ),
      { numRuns: 500 },
    );
  });

  /** Calendar fields of a timestamp, each in or a little out of its range. */
  const fields = fc.record({
    year: fc.integer({ min: 0, max: 9999 }),
    month: fc.integer({ min: 0, max: 14 }),
    day: fc.integer({ min: 0, max: 33 }),
    hour: fc.integer({ min: 0, max: 25 }),
    minute: fc.integer({ min: 0, max: 61 }),
    second: fc.integer({ min: 0, max: 61 }),
    ms: fc.integer({ min: 0, max: 999 }),
  });
  type Fields = typeof fields extends fc.Arbitrary<infer T> ? T : never;
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  const text = (f: Fields) =>
    `${pad(f.year, 4)}-${pad(f.month, 2)}-${pad(f.day, 2)}T${pad(f.hour, 2)}:${pad(f.minute, 2)}:` +
    `${pad(f.second, 2)}.${pad(f.ms, 3)}Z`;
  /** The calendar's rule, written apart from the code under test: leap years by the Gregorian rule. */
  const isReal = ({ year, month, day, hour, minute, second }: Fields) => {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
    return (
      days !== undefined && day >= 1 && day <= days && hour <= 23 && minute <= 59 && second <= 59
    );
  };

  it('accepts a well-shaped key exactly when its instant is real, and refuses it with a 400 otherwise', () => {
    fc.assert(
      fc.property(fields, fc.constantFrom(...paths), (f, path) => {
        const key =
          path.kind === 'run'
            ? { runId: RUN, readingKey: `${text(f)}#s-1#temperature` }
            : { sensorId: 's-1', sensorKey: `${text(f)}#${RUN}#humidity#id-7` };
        const decoded = decodeOr400(() => decodeSensorCursor(encodeCursor(key), path, {}));
        expect(decoded === 'refused' ? 'refused' : 'accepted').toBe(
          isReal(f) ? 'accepted' : 'refused',
        );
      }),
      { numRuns: 3_000 },
    );
  });

  it('refuses keys of another run, sensor or shape with a 400', () => {
    const time = '2030-01-01T12:00:00.000Z';
    const part = fc.oneof(
      fc.constantFrom('', 's-1', 's-2', RUN, RUN.toUpperCase(), RUN.replace('f', 'g'), '@x.1'),
      fc.stringMatching(/^[A-Za-z0-9_.:@ -]{0,70}$/),
    );
    fc.assert(
      fc.property(part, part, part, fc.constantFrom(...paths), (owner, type, id, path) => {
        const last = `${time}#${owner}#${type}#${id}`;
        const key =
          path.kind === 'run'
            ? { runId: RUN, readingKey: last }
            : { sensorId: 's-1', sensorKey: last };
        const ownerOk =
          path.kind === 'run'
            ? /^[A-Za-z0-9_.:-]{1,64}$/.test(owner)
            : /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(owner);
        const valid =
          ownerOk &&
          /^[a-z][a-z0-9_]{0,31}$/.test(type) &&
          (/^[A-Za-z0-9_.:-]{1,64}$/.test(id) || /^@[A-Za-z0-9_-]{8,64}\.\d{1,5}$/.test(id));
        const decoded = decodeOr400(() => decodeSensorCursor(encodeCursor(key), path, {}));
        expect(decoded === 'refused' ? 'refused' : 'accepted').toBe(valid ? 'accepted' : 'refused');
      }),
      { numRuns: 3_000 },
    );
  });
});
