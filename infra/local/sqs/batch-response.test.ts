import { describe, expect, it } from 'vitest';
import { interpretBatchResponse } from './batch-response.ts';

const batch = new Set(['m1', 'm2', 'm3']);

describe('interpretBatchResponse', () => {
  it.each([
    ['undefined', undefined],
    ['null', null],
    ['an empty object', {}],
    ['a null list', { batchItemFailures: null }],
    ['an empty list', { batchItemFailures: [] }],
  ])('treats %s as the whole batch processed', (_, response) => {
    expect(interpretBatchResponse(response, batch)).toEqual({
      kind: 'processed',
      failedMessageIds: new Set(),
    });
  });

  it('fails exactly the listed records', () => {
    const outcome = interpretBatchResponse(
      { batchItemFailures: [{ itemIdentifier: 'm2' }, { itemIdentifier: 'm3' }] },
      batch,
    );
    expect(outcome).toEqual({ kind: 'processed', failedMessageIds: new Set(['m2', 'm3']) });
  });

  it.each([
    ['an unknown itemIdentifier', { batchItemFailures: [{ itemIdentifier: 'other' }] }],
    ['an empty itemIdentifier', { batchItemFailures: [{ itemIdentifier: '' }] }],
    ['a missing itemIdentifier', { batchItemFailures: [{ id: 'm1' }] }],
    ['a null entry', { batchItemFailures: [null] }],
    ['a non-list batchItemFailures', { batchItemFailures: 'm1' }],
    ['a string response', 'ok'],
    ['a list response', [{ itemIdentifier: 'm1' }]],
  ])('fails the whole batch for %s', (_, response) => {
    expect(interpretBatchResponse(response, batch)).toMatchObject({ kind: 'invalid' });
  });
});
