import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readingKey, type QueueMessage } from './measurement.ts';
import {
  firstReadingOf,
  PACK_MAX_READINGS,
  PACK_SPAN_MS,
  packLowerBound,
  packsOf,
  supersedes,
  unpack,
  type PackedReading,
} from './reading-pack.ts';

const RUN = '11111111-2222-4333-8444-555555555555';
const T0 = Date.UTC(2030, 0, 1, 11, 59, 0);
const at = (ms: number) => new Date(T0 + ms).toISOString();

const message = (
  measurements: QueueMessage['measurements'],
  envelope: Partial<QueueMessage> = {},
): QueueMessage => ({
  v: 1,
  batchId: 'AbCdEfGhIjKlMnOp.0',
  runId: RUN,
  user: 'ana',
  acceptedAt: '2030-01-01T12:00:00.000Z',
  measurements,
  ...envelope,
});

const series = (count: number, stepMs: number, sensorId = 's-1', type = 'temperature') =>
  Array.from({ length: count }, (_, i) => ({
    sensorId,
    type,
    reading: i / 4,
    timestamp: at(i * stepMs),
  }));

describe('packsOf', () => {
  it('packs one sensor and type of a message into one item keyed by its first reading', () => {
    const packs = packsOf(message(series(3, 200).reverse()), 30);
    expect(packs).toEqual([
      {
        runPartition: `${RUN}#s-1`,
        packKey: `${at(0)}#s-1#temperature!AbCdEfGhIjKlMnOp.0`,
        runId: RUN,
        sensorId: 's-1',
        types: ['temperature'],
        user: 'ana',
        batchId: 'AbCdEfGhIjKlMnOp.0',
        acceptedAt: '2030-01-01T12:00:00.000Z',
        offsets: [0, 200, 400],
        values: [0, 0.25, 0.5],
        // Counted from the last reading, so no reading expires before its retention
        expiresAt: Math.floor((T0 + 400) / 1000) + 30 * 86_400,
      },
    ]);
  });

  it("packs a sensor's types together and keeps sensors apart", () => {
    const packs = packsOf(
      message([...series(2, 10, 'a'), ...series(2, 10, 'b'), ...series(2, 10, 'a', 'humidity')]),
      1,
    );
    expect(packs.map((p) => [p.sensorId, p.types, p.typeIndex, p.values.length])).toEqual([
      // Key order: by time, then type
      ['a', ['humidity', 'temperature'], [0, 1, 0, 1], 4],
      ['b', ['temperature'], undefined, 2],
    ]);
    expect(unpack(packs[0]!).map((r) => [r.type, r.timestamp])).toEqual([
      ['humidity', at(0)],
      ['temperature', at(0)],
      ['humidity', at(10)],
      ['temperature', at(10)],
    ]);
  });

  it(`cuts a pack at ${PACK_SPAN_MS} ms from its first reading and at ${PACK_MAX_READINGS} readings`, () => {
    const bySpan = packsOf(message(series(4, PACK_SPAN_MS / 2)), 1);
    expect(bySpan.map((p) => p.offsets)).toEqual([[0, PACK_SPAN_MS / 2, PACK_SPAN_MS], [0]]);
    const byCount = packsOf(message(series(PACK_MAX_READINGS + 1, 1)), 1);
    expect(byCount.map((p) => p.values.length)).toEqual([PACK_MAX_READINGS, 1]);
  });

  it('drops a reading sent twice in one message, keeping the last', () => {
    const [pack] = packsOf(
      message([
        { sensorId: 's', type: 't', reading: 1, timestamp: at(0) },
        { sensorId: 's', type: 't', reading: 2, timestamp: at(5) },
        { sensorId: 's', type: 't', reading: 3, timestamp: at(0) },
      ]),
      1,
    );
    expect(pack?.values).toEqual([3, 2]);
  });

  it('stores ids only when a reading has one, and gives them back', () => {
    const readings = [
      { sensorId: 's', type: 't', reading: 1, timestamp: at(0) },
      { sensorId: 's', type: 't', reading: 2, timestamp: at(0), id: 'c-1' },
      { sensorId: 's', type: 't', reading: 3, timestamp: at(1) },
    ];
    const [pack] = packsOf(message(readings), 1);
    expect(pack?.ids).toEqual(['', 'c-1', '']);
    expect(unpack(pack!).map((r) => r.readingKey)).toEqual(readings.map(readingKey));
    expect(packsOf(message(series(2, 1)), 1)[0]).not.toHaveProperty('ids');
  });

  it('packs a message the same way at every delivery, a partition per sensor of the run', () => {
    const readings = Array.from({ length: 40 }, (_, i) => series(1, 1, `s-${i}`)[0]!);
    const packs = packsOf(message(readings), 1);
    expect(packs.map((p) => p.runPartition).sort()).toEqual(
      Array.from({ length: 40 }, (_, i) => `${RUN}#s-${i}`).sort(),
    );
    const byKey = (list: typeof packs) =>
      [...list].sort((a, b) => (a.packKey < b.packKey ? -1 : 1));
    // Keys follow from the readings and the batch id alone, not from their order
    expect(byKey(packsOf(message([...readings].reverse()), 1))).toEqual(byKey(packs));
  });
});

describe('unpack', () => {
  const reading = fc.record({
    sensorId: fc.constantFrom('a', 'b', 'b-2'),
    type: fc.constantFrom('t', 'temperature'),
    reading: fc.double({ min: -1e9, max: 1e9, noNaN: true, noDefaultInfinity: true }),
    timestamp: fc.integer({ min: 0, max: 3 * PACK_SPAN_MS }).map(at),
    id: fc.option(fc.constantFrom('x', 'y', '@AbCdEfGh.1'), { nil: undefined }),
  });

  it('gives back exactly the distinct readings of a message, each pack in key order', () => {
    fc.assert(
      fc.property(fc.array(reading, { maxLength: 150 }), (measurements) => {
        const cleaned = measurements.map(({ id, ...m }) => (id === undefined ? m : { ...m, id }));
        const packs = packsOf(message(cleaned), 1);
        const expected = new Map(cleaned.map((m) => [readingKey(m), m]));
        const out = packs.flatMap(unpack);
        expect(out).toHaveLength(expected.size);
        for (const r of out) {
          const m = expected.get(r.readingKey);
          expect(m).toBeDefined();
          expect([r.sensorId, r.type, r.timestamp, r.reading]).toEqual([
            m!.sensorId,
            m!.type,
            m!.timestamp,
            m!.reading,
          ]);
        }
        for (const pack of packs) {
          const keys = unpack(pack).map((r) => r.readingKey);
          expect(keys).toEqual([...keys].sort());
          expect(keys[0]).toBe(firstReadingOf(pack.packKey));
          expect(
            Date.parse(keys.at(-1)!.slice(0, 24)) - Date.parse(keys[0]!.slice(0, 24)),
          ).toBeLessThanOrEqual(PACK_SPAN_MS);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('pack keys', () => {
  it('sort as their first readings do, even when one reading key is a prefix of another', () => {
    const [plain] = packsOf(
      message([{ sensorId: 's', type: 't', reading: 1, timestamp: at(0) }]),
      1,
    );
    const [withId] = packsOf(
      message([{ sensorId: 's', type: 't', reading: 1, timestamp: at(0), id: 'a' }], {
        batchId: '0000000000.0',
      }),
      1,
    );
    expect(firstReadingOf(plain!.packKey) < firstReadingOf(withId!.packKey)).toBe(true);
    expect(plain!.packKey < withId!.packKey).toBe(true);
  });

  it(`start at most ${PACK_SPAN_MS} ms before any of their readings`, () => {
    expect(packLowerBound(T0)).toBe(at(-PACK_SPAN_MS));
    expect(packLowerBound(0)).toBe(new Date(0).toISOString());
  });
});

describe('supersedes', () => {
  const copy = (acceptedAt: string, batchId: string) => ({ acceptedAt, batchId }) as PackedReading;

  it('prefers the copy accepted last, then the later message of one request', () => {
    const early = copy('2030-01-01T12:00:00.000Z', 'zzzzzzzz.0');
    const late = copy('2030-01-01T12:00:01.000Z', 'aaaaaaaa.0');
    expect(supersedes(late, early)).toBe(true);
    expect(supersedes(early, late)).toBe(false);
    // Message 10 of a request comes after message 9, though '10' < '9' as text
    const ninth = copy(early.acceptedAt, 'requestA.9');
    const tenth = copy(early.acceptedAt, 'requestA.10');
    expect(supersedes(tenth, ninth)).toBe(true);
    expect(supersedes(ninth, tenth)).toBe(false);
  });
});
