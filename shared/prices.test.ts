import { describe, expect, it } from 'vitest';
import { costOf } from './prices.ts';

describe('costOf', () => {
  it('prices each service from the table', () => {
    const cost = costOf({
      apiRequests: 1e6,
      lambdaRequests: 2e6,
      lambdaGbSeconds: 1000,
      sqsRequests: 3e6,
      dynamoDbWriteUnits: 4e6,
      dynamoDbReadUnits: 8e6,
      logBytes: 2 * 1024 ** 3,
    });

    expect(cost.api).toBeCloseTo(1.0, 10);
    expect(cost.lambdaRequests).toBeCloseTo(0.4, 10);
    expect(cost.lambdaDuration).toBeCloseTo(0.0133334, 10);
    expect(cost.sqs).toBeCloseTo(1.2, 10);
    expect(cost.dynamoDbWrites).toBeCloseTo(2.5, 10);
    expect(cost.dynamoDbReads).toBeCloseTo(1.0, 10);
    expect(cost.logs).toBeCloseTo(1.0, 10);
    expect(cost.total).toBeCloseTo(1 + 0.4133334 + 1.2 + 2.5 + 1 + 1, 10);
  });
});
