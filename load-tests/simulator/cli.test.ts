import { describe, expect, it } from 'vitest';
import { formatReport, parseCli } from './cli.ts';

describe('npm run simulate: the command line', () => {
  it('has front-end-like defaults', () => {
    expect(parseCli([], {})).toMatchObject({
      url: 'http://127.0.0.1:3000',
      runs: 1,
      sensors: 5,
      types: ['temperature', 'humidity', 'pressure'],
      rate: 100,
      batch: 1,
      durationSeconds: 10,
      concurrency: 32,
      verify: false,
      json: false,
    });
  });

  it('reads every option; rate 0 means unpaced; --readings alone replaces the duration', () => {
    const options = parseCli(
      [
        '--url',
        'http://h:1/',
        '--rate',
        '0',
        '--readings',
        '50',
        '--batch',
        '10',
        '--types',
        'co2, voc',
        '--verify',
        '--json',
      ],
      {},
    );
    expect(options).toMatchObject({
      url: 'http://h:1',
      readings: 50,
      batch: 10,
      types: ['co2', 'voc'],
      verify: true,
      json: true,
    });
    expect(options).not.toHaveProperty('rate');
    expect(options).not.toHaveProperty('durationSeconds');
    expect(parseCli([], { API_URL: 'http://api' })).toMatchObject({ url: 'http://api' });
  });

  it('refuses bad values with the option named', () => {
    expect(() => parseCli(['--batch', '0'], {})).toThrow(/--batch/);
    expect(() => parseCli(['--rate', 'fast'], {})).toThrow(/--rate/);
    expect(() => parseCli(['--nope'], {})).toThrow();
    expect(parseCli(['--help'], {})).toBe('help');
  });

  it('prints refusals by status and the verification', () => {
    const text = formatReport(
      {
        url: 'u',
        runs: [{ id: 'r', status: 'FAILED' }],
        batch: 1,
        targetRate: 10,
        sent: 5,
        accepted: 3,
        refused: 2,
        refusedByStatus: { '0': 1, '503': 1 },
        requests: 5,
        retries: 4,
        achievedRate: 3,
        sendingMs: 1000,
        latencyMs: { mean: 1.5, p50: 1, p95: 2, p99: 3, max: 4 },
        interrupted: true,
      },
      { stored: 3, lost: 0, duplicated: 0, unexpected: 0, catchUpMs: 1500, pagesRead: 1 },
    );
    expect(text).toContain('refused     2 (no answer: 1, 503: 1)');
    expect(text).toContain('interrupted');
    expect(text).toContain('stored      3  lost 0  duplicated 0');
  });
});
