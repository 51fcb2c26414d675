import { describe, expect, it } from 'vitest';
import { failureReasonOf, formatReport, summarizeDeadLetters } from './report.ts';

const errorLine = (message: string, name: string) =>
  JSON.stringify({ level: 'ERROR', message: 'Record failed', error: { name, message } });

describe('summarizeDeadLetters', () => {
  it('counts, dates and describes the sample, and ranks failure reasons', () => {
    const report = summarizeDeadLetters({
      count: 7,
      sample: [
        {
          MessageId: 'm2',
          Body: JSON.stringify({ runId: 'r1', batchId: 'b2', measurements: [{}, {}] }),
          Attributes: { SentTimestamp: '2000', ApproximateReceiveCount: '5' },
        },
        { MessageId: 'm1', Body: 'not json', Attributes: { SentTimestamp: '1000' } },
      ],
      logLines: [
        errorLine('Rate exceeded', 'ThrottlingException'),
        `2026-01-01 ${errorLine('Rate exceeded', 'ThrottlingException')}`,
        errorLine('bad', 'ValidationException'),
        JSON.stringify({ level: 'INFO', message: 'Batch processed' }),
        'plain text',
      ],
    });
    expect(report).toEqual({
      count: 7,
      oldestSampled: new Date(1000).toISOString(),
      sample: [
        {
          messageId: 'm2',
          sentAt: new Date(2000).toISOString(),
          receiveCount: 5,
          runId: 'r1',
          batchId: 'b2',
          readings: 2,
        },
        { messageId: 'm1', sentAt: new Date(1000).toISOString() },
      ],
      failureReasons: [
        { reason: 'Record failed — ThrottlingException: Rate exceeded', count: 2 },
        { reason: 'Record failed — ValidationException: bad', count: 1 },
      ],
    });
    expect(formatReport(report)).toContain('2 × Record failed — ThrottlingException');
  });

  it('finds no reason in lines that are not warnings or errors', () => {
    expect(failureReasonOf(JSON.stringify({ level: 'INFO', message: 'x' }))).toBeUndefined();
    expect(failureReasonOf('{broken')).toBeUndefined();
    expect(failureReasonOf(JSON.stringify({ level: 'WARN', message: 'Parked' }))).toBe('Parked');
  });
});
