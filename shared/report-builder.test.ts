import { randomUUID } from 'node:crypto';
import { BatchWriteCommand, type QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { packsOf, parkedPartition, type ReadingPack } from '#shared/reading-pack.ts';
import { DynamoReportStore } from '#shared/report-store.ts';
import { EDGE_DECISION_SLACK_MS, type StoredReading } from '#shared/run-report.ts';
import { DynamoRunStore } from '#shared/run-store.ts';
import { DynamoRunTally } from '#shared/run-tally.ts';
import { storePacks, useTestTables } from '#test/support/dynamodb.ts';
import { InMemoryReportStore } from '#test/support/in-memory-report-store.ts';
import { InMemoryRunStore } from '#test/support/in-memory-run-store.ts';
import { InMemoryRunTally } from '#test/support/in-memory-run-tally.ts';
import { aRun } from '#test/support/runs.ts';
import {
  buildReport,
  DynamoRunReadings,
  REPORT_PAGE_READINGS,
  REPORT_RESERVE_MS,
  type ReadingPage,
  type ReportBuildDeps,
  type RunReadings,
} from './report-builder.ts';

const reading = (sensorId: string, value: number, second: number): StoredReading => ({
  sensorId,
  type: 'temperature',
  reading: value,
  timestamp: `2030-01-01T12:00:${String(second).padStart(2, '0')}.000Z`,
});

/** A table in memory: its readings served in fixed pages (one copy each), and its parked count. */
class PagedReadings implements RunReadings {
  pages: StoredReading[][] = [];
  parkedReadings = 0;
  asked = 0;
  async page(_runId: string, startKey?: Record<string, unknown>): Promise<ReadingPage> {
    this.asked++;
    const index = (startKey?.page as number | undefined) ?? 0;
    const readings = this.pages[index] ?? [];
    return {
      readings,
      packReadings: readings.length,
      ...(index + 1 < this.pages.length ? { lastKey: { page: index + 1 } } : {}),
    };
  }
  async parked(): Promise<number> {
    return this.parkedReadings;
  }
}

const GRACE_MS = 5_000;
const FINISHED = Date.UTC(2030, 0, 1, 12, 1);
/** When a run finished at FINISHED has its acceptance window closed. */
const CLOSES = FINISHED + GRACE_MS + EDGE_DECISION_SLACK_MS;

const setup = async (status: 'COMPLETED' | 'TIMEOUT' = 'COMPLETED') => {
  const runs = new InMemoryRunStore();
  const reports = new InMemoryReportStore();
  const readings = new PagedReadings();
  const tally = new InMemoryRunTally();
  const runId = randomUUID();
  await runs.putRun(
    aRun(runId, {
      status,
      deadlineAt: status === 'TIMEOUT' ? FINISHED : FINISHED + 60_000,
      finishedAt: new Date(FINISHED).toISOString(),
    }),
  );
  let now = FINISHED;
  const deps: ReportBuildDeps = {
    runs,
    reports,
    readings,
    tally,
    now: () => now,
    remainingMs: () => 60_000,
    retentionDays: 30,
    graceMs: GRACE_MS,
  };
  return { runId, runs, reports, readings, tally, deps, at: (ms: number) => (now = ms) };
};

describe('buildReport', () => {
  it('builds a provisional report as the run ends and a final one once its window has closed', async () => {
    const { runId, reports, readings, tally, deps, at } = await setup();
    readings.pages = [[reading('a', 1, 1), reading('a', 3, 2)], [reading('b', 7, 3)]];
    await tally.add(runId, 3);
    expect(await buildReport(deps, runId)).toBe('ready');
    expect(reports.reports.get(runId)).toMatchObject({
      state: 'READY',
      final: false,
      acceptedReadings: 3,
      storedReadings: 3,
      rows: [
        { sensorId: 'a', count: 2, min: 1, max: 3, sum: 4 },
        { sensorId: 'b', count: 1, min: 7, max: 7, sum: 7 },
      ],
    });
    // Built again when no edge can take a reading any more.
    expect(reports.due.get(runId)).toBe(CLOSES);
    at(CLOSES - 1);
    await buildReport(deps, runId);
    expect(reports.reports.get(runId)?.final).toBe(false);
    at(CLOSES);
    await buildReport(deps, runId);
    expect(reports.reports.get(runId)).toMatchObject({ final: true, acceptedReadings: 3 });
    expect(reports.due.has(runId)).toBe(false);
  });

  it('stays provisional while an accepted reading is on its way, and turns final when it lands', async () => {
    const { runId, reports, readings, tally, deps, at } = await setup();
    readings.pages = [[reading('a', 1, 1)]];
    await tally.add(runId, 2);
    at(CLOSES + 1_000);
    await buildReport(deps, runId);
    expect(reports.reports.get(runId)).toMatchObject({ final: false, storedReadings: 1 });
    // No polling: nothing is due until the consumer stores a batch for the run.
    expect(reports.due.has(runId)).toBe(false);
    readings.pages = [[reading('a', 1, 1), reading('a', 2, 2)]];
    reports.storedLate(runId, CLOSES + 60_000);
    at(CLOSES + 60_000);
    expect(await reports.listDue(CLOSES + 60_000, 10)).toEqual([runId]);
    await buildReport(deps, runId);
    expect(reports.reports.get(runId)).toMatchObject({ final: true, storedReadings: 2 });
    expect(reports.due.has(runId)).toBe(false);
  });

  it('counts parked readings as arrived, and never calls final a table holding less than accepted', async () => {
    const { runId, reports, readings, tally, deps, at } = await setup('TIMEOUT');
    readings.pages = [[reading('a', 1, 1)]];
    readings.parkedReadings = 1;
    await tally.add(runId, 3);
    at(FINISHED + EDGE_DECISION_SLACK_MS);
    await buildReport(deps, runId);
    expect(reports.reports.get(runId)).toMatchObject({ final: false, parkedReadings: 1 });
    readings.parkedReadings = 2;
    await buildReport(deps, runId);
    expect(reports.reports.get(runId)?.final).toBe(true);
  });

  it('reports a run that ended without readings, final once its window closed', async () => {
    const { runId, reports, deps, at } = await setup();
    await buildReport(deps, runId);
    expect(reports.reports.get(runId)).toMatchObject({ rows: [], final: false });
    at(CLOSES);
    await buildReport(deps, runId);
    expect(reports.reports.get(runId)).toMatchObject({
      rows: [],
      final: true,
      acceptedReadings: 0,
      storedReadings: 0,
    });
  });

  it('keeps the rebuild asked for by a batch stored while it was building', async () => {
    const { runId, reports, readings, tally, deps, at } = await setup();
    at(CLOSES);
    await tally.add(runId, 1);
    // The consumer stores the batch after the build read the readings.
    readings.page = async () => {
      reports.storedLate(runId, CLOSES);
      return { readings: [], packReadings: 0 };
    };
    await buildReport(deps, runId);
    expect(reports.reports.get(runId)?.final).toBe(false);
    expect(reports.due.has(runId)).toBe(true);
  });

  it('saves a large run half-built when time runs short, keeps the last complete report for downloads, and continues', async () => {
    const { runId, reports, readings, tally, deps, at } = await setup();
    at(CLOSES);
    readings.pages = [[reading('a', 1, 1)], [reading('a', 2, 2)], [reading('a', 3, 3)]];
    await tally.add(runId, 3);
    await buildReport(deps, runId);
    const complete = reports.reports.get(runId);
    expect(complete?.final).toBe(true);
    // A late batch: built again, with time for one page per invocation.
    reports.storedLate(runId, CLOSES);
    readings.pages.push([reading('a', 4, 4)]);
    await tally.add(runId, 1);
    readings.asked = 0;
    deps.remainingMs = () => (readings.asked === 0 ? REPORT_RESERVE_MS : REPORT_RESERVE_MS - 1);
    expect(await buildReport(deps, runId)).toBe('building');
    expect(reports.reports.get(runId)).toEqual(complete);
    expect(reports.building.get(runId)).toMatchObject({ cursor: { page: 1 } });
    expect(reports.due.has(runId)).toBe(true);
    deps.remainingMs = () => 60_000;
    expect(await buildReport(deps, runId)).toBe('ready');
    expect(reports.reports.get(runId)).toMatchObject({
      final: true,
      storedReadings: 4,
      rows: [expect.objectContaining({ count: 4, sum: 10 })],
    });
    expect(reports.building.has(runId)).toBe(false);
  });

  it('starts a half-built report again when a batch landed since it started', async () => {
    const { runId, reports, readings, tally, deps, at } = await setup();
    at(CLOSES);
    readings.pages = [[reading('a', 1, 1)], [reading('a', 2, 2)]];
    await tally.add(runId, 2);
    deps.remainingMs = () => (readings.asked === 0 ? REPORT_RESERVE_MS : REPORT_RESERVE_MS - 1);
    expect(await buildReport(deps, runId)).toBe('building');
    reports.storedLate(runId, CLOSES);
    readings.pages[0]!.unshift(reading('a', 0, 0));
    await tally.add(runId, 1);
    deps.remainingMs = () => 60_000;
    await buildReport(deps, runId);
    expect(reports.reports.get(runId)).toMatchObject({ final: true, storedReadings: 3 });
  });
});

describe('on DynamoDB', () => {
  const {
    db,
    tables: { runs: runsTable, sensorData: sensorTable },
  } = useTestTables('runs', 'sensorData');

  /** Stores packs as the consumer does: their directory entries, then the packs. */
  const writePacks = (packs: ReadingPack[]) => storePacks(db.documents(), sensorTable, packs);

  /** A run that ended an hour ago (its acceptance window closed), its report due at 500. */
  const endedRun = async (runs: DynamoRunStore) => {
    const runId = randomUUID();
    const hourAgo = Date.now() - 3_600_000;
    await runs.putRun(aRun(runId, { deadlineAt: hourAgo + 60_000 }), 0);
    await runs.endRun(
      runId,
      { status: 'COMPLETED', finishedAt: new Date(hourAgo).toISOString(), reportDueAt: 500 },
      { liveAt: hourAgo },
    );
    return runId;
  };

  const dynamoDeps = (readings?: RunReadings): ReportBuildDeps & { tally: DynamoRunTally } => {
    const docs = db.documents();
    return {
      runs: new DynamoRunStore(docs, runsTable),
      reports: new DynamoReportStore(docs, runsTable),
      readings: readings ?? new DynamoRunReadings((command) => docs.send(command), sensorTable),
      tally: new DynamoRunTally(docs, runsTable, 3),
      now: () => Date.now(),
      remainingMs: () => 60_000,
      retentionDays: 30,
      graceMs: 5_000,
    };
  };

  it('counts stored and parked readings against the tally, and a late batch makes the run due again', async () => {
    const deps = dynamoDeps();
    const reports = deps.reports as DynamoReportStore;
    const runId = await endedRun(new DynamoRunStore(db.documents(), runsTable));
    const packs = packsOf(
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
    );
    await writePacks(packs);
    // One pack of 20 readings of another message was refused for good and parked instead.
    const refused = packsOf(
      {
        runId,
        user: 'ana',
        batchId: 'ParkedParked.0',
        acceptedAt: new Date(1_900_000_000_000).toISOString(),
        measurements: Array.from({ length: 20 }, (_, i) => ({
          ...reading('s-9', i, 0),
          timestamp: new Date(1_900_000_000_000 + i).toISOString(),
        })),
      },
      30,
    )[0]!;
    await db.documents().send(
      new BatchWriteCommand({
        RequestItems: {
          [sensorTable]: [
            {
              PutRequest: {
                Item: {
                  runPartition: parkedPartition(runId),
                  packKey: refused.packKey,
                  row: JSON.stringify(refused),
                },
              },
            },
          ],
        },
      }),
    );
    await deps.tally.add(runId, 81, 0);
    expect(await reports.listDue(499, 10)).toEqual([]);
    expect(await reports.listDue(500, 10)).toContain(runId);

    expect(await buildReport(deps, runId)).toBe('ready');
    expect(await reports.getReport(runId)).toMatchObject({
      final: false,
      acceptedReadings: 81,
      storedReadings: 60,
      parkedReadings: 20,
    });
    // Waiting for the 81st reading: out of the index, back in when the consumer stores it.
    expect(await reports.listDue(Date.now(), 100)).not.toContain(runId);
    expect(await reports.endedRuns([runId, randomUUID()])).toEqual([runId]);
    await writePacks(
      packsOf(
        {
          runId,
          user: 'ana',
          batchId: 'LateLateLate.0',
          acceptedAt: new Date(1_900_000_000_000).toISOString(),
          measurements: [
            { ...reading('s-0', 99, 0), timestamp: new Date(1_900_000_000_999).toISOString() },
          ],
        },
        30,
      ),
    );
    expect(await reports.storedLate(runId, 1_000, 1)).toBe(true);
    expect(await reports.listDue(1_000, 100)).toContain(runId);
    expect(await buildReport(deps, runId)).toBe('ready');
    const report = await reports.getReport(runId);
    expect(report).toMatchObject({ final: true, storedReadings: 61, parkedReadings: 20 });
    expect(report?.rows.map((r) => [r.sensorId, r.count]).sort()).toEqual([
      ['s-0', 21],
      ['s-1', 20],
      ['s-2', 20],
    ]);
    expect(await reports.listDue(Date.now(), 100)).not.toContain(runId);
    // The run itself reads as before: no index or report attributes leak into it.
    const run = await deps.runs.getRun(runId);
    expect(run).not.toHaveProperty('reportDuePk');
    expect(run).not.toHaveProperty('lateStores');
  });

  it('never replaces a report with one built from an earlier state, or a final one with its equal', async () => {
    const reports = new DynamoReportStore(db.documents(), runsTable);
    const runId = randomUUID();
    const report = (lateStores: number, final: boolean) => ({
      runId,
      state: 'READY' as const,
      rows: [],
      readingsNotBrokenDown: 0,
      builtAt: new Date().toISOString(),
      lateStores,
      final,
    });
    expect(await reports.putReport(report(1, false), 0)).toBe(true);
    expect(await reports.putReport(report(0, true), 0)).toBe(false);
    expect(await reports.putReport(report(1, true), 0)).toBe(true);
    expect(await reports.putReport(report(1, false), 0)).toBe(false);
    expect(await reports.putReport(report(2, false), 0)).toBe(true);
    expect(await reports.getReport(runId)).toMatchObject({ lateStores: 2, final: false });
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
      parked: (id) => readings.parked(id),
    };
    // The first build has time for one page; the next finishes the report from its cursor.
    let remaining = REPORT_RESERVE_MS + 1;
    const deps = dynamoDeps(counted);
    deps.remainingMs = () => (pages === 0 ? remaining : REPORT_RESERVE_MS - 1);
    await deps.tally.add(runId, 2400 + 2250, 0);
    expect(await buildReport(deps, runId)).toBe('building');
    expect((await reports.getBuilding(runId))?.cursor).toEqual({
      runId,
      sensorId: expect.any(String),
      readingKey: expect.any(String),
    });
    remaining = 60_000;
    deps.remainingMs = () => remaining;
    expect(await buildReport(deps, runId)).toBe('ready');
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(2400 / REPORT_PAGE_READINGS));
    // Every stored copy counted once across the pages, each reading once in the rows.
    expect(await reports.getReport(runId)).toMatchObject({ final: true, storedReadings: 4650 });

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
  it('reads a run partition by partition, in few calls: 4,000 readings from 10 sensors in messages of 100', async () => {
    const docs = db.documents();
    const runId = await endedRun(new DynamoRunStore(docs, runsTable));
    const t0 = 1_900_000_000_000;
    // The simulator's batch-100 shape: 100 readings a message, each sensor's ten in one pack.
    const sent = Array.from({ length: 4000 }, (_, i) => ({
      sensorId: `s-${i % 10}`,
      type: 'temperature',
      reading: i,
      timestamp: new Date(t0 + Math.floor(i / 10) * 20).toISOString(),
    }));
    await writePacks(
      Array.from({ length: 40 }, (_, m) =>
        packsOf(
          {
            runId,
            user: 'ana',
            batchId: `Batch${String(m).padStart(7, '0')}.0`,
            acceptedAt: new Date(t0 + m * 200).toISOString(),
            measurements: sent.slice(m * 100, (m + 1) * 100),
          },
          30,
        ),
      ).flat(),
    );
    const queries: QueryCommand[] = [];
    let itemsRead = 0;
    const readings = new DynamoRunReadings(async (command) => {
      queries.push(command);
      const out = await docs.send(command);
      itemsRead += out.Items?.length ?? 0;
      return out;
    }, sensorTable);
    const deps = dynamoDeps(readings);
    await deps.tally.add(runId, 4000, 0);
    expect(await buildReport(deps, runId)).toBe('ready');
    expect(await (deps.reports as DynamoReportStore).getReport(runId)).toMatchObject({
      final: true,
      storedReadings: 4000,
    });
    // Each partition's 40 packs in one or two calls, and the directory's entries once: 14 Queries
    // and 490 items here. Merging the ten partitions into time order took 55 Queries and read
    // 1,410 items (the packs at each page's frontier again and again).
    expect(queries.length).toBeLessThanOrEqual(20);
    expect(itemsRead).toBeLessThanOrEqual(600);
  });
});
