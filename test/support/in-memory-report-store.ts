/** A ReportStore in memory, for unit tests of the code that reads and builds reports. */
import type { ReportStore } from '#shared/report-store.ts';
import type { RunReport } from '#shared/run-report.ts';

export class InMemoryReportStore implements ReportStore {
  readonly reports = new Map<string, RunReport>();
  /** Run id → epoch ms its report falls due. */
  readonly due = new Map<string, number>();

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

  async getReports(runIds: readonly string[]): Promise<Map<string, RunReport>> {
    const found = new Map<string, RunReport>();
    for (const id of runIds) {
      const report = this.reports.get(id);
      if (report) found.set(id, structuredClone(report));
    }
    return found;
  }

  async putReport(report: RunReport): Promise<void> {
    this.reports.set(report.runId, structuredClone(report));
  }

  async clearDue(runId: string): Promise<void> {
    this.due.delete(runId);
  }
}
