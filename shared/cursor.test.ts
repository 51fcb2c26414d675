import { describe, expect, it } from 'vitest';
import { BadRequestError } from './errors.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';

const attributes = ['id', 'listPk', 'startedKey'];

describe('cursors', () => {
  it('round-trips a key', () => {
    const key = { id: 'r1', listPk: 'RUN', startedKey: '2026-11-25T10:00:00.000Z#r1' };
    expect(decodeCursor(encodeCursor(key), attributes, 'lastKey')).toEqual(key);
  });

  it.each([
    ['not base64url', '!!!'],
    ['not JSON', Buffer.from('{').toString('base64url')],
    ['an array', encodeCursor([] as unknown as Record<string, unknown>)],
    ['a missing attribute', encodeCursor({ id: 'r1', listPk: 'RUN' })],
    ['an extra attribute', encodeCursor({ id: 'r1', listPk: 'RUN', startedKey: 's', x: 1 })],
    ['a nested value', encodeCursor({ id: { S: 'r1' }, listPk: 'RUN', startedKey: 's' })],
    ['an empty value', encodeCursor({ id: '', listPk: 'RUN', startedKey: 's' })],
    ['an oversized cursor', 'a'.repeat(3000)],
  ])('refuses %s with a 400 naming the field', (_case, cursor) => {
    try {
      decodeCursor(cursor, attributes, 'lastKey');
      throw new Error('accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(BadRequestError);
      expect((error as BadRequestError).details[0]?.field).toBe('lastKey');
    }
  });
});
