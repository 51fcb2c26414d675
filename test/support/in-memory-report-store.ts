/** A ReportStore in memory, for unit tests of the code that reads and builds reports. */
import {
  mayComplete,
  type LateState,
  type ReportCounts,
  type ReportStore,
} from '#shared/report-store.ts';
import type { RunReport } from '#shared/run-report.ts';

export class InMemoryReportStore implements ReportStore {
  readonly reports = new Map<string, RunReport>();
  readonly building = new Map<string, RunReport>();
  /** Run id → epoch ms its report falls due. */
  readonly due = new Map<string, number>();
  /** Run id → batches stored after the run ended. */
  readonly late = new Map<string, number>();
  /** Run id → readings stored after the run ended. */
  readonly lateReadings = new Map<string, number>();
  /** Run id → the counts of its last complete report. */
  readonly counts = new Map<string, ReportCounts>();

  async listDue(now: number, limit: number): Promise<string[]> {
    return [...this.due]
      .filter(([, at]) => at <= now)
      .sort((a, b) => a[1] - b[1])
      .slice(0, limit)
      .map(([runId]) => runId);
  }

  async getReport(runId: string): Promise<RunReport | undefined> {
    const report = this.reports.get(runId);
    return report && structuredClone(report);
  }

  async getBuilding(runId: string): Promise<RunReport | undefined> {
    const report = this.building.get(runId);
    return report && structuredClone(report);
  }

  async getReports(runIds: readonly string[]): Promise<Map<string, RunReport>> {
    const found = new Map<string, RunReport>();
    for (const id of runIds) {
      const report = this.reports.get(id);
      if (report) found.set(id, structuredClone(report));
    }
    return found;
  }

  async putReport(report: RunReport): Promise<boolean> {
    if (report.state === 'BUILDING') {
      this.building.set(report.runId, structuredClone(report));
      return true;
    }
    const stored = this.reports.get(report.runId);
    const [theirs, mine] = [stored?.lateStores ?? 0, report.lateStores ?? 0];
    if (stored !== undefined && (theirs > mine || (theirs === mine && stored.final === true))) {
      return false;
    }
    this.reports.set(report.runId, structuredClone(report));
    this.building.delete(report.runId);
    return true;
  }

  async lateState(runId: string): Promise<LateState> {
    return { stores: this.late.get(runId) ?? 0, readings: this.lateReadings.get(runId) ?? 0 };
  }

  async scheduleBuild(runId: string, at: number, counts?: ReportCounts): Promise<void> {
    this.due.set(runId, at);
    if (counts) this.counts.set(runId, counts);
  }

  async clearDue(runId: string, lateStoresSeen: number, counts?: ReportCounts): Promise<boolean> {
    if ((this.late.get(runId) ?? 0) !== lateStoresSeen) return false;
    this.due.delete(runId);
    if (counts) this.counts.set(runId, counts);
    return true;
  }

  /** What the consumer does for a batch stored after the run ended. */
  storedLate(runId: string, now: number, readings = 1): boolean {
    this.late.set(runId, (this.late.get(runId) ?? 0) + 1);
    this.lateReadings.set(runId, (this.lateReadings.get(runId) ?? 0) + readings);
    this.due.set(runId, now);
    const counts = this.counts.get(runId);
    return mayComplete(
      counts && {
        reportCounted: counts.counted,
        reportAccepted: counts.accepted,
        reportLateReadings: counts.lateReadingsSeen,
        lateReadings: this.lateReadings.get(runId),
      },
    );
  }
}
