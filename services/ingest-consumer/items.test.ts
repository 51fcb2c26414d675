import { describe, expect, it } from 'vitest';
import { packsOf } from '#shared/reading-pack.ts';
import { chunk, toParkedRow } from './items.ts';

describe('toParkedRow', () => {
  it('keeps a refused pack whole beside its run, out of the query paths', () => {
    const [pack] = packsOf(
      {
        runId: '11111111-2222-4333-8444-555555555555',
        user: 'ana',
        batchId: 'AbCdEfGhIjKl.0',
        acceptedAt: '2030-01-01T12:00:00.000Z',
        measurements: [
          { sensorId: 's', type: 't', reading: 1, timestamp: '2030-01-01T11:59:59.000Z' },
        ],
      },
      30,
    );
    const row = toParkedRow({ item: pack!, reason: 'Number underflow' }, Date.UTC(2030, 0, 2));
    expect(row).toEqual({
      runPartition: 'parked#11111111-2222-4333-8444-555555555555',
      runId: pack!.runId,
      packKey: pack!.packKey,
      row: JSON.stringify(pack),
      reason: 'Number underflow',
      parkedAt: '2030-01-02T00:00:00.000Z',
      batchId: 'AbCdEfGhIjKl.0',
      expiresAt: pack!.expiresAt,
    });
  });
});

describe('chunk', () => {
  it('splits into chunks of at most the size', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 25)).toEqual([]);
  });
});
