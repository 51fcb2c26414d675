/** A ReportStore in memory, for unit tests of the code that reads and builds reports. */
import type { ReportStore } from '#shared/report-store.ts';
import type { RunReport } from '#shared/run-report.ts';

export class InMemoryReportStore implements ReportStore {
  readonly reports = new Map<string, RunReport>();
  readonly building = new Map<string, RunReport>();
  /** Run id → epoch ms its report falls due. */
  readonly due = new Map<string, number>();
  /** Run id → batches stored after the run ended. */
  readonly late = new Map<string, number>();

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

  async lateStores(runId: string): Promise<number> {
    return this.late.get(runId) ?? 0;
  }

  async scheduleBuild(runId: string, at: number): Promise<void> {
    this.due.set(runId, at);
  }

  async clearDue(runId: string, lateStoresSeen: number): Promise<boolean> {
    if ((this.late.get(runId) ?? 0) !== lateStoresSeen) return false;
    this.due.delete(runId);
    return true;
  }

  /** What the consumer does for a batch stored after the run ended. */
  storedLate(runId: string, now: number): void {
    this.late.set(runId, (this.late.get(runId) ?? 0) + 1);
    this.due.set(runId, now);
  }
}
