import { describe, expect, it } from 'vitest';
import { runPartitions, type QueueMessage } from '#shared/measurement.ts';
import { chunk, itemsOf } from './items.ts';

const RUN = '11111111-2222-4333-8444-555555555555';
const message = (measurements: QueueMessage['measurements']): QueueMessage => ({
  v: 1,
  batchId: 'AbCdEfGhIjKlMnOpQrStUv.0',
  runId: RUN,
  user: 'ana',
  acceptedAt: '2030-01-01T12:00:00.000Z',
  measurements,
});
const T = '2030-01-01T11:59:59.000Z';

describe('itemsOf', () => {
  it('makes one row per reading with identity keys and a TTL from the reading time', () => {
    const [item] = itemsOf(
      message([{ sensorId: 's-1', type: 'temperature', reading: 21.5, timestamp: T }]),
      30,
    );
    expect(item).toEqual({
      runPartition: expect.stringMatching(new RegExp(`^${RUN}#\\d$`)),
      runId: RUN,
      readingKey: `${T}#s-1#temperature`,
      sensorId: 's-1',
      sensorKey: `${T}#${RUN}#temperature`,
      type: 'temperature',
      reading: 21.5,
      timestamp: T,
      user: 'ana',
      batchId: 'AbCdEfGhIjKlMnOpQrStUv.0',
      expiresAt: Date.parse(T) / 1000 + 30 * 86_400,
    });
  });

  it('spreads a run over its partitions by reading, the same partition for the same reading', () => {
    const readings = Array.from({ length: 200 }, (_, i) => ({
      sensorId: `s-${i % 7}`,
      type: 'temperature',
      reading: i,
      timestamp: new Date(Date.parse(T) - i).toISOString(),
    }));
    const partitions = itemsOf(message(readings), 1).map((i) => i.runPartition);
    expect(new Set(partitions)).toEqual(new Set(runPartitions(RUN)));
    expect(itemsOf(message(readings), 1).map((i) => i.runPartition)).toEqual(partitions);
  });

  it('removes readings with the same identity, keeping the last', () => {
    const items = itemsOf(
      message([
        { sensorId: 's', type: 't', reading: 1, timestamp: T },
        { sensorId: 's', type: 'u', reading: 2, timestamp: T },
        { sensorId: 's', type: 't', reading: 3, timestamp: T },
      ]),
      1,
    );
    expect(items.map((i) => [i.type, i.reading])).toEqual([
      ['u', 2],
      ['t', 3],
    ]);
  });

  it('keeps readings apart that differ only by id', () => {
    const items = itemsOf(
      message([
        { sensorId: 's', type: 't', reading: 1, timestamp: T, id: '@AbCdEfGhIjKlMnOpQrStUv.0' },
        { sensorId: 's', type: 't', reading: 2, timestamp: T, id: '@AbCdEfGhIjKlMnOpQrStUv.1' },
      ]),
      1,
    );
    expect(items).toHaveLength(2);
  });
});

describe('chunk', () => {
  it('splits into chunks of at most the size', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 25)).toEqual([]);
  });
});
