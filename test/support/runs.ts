import type { Run } from '#shared/run.ts';

/** A RUNNING run with plain defaults; tests override what they look at. */
export const aRun = (id: string, overrides: Partial<Run> = {}): Run => ({
  id,
  username: 'u',
  status: 'RUNNING',
  startedAt: '2026-11-25T10:00:00.000Z',
  duration: 60,
  interval: 1,
  sensorIds: [],
  params: {},
  deadlineAt: 0,
  slot: 0,
  ...overrides,
});
