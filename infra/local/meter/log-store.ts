/**
 * The functions' recent log lines, as CloudWatch Logs keeps them per log group: read by the
 * local dashboards' Logs Insights panels and by `GET /local/logs` (the DLQ redrive report).
 */

export const logGroupOf = (functionName: string): string => `/aws/lambda/${functionName}`;

export interface LogLine {
  timestamp: number;
  logGroup: string;
  message: string;
}

/** Lines kept per log group: a chatty function does not push another's lines out. */
const LINES_KEPT = 2000;

export class LogStore {
  private readonly groups = new Map<string, LogLine[]>();

  /** A log group that exists before anything is written to it, as the stack creates each. */
  createLogGroup(logGroup: string): void {
    if (!this.groups.has(logGroup)) this.groups.set(logGroup, []);
  }

  add(line: LogLine): void {
    let lines = this.groups.get(line.logGroup);
    if (lines === undefined) this.groups.set(line.logGroup, (lines = []));
    lines.push(line);
    // Trimmed in steps, not at every line: a high-rate function logs on the hot path.
    if (lines.length > LINES_KEPT * 1.5) lines.splice(0, lines.length - LINES_KEPT);
  }

  /** Every kept line, oldest first. */
  list(): LogLine[] {
    return [...this.groups.values()].flat().sort((a, b) => a.timestamp - b.timestamp);
  }

  /** The last 2,000 lines of one log group, oldest first. */
  of(logGroup: string): readonly LogLine[] {
    return (this.groups.get(logGroup) ?? []).slice(-LINES_KEPT);
  }

  logGroups(): string[] {
    return [...this.groups.keys()].sort();
  }
}
