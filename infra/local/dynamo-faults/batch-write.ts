/**
 * Partial BatchWriteItem: which write requests reach DynamoDB and which come back in
 * `UnprocessedItems`, in the request's own shape, as DynamoDB returns them.
 */

/** A `PutRequest` / `DeleteRequest` entry, passed through untouched. */
export type WriteRequest = Record<string, unknown>;
export type RequestItems = Record<string, WriteRequest[]>;

export interface BatchWriteSplit {
  forwarded: RequestItems;
  unprocessed: RequestItems;
  unprocessedCount: number;
}

/**
 * Keeps the first half (rounded down) of each table's writes and leaves the rest
 * unprocessed, so every injected request leaves work for the caller, even a one-item batch.
 */
export const splitBatchWrite = (requestItems: RequestItems): BatchWriteSplit => {
  const forwarded: RequestItems = {};
  const unprocessed: RequestItems = {};
  let unprocessedCount = 0;
  for (const [table, writes] of Object.entries(requestItems)) {
    const kept = Math.floor(writes.length / 2);
    if (kept > 0) forwarded[table] = writes.slice(0, kept);
    if (writes.length > kept) {
      unprocessed[table] = writes.slice(kept);
      unprocessedCount += writes.length - kept;
    }
  }
  return { forwarded, unprocessed, unprocessedCount };
};

/** Adds `unprocessed` to the UnprocessedItems of a BatchWriteItem response body. */
export const withUnprocessedItems = (
  response: Record<string, unknown>,
  unprocessed: RequestItems,
): Record<string, unknown> => {
  const existing = (response['UnprocessedItems'] ?? {}) as RequestItems;
  const merged: RequestItems = { ...existing };
  for (const [table, writes] of Object.entries(unprocessed)) {
    merged[table] = [...(merged[table] ?? []), ...writes];
  }
  return { ...response, UnprocessedItems: merged };
};

export const isRequestItems = (value: unknown): value is RequestItems =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  Object.values(value).every(Array.isArray);
