/**
 * Faults the local SQS endpoint injects on request, so tests can drive the failure paths
 * real SQS takes rarely: failed entries of a SendMessageBatch and 500s. Arguments are plain
 * data, so an HTTP control route can pass them through unchanged.
 */

export class SqsFaults {
  private sendBatchEntryFailures = 0;
  private readonly requestFailures = new Map<string, number>();

  /** The next `count` SendMessageBatch entries come back in `Failed` (InternalError) unsent. */
  failSendBatchEntries({ count }: { count: number }): void {
    this.sendBatchEntryFailures += count;
  }

  /** The next `count` requests of `action` (e.g. `ReceiveMessage`) answer 500 InternalError. */
  failNextRequests(action: string, count: number): void {
    this.requestFailures.set(action, (this.requestFailures.get(action) ?? 0) + count);
  }

  clear(): void {
    this.sendBatchEntryFailures = 0;
    this.requestFailures.clear();
  }

  /** Consumes one planned entry failure; true when this entry must fail. */
  takeSendBatchEntryFailure(): boolean {
    if (this.sendBatchEntryFailures === 0) return false;
    this.sendBatchEntryFailures -= 1;
    return true;
  }

  /** Consumes one planned request failure for `action`; true when this request must fail. */
  takeRequestFailure(action: string): boolean {
    const remaining = this.requestFailures.get(action) ?? 0;
    if (remaining === 0) return false;
    if (remaining === 1) this.requestFailures.delete(action);
    else this.requestFailures.set(action, remaining - 1);
    return true;
  }
}
