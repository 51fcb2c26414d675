/**
 * Building a run's report (shared/run-report.ts) from what the table holds: its readings, read
 * as queries read them (each reading once), and its counts. Every build is complete for what is
 * stored when it reads, and says whether it is final: the run's acceptance window has closed and
 * the table holds (stored or parked) every reading the edge accepted for it. Built by the
 * sweeper: as the run ends (asked for on the reports queue by the run API's finish and
 * interrupt, at once on TIMEOUT), when its window closes, and after batches land for it once it
 * ended (the consumer marks it due, and asks for it at once when they may be the last it waits
 * for; else the sweep builds it).
 * A run too large for one invocation is saved half-built with its cursor and continued by the
 * next sweep, while downloads keep serving the last complete report.
 *
 * Why final is exact: the accepted tally only grows before the window closes, counts a reading
 * before it is enqueued, and is read after the window closed; the stored count is every pack
 * read once (a redelivered message overwrites its packs), so it never exceeds what was
 * accepted, and equals it only when nothing is still on its way.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoMeasurementQuery, type SendQuery } from './measurement-query.ts';
import { parkedPartition } from './reading-pack.ts';
import type { ReportStore } from './report-store.ts';
import {
  acceptanceClosesAt,
  addReadings,
  type RunReport,
  type StoredReading,
} from './run-report.ts';
import type { RunStore } from './run-store.ts';
import type { RunTally } from './run-tally.ts';

export interface ReadingPage {
  readings: StoredReading[];
  lastKey?: Record<string, unknown>;
  /** Stored copies counted by the page (each pack once over the whole run). */
  packReadings: number;
}

export interface RunReadings {
  /** A page of the run's stored readings and where the next starts (absent at the end). */
  page(runId: string, startKey?: Record<string, unknown>): Promise<ReadingPage>;
  /** Readings of the run the consumer parked (refused by the table for good). */
  parked(runId: string): Promise<number>;
}

export interface ReportBuildDeps {
  runs: Pick<RunStore, 'getRun'>;
  reports: ReportStore;
  readings: RunReadings;
  tally: Pick<RunTally, 'accepted'>;
  now: () => number;
  /** Milliseconds the build may still take; it saves its progress when below REPORT_RESERVE_MS. */
  remainingMs: () => number;
  retentionDays: number;
  /** RUN_GRACE_SECONDS, as the edge applies it. */
  graceMs: number;
}

/** Time kept back to save a half-built report before the invocation ends. */
export const REPORT_RESERVE_MS = 10_000;

export type BuildOutcome = 'ready' | 'building' | 'gone';

const freshReport = (runId: string, at: number, lateStores: number): RunReport => ({
  runId,
  state: 'BUILDING',
  rows: [],
  readingsNotBrokenDown: 0,
  storedReadings: 0,
  lateStores,
  builtAt: new Date(at).toISOString(),
});

export const buildReport = async (deps: ReportBuildDeps, runId: string): Promise<BuildOutcome> => {
  const { reports } = deps;
  const run = await deps.runs.getRun(runId);
  if (run === undefined || run.status === 'RUNNING') {
    // Expired (nothing to report), or not ended: its end schedules the build.
    if (run === undefined) await reports.clearDue(runId, (await reports.lateState(runId)).stores);
    return 'gone';
  }
  const expiresAt = Math.floor(deps.now() / 1000) + deps.retentionDays * 86_400;
  // Read before the readings: a batch stored late after this is a reason to build again.
  const late = await reports.lateState(runId);
  const lateStores = late.stores;
  const saved = await reports.getBuilding(runId);
  // A build half-way continues unless a batch landed since it started (maybe below its cursor).
  const report =
    saved !== undefined && saved.lateStores === lateStores
      ? saved
      : freshReport(runId, deps.now(), lateStores);
  let cursor = report.cursor;
  do {
    const page = await deps.readings.page(runId, cursor);
    report.readingsNotBrokenDown += addReadings(report.rows, page.readings);
    report.storedReadings = (report.storedReadings ?? 0) + page.packReadings;
    cursor = page.lastKey;
  } while (cursor !== undefined && deps.remainingMs() >= REPORT_RESERVE_MS);
  const { cursor: _previous, ...rest } = report;
  if (cursor !== undefined) {
    await reports.putReport({ ...rest, cursor }, expiresAt);
    await reports.scheduleBuild(runId, deps.now());
    return 'building';
  }

  const closesAt = acceptanceClosesAt(run, deps.graceMs);
  // Read after the window closed, the tally is the run's final accepted count.
  const closed = deps.now() >= closesAt;
  const [accepted, parked] = await Promise.all([
    deps.tally.accepted(runId),
    deps.readings.parked(runId),
  ]);
  const stored = report.storedReadings ?? 0;
  const final = closed && stored + parked === accepted;
  const kept = await reports.putReport(
    {
      ...rest,
      state: 'READY',
      final,
      acceptedReadings: accepted,
      parkedReadings: parked,
      builtAt: new Date(deps.now()).toISOString(),
    },
    expiresAt,
  );
  // A build from a later state stands (it also looks after the run's due entry).
  if (!kept) return 'ready';
  const counts = { counted: stored + parked, accepted, lateReadingsSeen: late.readings };
  if (!closed) {
    // Built again once no edge can take a reading for the run.
    await reports.scheduleBuild(runId, closesAt, counts);
  } else {
    // Final, or waiting for a batch still on its way: the consumer marks the run due when it
    // stores one (no polling, whatever SQS's delay).
    await reports.clearDue(runId, lateStores, counts);
  }
  return 'ready';
};

/**
 * Readings per page, the most a page of `GET /api/sensors/data` holds: the report only adds them
 * up, so the size trades calls against the memory a page's packs take.
 */
export const REPORT_PAGE_READINGS = 1000;

/**
 * The run's readings through the same reader as `GET /api/sensors/data` by run and sensor (a
 * reading stored in two packs is counted once: both copies lie in its sensor's partition),
 * strongly consistent: a build started after a batch was written sees it, and the directory
 * names every sensor whose packs it sees (the consumer writes the entry first). The run's
 * partitions are read one after another, each in calls as large as the page allows: a report
 * only adds readings up, and merging every sensor into time order read each partition in small
 * calls, the packs at each page's frontier again and again (4,000 readings from 10 sensors: 55
 * Queries and 1,410 items against 14 and 490; a 50,000-reading run from 20 sensors took about
 * 2,500 Queries and 17,000 read units a build). The cursor is the sensor and the reader's
 * cursor within it.
 */
export class DynamoRunReadings implements RunReadings {
  private readonly query: DynamoMeasurementQuery;
  /** The sensors of the run a build is going through, listed when it starts. */
  private listed?: { runId: string; sensors: string[] };

  constructor(
    private readonly send: SendQuery,
    private readonly tableName: string,
  ) {
    this.query = new DynamoMeasurementQuery(send, tableName, undefined, true);
  }

  async page(runId: string, startKey?: Record<string, unknown>): Promise<ReadingPage> {
    const at = startKey as { sensorId: string; readingKey?: string } | undefined;
    if (at === undefined || this.listed?.runId !== runId) {
      this.listed = { runId, sensors: await this.query.sensorsOfRun(runId) };
    }
    const sensors = this.listed.sensors.filter((s) => at === undefined || s >= at.sensorId);
    const readings: StoredReading[] = [];
    let packReadings = 0;
    for (const [i, sensorId] of sensors.entries()) {
      const resume = at?.sensorId === sensorId ? at.readingKey : undefined;
      const page = await this.query.page({
        path: { kind: 'run', runId, sensorId },
        limit: REPORT_PAGE_READINGS - readings.length,
        ...(resume === undefined ? {} : { startKey: { runId, readingKey: resume } }),
      });
      readings.push(...page.items);
      packReadings += page.packReadings;
      const next = sensors[i + 1];
      if (page.lastKey !== undefined) {
        const lastKey = { runId, sensorId, readingKey: page.lastKey.readingKey };
        return { readings, packReadings, lastKey };
      }
      if (readings.length >= REPORT_PAGE_READINGS && next !== undefined) {
        return { readings, packReadings, lastKey: { runId, sensorId: next } };
      }
    }
    return { readings, packReadings };
  }

  async parked(runId: string): Promise<number> {
    let readings = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'runPartition = :pk',
          ExpressionAttributeValues: { ':pk': parkedPartition(runId) },
          ProjectionExpression: '#row',
          ExpressionAttributeNames: { '#row': 'row' },
          ConsistentRead: true,
          ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
        }),
      );
      for (const item of out.Items ?? []) {
        readings += (JSON.parse(String(item.row)) as { values: unknown[] }).values.length;
      }
      startKey = out.LastEvaluatedKey;
    } while (startKey !== undefined);
    return readings;
  }
}
