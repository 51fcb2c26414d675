import { randomUUID } from 'node:crypto';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packsOf, type ReadingPack } from '#shared/reading-pack.ts';
import { DynamoReportStore } from '#shared/report-store.ts';
import type { StoredReading } from '#shared/run-report.ts';
import { DynamoRunStore } from '#shared/run-store.ts';
import { startTestDynamoDb, type TestDynamoDb } from '#test/support/dynamodb.ts';
import { InMemoryReportStore } from '#test/support/in-memory-report-store.ts';
import { aRun } from '#test/support/runs.ts';
import {
  buildDueReports,
  DynamoRunReadings,
  REPORT_PAGE_READINGS,
  REPORT_RESERVE_MS,
  type ReadingPage,
  type RunReadings,
} from './reports.ts';

const reading = (sensorId: string, value: number, second: number): StoredReading => ({
  sensorId,
  type: 'temperature',
  reading: value,
  timestamp: `2030-01-01T12:00:${String(second).padStart(2, '0')}.000Z`,
});

/** Readings served in fixed pages, counting the pages asked for. */
const pagedReadings = (pages: StoredReading[][]): RunReadings & { asked: number } => {
  const source = {
    asked: 0,
    async page(_runId: string, startKey?: Record<string, unknown>): Promise<ReadingPage> {
      source.asked++;
      const index = (startKey?.page as number | undefined) ?? 0;
      return {
        readings: pages[index] ?? [],
        ...(index + 1 < pages.length ? { lastKey: { page: index + 1 } } : {}),
      };
    },
  };
  return source;
};

describe('buildDueReports', () => {
  it('builds the report of a run once it is due, and only then', async () => {
    const reports = new InMemoryReportStore();
    reports.due.set('due', 1_000);
    reports.due.set('later', 5_000);
    const readings = pagedReadings([
      [reading('a', 1, 1), reading('a', 3, 2)],
      [reading('b', 7, 3)],
    ]);

    const progress = await buildDueReports({
      reports,
      readings,
      now: () => 2_000,
      remainingMs: () => 60_000,
      retentionDays: 30,
    });

    expect(progress).toEqual({ ready: ['due'], building: [] });
    expect(reports.reports.get('due')).toMatchObject({
      state: 'READY',
      rows: [
        { sensorId: 'a', count: 2, min: 1, max: 3, sum: 4 },
        { sensorId: 'b', count: 1, min: 7, max: 7, sum: 7 },
      ],
    });
    expect(reports.reports.get('due')).not.toHaveProperty('cursor');
    expect([...reports.due.keys()]).toEqual(['later']);
  });

  it('saves a large run half-built when time runs short and finishes it at the next sweep', async () => {
    const reports = new InMemoryReportStore();
    reports.due.set('big', 0);
    const readings = pagedReadings([
      [reading('a', 1, 1)],
      [reading('a', 2, 2)],
      [reading('a', 3, 3)],
    ]);
    let remaining = REPORT_RESERVE_MS + 1;
    const deps = {
      reports,
      readings,
      now: () => 10,
      // Enough to start and read one page, then the invocation is nearly over.
      remainingMs: () => (readings.asked === 0 ? remaining : REPORT_RESERVE_MS - 1),
      retentionDays: 30,
    };

    expect(await buildDueReports(deps)).toEqual({ ready: [], building: ['big'] });
    expect(reports.reports.get('big')).toMatchObject({ state: 'BUILDING', cursor: { page: 1 } });
    expect(reports.due.has('big')).toBe(true);

    readings.asked = 0;
    remaining = 60_000;
    deps.remainingMs = () => remaining;
    expect(await buildDueReports(deps)).toEqual({ ready: ['big'], building: [] });
    expect(reports.reports.get('big')?.rows).toEqual([
      expect.objectContaining({ sensorId: 'a', count: 3, sum: 6, min: 1, max: 3 }),
    ]);
    expect(reports.due.has('big')).toBe(false);
  });
});

describe('on DynamoDB', () => {
  let db: TestDynamoDb;
  let runsTable: string;
  let sensorTable: string;
  beforeAll(async () => {
    db = await startTestDynamoDb();
    [runsTable, sensorTable] = await Promise.all([
      db.createTable('runs'),
      db.createTable('sensorData'),
    ]);
  });
  afterAll(() => db?.close());

  const writePacks = async (packs: ReadingPack[]) => {
    const docs = db.documents();
    for (let i = 0; i < packs.length; i += 25) {
      await docs.send(
        new BatchWriteCommand({
          RequestItems: {
            [sensorTable]: packs.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })),
          },
        }),
      );
    }
  };

  /** A run ended with its report due at 500. */
  const endedRun = async (runs: DynamoRunStore) => {
    const runId = randomUUID();
    await runs.putRun(aRun(runId, { deadlineAt: Date.now() + 60_000 }), 0);
    await runs.endRun(
      runId,
      { status: 'COMPLETED', finishedAt: new Date().toISOString(), reportDueAt: 500 },
      { liveAt: Date.now() },
    );
    return runId;
  };

  it('finds the run through the reportDue index, reads its stored packs and clears the index', async () => {
    const docs = db.documents();
    const runs = new DynamoRunStore(docs, runsTable);
    const reports = new DynamoReportStore(docs, runsTable);
    const runId = await endedRun(runs);
    await writePacks(
      packsOf(
        {
          runId,
          user: 'ana',
          batchId: 'AbCdEfGhIjKl.0',
          acceptedAt: new Date(1_900_000_000_000).toISOString(),
          measurements: Array.from({ length: 60 }, (_, i) => ({
            ...reading(`s-${i % 3}`, i, i % 60),
            timestamp: new Date(1_900_000_000_000 + i).toISOString(),
          })),
        },
        30,
      ),
    );

    expect(await reports.listDue(499, 10)).toEqual([]);
    expect(await reports.listDue(500, 10)).toEqual([runId]);
    const progress = await buildDueReports({
      reports,
      readings: new DynamoRunReadings((command) => docs.send(command), sensorTable),
      now: () => 1_000,
      remainingMs: () => 60_000,
      retentionDays: 30,
    });

    expect(progress.ready).toEqual([runId]);
    expect(await reports.listDue(Date.now(), 10)).toEqual([]);
    const report = await reports.getReport(runId);
    expect(report?.state).toBe('READY');
    expect(report?.rows.map((r) => [r.sensorId, r.count]).sort()).toEqual([
      ['s-0', 20],
      ['s-1', 20],
      ['s-2', 20],
    ]);
    // The run itself reads as before: no index attributes leak into it.
    expect(await runs.getRun(runId)).not.toHaveProperty('reportDuePk');
  });

  it('counts a reading stored by two messages once, with the later value, across pages and sweeps', async () => {
    const docs = db.documents();
    const runs = new DynamoRunStore(docs, runsTable);
    const reports = new DynamoReportStore(docs, runsTable);
    const runId = await endedRun(runs);
    const t0 = 1_900_000_000_000;
    // 2,400 readings of 4 sensors, one every 5 ms, sent in messages of 150 (so pages end inside
    // packs); every message after the first is sent again as one with values 1,000 higher (a
    // retry without Idempotency-Key, accepted later): every reading but the first 150 is stored
    // twice.
    const sent = Array.from({ length: 2400 }, (_, i) => ({
      sensorId: `s-${i % 4}`,
      type: 'temperature',
      reading: i,
      timestamp: new Date(t0 + i * 5).toISOString(),
    }));
    const messages = Array.from({ length: 16 }, (_, m) => sent.slice(m * 150, (m + 1) * 150));
    const packs = messages.flatMap((measurements, m) => [
      ...packsOf(
        {
          runId,
          user: 'ana',
          batchId: `First${String(m).padStart(4, '0')}.0`,
          acceptedAt: new Date(t0 + 60_000).toISOString(),
          measurements,
        },
        30,
      ),
      ...(m === 0
        ? []
        : packsOf(
            {
              runId,
              user: 'ana',
              batchId: `Again${String(m).padStart(4, '0')}.0`,
              acceptedAt: new Date(t0 + 61_000).toISOString(),
              measurements: measurements.map((r) => ({ ...r, reading: r.reading + 1000 })),
            },
            30,
          )),
    ]);
    await writePacks(packs);

    const readings = new DynamoRunReadings((command) => docs.send(command), sensorTable);
    let pages = 0;
    const counted: RunReadings = {
      page: (id, startKey) => {
        pages++;
        return readings.page(id, startKey);
      },
    };
    // The first sweep has time for one page; the next finishes the report from its cursor.
    let remaining = REPORT_RESERVE_MS + 1;
    const deps = {
      reports,
      readings: counted,
      now: () => 1_000,
      remainingMs: () => (pages === 0 ? remaining : REPORT_RESERVE_MS - 1),
      retentionDays: 30,
    };
    expect(await buildDueReports(deps)).toEqual({ ready: [], building: [runId] });
    expect((await reports.getReport(runId))?.cursor).toEqual({
      runId,
      readingKey: expect.any(String),
    });
    remaining = 60_000;
    deps.remainingMs = () => remaining;
    expect(await buildDueReports(deps)).toEqual({ ready: [runId], building: [] });
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(2400 / REPORT_PAGE_READINGS));

    const rows = (await reports.getReport(runId))?.rows ?? [];
    const valueOf = (i: number) => (i < 150 ? i : i + 1000);
    expect([...rows].sort((a, b) => (a.sensorId < b.sensorId ? -1 : 1))).toEqual(
      [0, 1, 2, 3].map((s) => {
        const mine = sent.map((_, i) => i).filter((i) => i % 4 === s);
        return {
          sensorId: `s-${s}`,
          type: 'temperature',
          count: 600,
          min: valueOf(mine[0]!),
          max: valueOf(mine.at(-1)!),
          sum: mine.reduce((total, i) => total + valueOf(i), 0),
          firstAt: sent[mine[0]!]!.timestamp,
          lastAt: sent[mine.at(-1)!]!.timestamp,
        };
      }),
    );
  }, 60_000);
});
