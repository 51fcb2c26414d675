import { describe, expect, it } from 'vitest';
import type { QueueMessage } from '#shared/measurement.ts';
import { InvalidMessageError, parseQueueMessage } from './message.ts';

const message: QueueMessage = {
  v: 1,
  batchId: 'AbCdEfGhIjKlMnOpQrStUv.3',
  runId: '11111111-2222-4333-8444-555555555555',
  user: 'ana',
  acceptedAt: '2030-01-01T12:00:00.000Z',
  measurements: [
    { sensorId: 's-1', type: 'temperature', reading: 21.5, timestamp: '2030-01-01T11:59:59.000Z' },
    {
      sensorId: 's-1',
      type: 'humidity',
      reading: 40,
      timestamp: '2030-01-01T12:00:00.000Z',
      id: '@AbCdEfGhIjKlMnOpQrStUv.1',
    },
    {
      sensorId: 's-2',
      type: 'co2',
      reading: 400,
      timestamp: '2030-01-01T11:00:00.000Z',
      id: 'client-7',
    },
  ],
};

describe('parseQueueMessage', () => {
  it('reads back what the edge wrote', () => {
    expect(parseQueueMessage(JSON.stringify(message))).toEqual(message);
  });

  it.each([
    ['not JSON', '{'],
    ['an array', '[]'],
    ['another version', JSON.stringify({ ...message, v: 2 })],
    ['a missing batchId', JSON.stringify({ ...message, batchId: undefined })],
    ['a malformed batchId', JSON.stringify({ ...message, batchId: 'x' })],
    ['a malformed runId', JSON.stringify({ ...message, runId: 'run-1' })],
    ['an empty user', JSON.stringify({ ...message, user: '' })],
    [
      'a non-canonical acceptedAt',
      JSON.stringify({ ...message, acceptedAt: '2030-01-01T12:00:00Z' }),
    ],
    ['no measurements', JSON.stringify({ ...message, measurements: [] })],
    [
      'a bad sensorId',
      JSON.stringify({
        ...message,
        measurements: [{ ...message.measurements[0], sensorId: 'a#b' }],
      }),
    ],
    [
      'a bad type',
      JSON.stringify({ ...message, measurements: [{ ...message.measurements[0], type: 'T' }] }),
    ],
    [
      'a string reading',
      JSON.stringify({ ...message, measurements: [{ ...message.measurements[0], reading: '1' }] }),
    ],
    [
      'a bad timestamp',
      JSON.stringify({ ...message, measurements: [{ ...message.measurements[0], timestamp: 1 }] }),
    ],
    [
      'a bad id',
      JSON.stringify({ ...message, measurements: [{ ...message.measurements[0], id: 'a#b' }] }),
    ],
  ])('refuses %s', (_case, body) => {
    expect(() => parseQueueMessage(body)).toThrow(InvalidMessageError);
  });
});
