/**
 * Property tests of the edge's validation: any JSON value is either accepted or refused with a
 * domain error (never an unexpected throw), and every accepted reading comes out of packing and
 * the consumer's item mapping unchanged.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DomainError } from '#shared/errors.ts';
import { KNOWN_TYPES, MEASUREMENT_LIMITS, readingKey } from '#shared/measurement.ts';
import { parseQueueMessage } from '#services/ingest-consumer/message.ts';
import { packsOf, supersedes, unpack, type PackedReading } from '#shared/reading-pack.ts';
import { packMessages, toQueueMeasurements } from './packing.ts';
import { parseIngestBody, type ParsedIngest } from './validation.ts';

const RUN = '0f8fad5b-d9cb-469f-a165-70867728950e';
const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
const RUNS = 300;

/** Calls validation; a refusal must be a DomainError, anything else fails the property. */
const validate = (body: unknown, header: string | undefined = RUN): ParsedIngest | DomainError => {
  try {
    return parseIngestBody(body, header, NOW);
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
};

const safeId = fc.stringMatching(/^[A-Za-z0-9_.:-]{1,64}$/);
const type = fc.oneof(fc.constantFrom(...KNOWN_TYPES), fc.stringMatching(/^[a-z][a-z0-9_]{0,31}$/));
/** Every double, with in-range values weighted in and the edges: tiny, huge, subnormal, ±0. */
const reading = fc.oneof(
  { arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }), weight: 1 },
  {
    // Within the accepted magnitudes (fast-check favours tiny doubles, which the edge refuses).
    arbitrary: fc
      .tuple(
        fc.boolean(),
        fc.double({
          min: MEASUREMENT_LIMITS.minAbsReading,
          max: MEASUREMENT_LIMITS.maxAbsReading,
          noNaN: true,
        }),
      )
      .map(([negative, magnitude]) => (negative ? -magnitude : magnitude)),
    weight: 6,
  },
  {
    arbitrary: fc.constantFrom(0, -0, 5e-324, -5e-324, 1e-320, 1e-130, 9.99e125, 1e9, -1e9, 0.3),
    weight: 1,
  },
  { arbitrary: fc.integer({ min: -1e6, max: 1e6 }), weight: 2 },
);
/** Mostly inside the accepted window, sometimes a minute beyond either end. */
const recentMs = fc.oneof(
  {
    arbitrary: fc.integer({
      min: NOW - MEASUREMENT_LIMITS.maxAgeMs,
      max: NOW + MEASUREMENT_LIMITS.maxFutureMs,
    }),
    weight: 8,
  },
  {
    arbitrary: fc.integer({
      min: NOW - MEASUREMENT_LIMITS.maxAgeMs - 60_000,
      max: NOW + MEASUREMENT_LIMITS.maxFutureMs + 60_000,
    }),
    weight: 1,
  },
);
const timestamp = fc.oneof(
  recentMs,
  recentMs.map((ms) => new Date(ms).toISOString()),
  recentMs.map((ms) => new Date(ms).toISOString().replace('Z', '+00:00')),
);
const single = fc.record(
  { sensorId: safeId, type, reading, timestamp, id: safeId },
  { requiredKeys: ['sensorId', 'type', 'reading'] },
);
const multi = fc.record(
  { sensorId: safeId, temperature: reading, humidity: reading, pressure: reading, timestamp },
  { requiredKeys: ['sensorId'] },
);
const item = fc.oneof(single, multi);
/** Bodies shaped like the API's, so a good share is accepted. */
const plausibleBody = fc.oneof(
  item,
  fc.record({ measurements: fc.array(item, { minLength: 1, maxLength: 8 }) }),
  fc.array(item, { minLength: 1, maxLength: 8 }),
);
/** Anything JSON can say, including objects that borrow the API's field names. */
const anyJson = fc.oneof(
  fc.jsonValue(),
  fc.dictionary(
    fc.constantFrom('sensorId', 'type', 'reading', 'timestamp', 'id', 'runId', 'measurements'),
    fc.jsonValue(),
  ),
  fc.array(fc.dictionary(fc.constantFrom('sensorId', 'type', 'reading', 'runId'), fc.jsonValue())),
);

describe('parseIngestBody', () => {
  it('gives a result or a domain error for any JSON value and any run id', () => {
    fc.assert(
      fc.property(
        fc.oneof(anyJson, plausibleBody),
        fc.option(fc.oneof(fc.constant(RUN), fc.string()), { nil: undefined }),
        (body, header) => {
          const outcome = validate(body, header);
          if (outcome instanceof DomainError) {
            expect(outcome.statusCode).toBeGreaterThanOrEqual(400);
            expect(outcome.statusCode).toBeLessThan(500);
          }
        },
      ),
      { numRuns: RUNS * 3 },
    );
  });

  it('hands every accepted reading through packing and the item mapping unchanged', () => {
    let accepted = 0;
    fc.assert(
      fc.property(plausibleBody, fc.stringMatching(/^[A-Za-z0-9_-]{8,20}$/), (body, tag) => {
        const outcome = validate(body);
        if (outcome instanceof DomainError) return;
        accepted += outcome.measurements.length;
        const envelope = { runId: RUN, user: 'u', acceptedAt: new Date(NOW).toISOString() };
        const queued = toQueueMeasurements(outcome.measurements, tag);
        const messages = packMessages(envelope, tag, queued);
        expect(messages.reduce((sum, m) => sum + m.count, 0)).toBe(queued.length);

        // The readings of the packs the consumer writes, by key; of a reading sent twice, the
        // later copy is the one read back
        const rows = new Map<string, PackedReading>();
        for (const reading of messages
          .flatMap((message) => packsOf(parseQueueMessage(message.body), 30))
          .flatMap(unpack)) {
          const other = rows.get(reading.readingKey);
          if (other === undefined || supersedes(reading, other))
            rows.set(reading.readingKey, reading);
        }
        const expected = new Map(queued.map((m, index) => [readingKey(m), index]));
        expect(rows.size).toBe(expected.size);
        for (const [key, index] of expected) {
          const reading = outcome.measurements[index];
          const row = rows.get(key);
          expect(row).toMatchObject({
            runId: RUN,
            sensorId: reading?.sensorId,
            type: reading?.type,
            timestamp: new Date(reading?.timestamp ?? NaN).toISOString(),
          });
          // The number itself: same value, bit for bit except the sign of zero (JSON has none)
          expect(row?.reading === reading?.reading).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
    // The generator is worth something only if it reaches the accepting path: about one
    // reading a run on average (297 in one run of 300, so the bar is half that)
    expect(accepted).toBeGreaterThan(RUNS / 2);
  });
});
