/**
 * The last log lines of each function, as CloudWatch Logs keeps them, so operators' tools
 * (the DLQ redrive report) can read failure reasons locally: `GET /local/logs?function=`.
 */

/** Lines kept per function; older ones are dropped first. */
const KEPT_LINES = 2_000;

export class FunctionLogs {
  private readonly lines = new Map<string, string[]>();

  record(functionName: string, line: string): void {
    let kept = this.lines.get(functionName);
    if (kept === undefined) this.lines.set(functionName, (kept = []));
    kept.push(line);
    if (kept.length > KEPT_LINES) kept.splice(0, kept.length - KEPT_LINES);
  }

  /** The kept lines of a function, oldest first. */
  of(functionName: string): readonly string[] {
    return this.lines.get(functionName) ?? [];
  }
}
