import { describe, expect, it } from 'vitest';
import { acceptsMeasurements, effectiveStatus } from './run.ts';

const GRACE = 120_000;
const deadlineAt = 1_000_000;

describe('effectiveStatus', () => {
  it('reads a RUNNING run past its deadline as TIMEOUT, and nothing else changes', () => {
    expect(effectiveStatus({ status: 'RUNNING', deadlineAt }, deadlineAt)).toBe('RUNNING');
    expect(effectiveStatus({ status: 'RUNNING', deadlineAt }, deadlineAt + 1)).toBe('TIMEOUT');
    expect(effectiveStatus({ status: 'COMPLETED', deadlineAt }, deadlineAt + 1)).toBe('COMPLETED');
  });
});

describe('acceptsMeasurements', () => {
  const finishedAt = new Date(500_000).toISOString();

  it('takes readings while running and for the grace period after a finish', () => {
    expect(acceptsMeasurements({ status: 'RUNNING', deadlineAt }, deadlineAt, GRACE)).toBe(true);
    const finished = { status: 'COMPLETED' as const, deadlineAt, finishedAt };
    expect(acceptsMeasurements(finished, 500_000 + GRACE, GRACE)).toBe(true);
    expect(acceptsMeasurements(finished, 500_000 + GRACE + 1, GRACE)).toBe(false);
  });

  it('takes none after the deadline, whether or not the sweeper has written TIMEOUT', () => {
    expect(acceptsMeasurements({ status: 'RUNNING', deadlineAt }, deadlineAt + 1, GRACE)).toBe(
      false,
    );
    const swept = {
      status: 'TIMEOUT' as const,
      deadlineAt,
      finishedAt: new Date(deadlineAt + 30_000).toISOString(),
    };
    expect(acceptsMeasurements(swept, deadlineAt + 31_000, GRACE)).toBe(false);
  });
});
