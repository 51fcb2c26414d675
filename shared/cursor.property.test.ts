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
          const key = {
            runId: RUN,
            readingKey: `${time}#s-1#temperature`,
            packKey: `${time}#s-0#temperature!AbCdEfGhIjKl.0`,
          };
          expect(decodeSensorCursor(encodeCursor(key), paths[0] as AccessPath, {})).toEqual(key);
        },
      ),
      { numRuns: 500 },
    );
  });
});
