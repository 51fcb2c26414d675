/**
 * What the DynamoDB fault proxy will do to the next requests, and what it has seen. The
 * counters live in shared memory: the proxy runs in the DynamoDB thread while tests and the
 * stack plan faults from the main thread, and a fault planned there must hold for the very next
 * request, with no message in between to arrive late.
 */

export interface DynamoProxyStats {
  /** Requests received per operation (`PutItem`, `BatchWriteItem`...), faulted ones included. */
  requests: Record<string, number>;
  /** Requests answered with ProvisionedThroughputExceededException, per operation. */
  throttled: Record<string, number>;
  /** Write requests handed back in UnprocessedItems, over all BatchWriteItem calls. */
  unprocessedItems: number;
}

/** The operations counted by name; any other is counted as `Other`. */
export const DYNAMODB_OPERATIONS = [
  'BatchGetItem',
  'BatchWriteItem',
  'CreateTable',
  'DeleteItem',
  'DeleteTable',
  'DescribeTable',
  'DescribeTimeToLive',
  'GetItem',
  'ListTables',
  'PutItem',
  'Query',
  'Scan',
  'TransactGetItems',
  'TransactWriteItems',
  'UpdateItem',
  'UpdateTable',
  'UpdateTimeToLive',
  'Other',
] as const;

const OPERATION_INDEX = new Map<string, number>(DYNAMODB_OPERATIONS.map((name, i) => [name, i]));
const OTHER = DYNAMODB_OPERATIONS.length - 1;
const operations = DYNAMODB_OPERATIONS.length;

/** Layout of the shared counters: three per operation, then the two of partial writes. */
const PLANNED_THROTTLES = 0;
const REQUESTS = operations;
const THROTTLED = 2 * operations;
const PLANNED_UNPROCESSED = 3 * operations;
const UNPROCESSED_ITEMS = 3 * operations + 1;
const SLOTS = 3 * operations + 2;

const nonZero = (counts: Int32Array, from: number): Record<string, number> =>
  Object.fromEntries(
    DYNAMODB_OPERATIONS.flatMap((name, i) => {
      const count = Atomics.load(counts, from + i);
      return count === 0 ? [] : [[name, count]];
    }),
  );

/** Takes one from a planned count, if any is left; true when one was taken. */
const takeOne = (counts: Int32Array, slot: number): boolean => {
  for (;;) {
    const left = Atomics.load(counts, slot);
    if (left === 0) return false;
    if (Atomics.compareExchange(counts, slot, left, left - 1) === left) return true;
  }
};

export class DynamoFaults {
  private readonly counts: Int32Array;

  /** Pass `shared` from another instance to see the same counters from another thread. */
  constructor(readonly shared = new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT)) {
    this.counts = new Int32Array(shared);
  }

  private static indexOf(operation: string): number {
    return OPERATION_INDEX.get(operation) ?? OTHER;
  }

  /** The next `count` requests of `operation` are throttled without reaching DynamoDB. */
  throttle(operation: string, count: number): void {
    const index = OPERATION_INDEX.get(operation);
    if (index === undefined || index === OTHER) {
      throw new Error(`Unknown DynamoDB operation ${operation}`);
    }
    Atomics.add(this.counts, PLANNED_THROTTLES + index, count);
  }

  /** The next `count` BatchWriteItem requests write only part of their items. */
  unprocessed(count: number): void {
    Atomics.add(this.counts, PLANNED_UNPROCESSED, count);
  }

  clear(): void {
    for (let i = 0; i < operations; i++) Atomics.store(this.counts, PLANNED_THROTTLES + i, 0);
    Atomics.store(this.counts, PLANNED_UNPROCESSED, 0);
  }

  stats(): DynamoProxyStats {
    return {
      requests: nonZero(this.counts, REQUESTS),
      throttled: nonZero(this.counts, THROTTLED),
      unprocessedItems: Atomics.load(this.counts, UNPROCESSED_ITEMS),
    };
  }

  resetStats(): void {
    for (let i = 0; i < operations; i++) {
      Atomics.store(this.counts, REQUESTS + i, 0);
      Atomics.store(this.counts, THROTTLED + i, 0);
    }
    Atomics.store(this.counts, UNPROCESSED_ITEMS, 0);
  }

  recordRequest(operation: string): void {
    Atomics.add(this.counts, REQUESTS + DynamoFaults.indexOf(operation), 1);
  }

  recordUnprocessed(items: number): void {
    Atomics.add(this.counts, UNPROCESSED_ITEMS, items);
  }

  /** Consumes a planned throttle; true when this request must be throttled. */
  takeThrottle(operation: string): boolean {
    const index = DynamoFaults.indexOf(operation);
    if (index === OTHER || !takeOne(this.counts, PLANNED_THROTTLES + index)) return false;
    Atomics.add(this.counts, THROTTLED + index, 1);
    return true;
  }

  /** Consumes a planned partial write; true when this BatchWriteItem must be split. */
  takeUnprocessed(): boolean {
    return takeOne(this.counts, PLANNED_UNPROCESSED);
  }
}
