import { strFromU8, unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { BadRequestError, NotFoundError } from '#shared/errors.ts';
import type { RunReport } from '#shared/run-report.ts';
import { InMemoryReportStore } from '#test/support/in-memory-report-store.ts';
import { InMemoryRunStore } from '#test/support/in-memory-run-store.ts';
import { aRun } from '#test/support/runs.ts';
import { downloadReports, parseReportQuery } from './reports.ts';

const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

const readyReport = (runId: string): RunReport => ({
  runId,
  state: 'READY',
  builtAt: '2030-01-01T13:00:00.000Z',
  readingsNotBrokenDown: 0,
  rows: [
    {
      sensorId: 's-1',
      type: 'temperature',
      count: 2,
      min: 20,
      max: 22,
      sum: 42,
      firstAt: '2030-01-01T12:00:01.000Z',
      lastAt: '2030-01-01T12:00:02.000Z',
    },
  ],
});

/** Three runs started an hour apart; the first two have reports, the third is still running. */
const setup = async () => {
  const store = new InMemoryRunStore();
  const reports = new InMemoryReportStore();
  for (const n of [1, 2, 3]) {
    await store.putRun(
      aRun(ID(n), {
        startedAt: `2030-01-01T1${n}:00:00.000Z`,
        status: n === 3 ? 'RUNNING' : 'COMPLETED',
      }),
    );
  }
  await reports.putReport(readyReport(ID(1)));
  await reports.putReport(readyReport(ID(2)));
  await reports.putReport({ ...readyReport(ID(3)), state: 'BUILDING' });
  const deps = {
    store,
    reports,
    settings: { maxConcurrentRuns: 5, graceMs: 0, retentionDays: 30, grafanaUrl: '' },
    now: () => Date.parse('2030-01-02T08:09:10.123Z'),
    newId: () => ID(99),
  };
  return { deps };
};

const filesOf = (zip: Uint8Array) =>
  Object.fromEntries(Object.entries(unzipSync(zip)).map(([name, data]) => [name, strFromU8(data)]));

describe('downloadReports', () => {
  it('zips one CSV per run with a ready report, named after the run', async () => {
    const { deps } = await setup();
    const download = await downloadReports(deps, {});
    expect(download.fileName).toBe('reports_20300102T080910Z.zip');
    const files = filesOf(download.zip);
    expect(Object.keys(files).sort()).toEqual([`report_${ID(1)}.csv`, `report_${ID(2)}.csv`]);
    expect(files[`report_${ID(2)}.csv`]).toContain(
      's-1,temperature,2,20,22,21,2030-01-01T12:00:01.000Z,2030-01-01T12:00:02.000Z',
    );
    expect(download).toMatchObject({ runs: 2, omitted: 0 });
  });

  it('narrows to one run, or to runs started within from/to', async () => {
    const { deps } = await setup();
    expect(Object.keys(filesOf((await downloadReports(deps, { runId: ID(1) })).zip))).toEqual([
      `report_${ID(1)}.csv`,
    ]);
    const ranged = await downloadReports(deps, {
      from: Date.parse('2030-01-01T11:30:00Z'),
      to: Date.parse('2030-01-01T12:00:00Z'),
    });
    expect(Object.keys(filesOf(ranged.zip))).toEqual([`report_${ID(2)}.csv`]);
  });

  it('answers 404 when no run in the query has a ready report', async () => {
    const { deps } = await setup();
    await expect(downloadReports(deps, { runId: ID(3) })).rejects.toThrow(NotFoundError);
    await expect(downloadReports(deps, { runId: ID(42) })).rejects.toThrow('No reports found');
    await expect(
      downloadReports(deps, { from: Date.parse('2031-01-01T00:00:00Z') }),
    ).rejects.toThrow(NotFoundError);
  });

  it('leaves out what exceeds the size bound, newest runs first, and says how many', async () => {
    const { deps } = await setup();
    const download = await downloadReports(deps, {}, { maxRuns: 100, maxCsvBytes: 100 });
    expect(Object.keys(filesOf(download.zip))).toEqual([`report_${ID(2)}.csv`]);
    expect(download.omitted).toBe(1);
  });
});

describe('parseReportQuery', () => {
  it('reads runId, and from/to as ISO instants or epoch milliseconds', () => {
    expect(
      parseReportQuery({ runId: ID(1), from: '2030-01-01T00:00:00Z', to: '1893456000000' }),
    ).toEqual({
      runId: ID(1),
      from: Date.parse('2030-01-01T00:00:00Z'),
      to: 1_893_456_000_000,
    });
  });

  it('refuses bad instants with 400 and treats a malformed run id as unknown (404)', () => {
    expect(() => parseReportQuery({ from: 'yesterday' })).toThrow(BadRequestError);
    expect(() =>
      parseReportQuery({ from: '2030-01-02T00:00:00Z', to: '2030-01-01T00:00:00Z' }),
    ).toThrow(BadRequestError);
    expect(() => parseReportQuery({ runId: 'slot#0' })).toThrow(NotFoundError);
  });
});
