/**
 * Opaque pagination cursors: a DynamoDB LastEvaluatedKey as base64url JSON. Decoding checks
 * the shape against the key attributes the query expects, so a tampered cursor is a 400 and
 * never reaches DynamoDB as a malformed key.
 */
import { BadRequestError } from './errors.ts';

const MAX_CURSOR_LENGTH = 2048;

export const encodeCursor = (key: Record<string, unknown>): string =>
  Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');

export const decodeCursor = (
  cursor: string,
  expectedAttributes: readonly string[],
  field: string,
): Record<string, string | number> => {
  const invalid = () =>
    new BadRequestError(`${field} is not a valid cursor`, [
      { field, message: 'pass back the cursor of a previous page unchanged' },
    ]);
  if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid();
  const entries = Object.entries(parsed);
  const expected = new Set(expectedAttributes);
  const wellFormed =
    entries.length === expected.size &&
    entries.every(
      ([name, value]) =>
        expected.has(name) &&
        ((typeof value === 'string' && value.length > 0 && value.length <= 512) ||
          (typeof value === 'number' && Number.isFinite(value))),
    );
  if (!wellFormed) throw invalid();
  return parsed as Record<string, string | number>;
};
