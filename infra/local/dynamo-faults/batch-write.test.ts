import { describe, expect, it } from 'vitest';
import { splitBatchWrite, withUnprocessedItems } from './batch-write.ts';

const put = (id: string) => ({ PutRequest: { Item: { pk: { S: id } } } });

describe('splitBatchWrite', () => {
  it('keeps the first half of each table and returns the rest in request shape', () => {
    const split = splitBatchWrite({
      a: [put('a1'), put('a2'), put('a3'), put('a4'), put('a5')],
      b: [put('b1'), put('b2')],
    });
    expect(split.forwarded).toEqual({ a: [put('a1'), put('a2')], b: [put('b1')] });
    expect(split.unprocessed).toEqual({ a: [put('a3'), put('a4'), put('a5')], b: [put('b2')] });
    expect(split.unprocessedCount).toBe(4);
  });

  it('forwards nothing of a one-item batch', () => {
    const split = splitBatchWrite({ a: [put('only')] });
    expect(split.forwarded).toEqual({});
    expect(split.unprocessed).toEqual({ a: [put('only')] });
  });
});

describe('withUnprocessedItems', () => {
  it('appends to what DynamoDB already left unprocessed and keeps other members', () => {
    const merged = withUnprocessedItems(
      { UnprocessedItems: { a: [put('a1')] }, ConsumedCapacity: [{ TableName: 'a' }] },
      { a: [put('a2')], b: [put('b1')] },
    );
    expect(merged).toEqual({
      UnprocessedItems: { a: [put('a1'), put('a2')], b: [put('b1')] },
      ConsumedCapacity: [{ TableName: 'a' }],
    });
  });
});
