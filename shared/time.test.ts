import { describe, expect, it } from 'vitest';
import { parseInstantParam, parseIsoTimestamp } from './time.ts';

describe('parseIsoTimestamp', () => {
  it.each([
    ['2030-01-01T12:00:00Z', Date.UTC(2030, 0, 1, 12)],
    ['2030-01-01T12:00:00.5Z', Date.UTC(2030, 0, 1, 12, 0, 0, 500)],
    ['2030-01-01T12:00:00.123456789Z', Date.UTC(2030, 0, 1, 12, 0, 0, 123)],
    ['2030-01-01T14:00:00+02:00', Date.UTC(2030, 0, 1, 12)],
    ['2030-01-01T07:30:00-04:30', Date.UTC(2030, 0, 1, 12)],
    ['2028-02-29T00:00:00Z', Date.UTC(2028, 1, 29)],
  ])('reads %s', (text, expected) => {
    expect(parseIsoTimestamp(text)).toBe(expected);
  });

  it.each([
    '2030-01-01',
    '2030-01-01T12:00Z',
    '2030-01-01T12:00:00',
    '2030-02-30T00:00:00Z',
    '2029-02-29T00:00:00Z',
    '2030-13-01T00:00:00Z',
    '2030-01-01T24:00:00Z',
    '2030-01-01T12:60:00Z',
    '2030-01-01T12:00:00+24:00',
    '2030-01-01 12:00:00Z',
    ' 2030-01-01T12:00:00Z',
  ])('refuses %s', (text) => {
    expect(parseIsoTimestamp(text)).toBeUndefined();
  });
});

describe('parseInstantParam', () => {
  it('reads epoch milliseconds as digits and ISO instants', () => {
    expect(parseInstantParam('1893499200000')).toBe(1893499200000);
    expect(parseInstantParam('2030-01-01T12:00:00Z')).toBe(Date.UTC(2030, 0, 1, 12));
    expect(parseInstantParam('-5')).toBeUndefined();
    expect(parseInstantParam('1e12')).toBeUndefined();
  });
});
