/**
 * What the DynamoDB fault proxy will do to the next requests, and what it has seen.
 * Arguments are plain data, so an HTTP control route can pass them through unchanged.
 */

export interface DynamoProxyStats {
  /** Requests received per operation (`PutItem`, `BatchWriteItem`...), faulted ones included. */
  requests: Record<string, number>;
  /** Requests answered with ProvisionedThroughputExceededException, per operation. */
  throttled: Record<string, number>;
  /** Write requests handed back in UnprocessedItems, over all BatchWriteItem calls. */
  unprocessedItems: number;
}

const emptyStats = (): DynamoProxyStats => ({ requests: {}, throttled: {}, unprocessedItems: 0 });

const increment = (counts: Record<string, number>, key: string, by = 1): void => {
  counts[key] = (counts[key] ?? 0) + by;
};

export class DynamoFaults {
  private readonly throttles = new Map<string, number>();
  private unprocessedRequests = 0;
  private counters = emptyStats();

  /** The next `count` requests of `operation` are throttled without reaching DynamoDB. */
  throttle(operation: string, count: number): void {
    this.throttles.set(operation, (this.throttles.get(operation) ?? 0) + count);
  }

  /** The next `count` BatchWriteItem requests write only part of their items. */
  unprocessed(count: number): void {
    this.unprocessedRequests += count;
  }

  clear(): void {
    this.throttles.clear();
    this.unprocessedRequests = 0;
  }

  stats(): DynamoProxyStats {
    return structuredClone(this.counters);
  }

  resetStats(): void {
    this.counters = emptyStats();
  }

  recordRequest(operation: string): void {
    increment(this.counters.requests, operation);
  }

  recordUnprocessed(items: number): void {
    this.counters.unprocessedItems += items;
  }

  /** Consumes a planned throttle; true when this request must be throttled. */
  takeThrottle(operation: string): boolean {
    const remaining = this.throttles.get(operation) ?? 0;
    if (remaining === 0) return false;
    if (remaining === 1) this.throttles.delete(operation);
    else this.throttles.set(operation, remaining - 1);
    increment(this.counters.throttled, operation);
    return true;
  }

  /** Consumes a planned partial write; true when this BatchWriteItem must be split. */
  takeUnprocessed(): boolean {
    if (this.unprocessedRequests === 0) return false;
    this.unprocessedRequests -= 1;
    return true;
  }
}
