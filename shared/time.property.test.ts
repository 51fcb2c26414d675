/** Property tests of the timestamp rules: strict, total, and exact on what they accept. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseInstantParam, parseIsoTimestamp } from './time.ts';

const instant = fc.date({
  min: new Date(-62_167_219_200_000), // 0000-01-01T00:00:00.000Z
  max: new Date(253_402_300_799_999), // 9999-12-31T23:59:59.999Z
  noInvalidDate: true,
});

describe('parseIsoTimestamp', () => {
  it('never throws and gives a finite instant or undefined for any string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' })), (text) => {
        const parsed = parseIsoTimestamp(text);
        expect(parsed === undefined || Number.isFinite(parsed)).toBe(true);
      }),
      { numRuns: 1_000 },
    );
  });

  it('reads back every canonical instant exactly, and the same instant in any zone', () => {
    fc.assert(
      fc.property(
        instant,
        fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }),
        (date, offsetMinutes) => {
          const ms = date.getTime();
          expect(parseIsoTimestamp(date.toISOString())).toBe(ms);
          // The same instant written in another zone: local wall time plus ±hh:mm
          const local = new Date(ms + offsetMinutes * 60_000);
          const year = local.getUTCFullYear();
          if (year < 0 || year > 9999) return;
          const sign = offsetMinutes < 0 ? '-' : '+';
          const abs = Math.abs(offsetMinutes);
          const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
          const wall = local.toISOString().slice(0, -1);
          expect(parseIsoTimestamp(`${wall}${zone}`)).toBe(ms);
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('refuses instants without seconds or zone, and dates that do not exist', () => {
    fc.assert(
      fc.property(instant, (date) => {
        const iso = date.toISOString();
        expect(parseIsoTimestamp(iso.slice(0, 16))).toBeUndefined(); // no seconds, no zone
        expect(parseIsoTimestamp(iso.slice(0, -1))).toBeUndefined(); // no zone
      }),
      { numRuns: 300 },
    );
    expect(parseIsoTimestamp('2023-02-29T00:00:00Z')).toBeUndefined();
    expect(parseIsoTimestamp('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
  });
});

describe('parseInstantParam', () => {
  it('takes epoch milliseconds as digits and ISO instants; never throws', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.nat().map(String),
          instant.map((d) => d.toISOString()),
        ),
        (text) => {
          const parsed = parseInstantParam(text);
          expect(parsed === undefined || Number.isFinite(parsed)).toBe(true);
          if (/^\d{1,16}$/.test(text)) expect(parsed).toBe(Number(text));
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
