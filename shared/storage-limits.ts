/**
 * What the stores a reading ends up in can hold. A `202` promises that every reading it counts
 * is stored, so the edge may accept only what both stores take: the DynamoDB row and the
 * CloudWatch metric value (EMF) of the sensor dashboards. MEASUREMENT_LIMITS and the checks of
 * the edge and the consumer are derived from here; storage-limits.dynamodb.test.ts proves the
 * bounds against the local DynamoDB.
 */

/** DynamoDB's documented limits for numbers, keys and items. */
export const DYNAMODB_LIMITS = {
  /** Smallest non-zero magnitude of a Number (smaller is "Number underflow"). */
  minNumberMagnitude: 1e-130,
  /** Largest magnitude of a Number is 9.9999999999999999999999999999999999999E+125; this double lies within. */
  maxNumberMagnitude: 9.999999999999999e125,
  /** Significant digits of a Number; a double never needs more than 17. */
  numberPrecisionDigits: 38,
  partitionKeyMaxBytes: 2048,
  sortKeyMaxBytes: 1024,
  itemMaxBytes: 400 * 1024,
} as const;

/**
 * CloudWatch refuses metric values outside ±[8.515920e-109, 1.174271e+108]; an EMF blob holding
 * one loses its metrics. Readings are metric values on the sensor dashboards.
 */
export const CLOUDWATCH_LIMITS = {
  minValueMagnitude: 8.51592e-109,
  maxValueMagnitude: 1.174271e108,
} as const;

/** Smallest non-zero |reading| both stores hold, rounded up to a power of ten for people. */
export const MIN_STORABLE_MAGNITUDE =
  10 **
  Math.ceil(
    Math.log10(Math.max(DYNAMODB_LIMITS.minNumberMagnitude, CLOUDWATCH_LIMITS.minValueMagnitude)),
  );

/** Largest |reading| both stores hold. */
export const MAX_STORABLE_MAGNITUDE = Math.min(
  DYNAMODB_LIMITS.maxNumberMagnitude,
  CLOUDWATCH_LIMITS.maxValueMagnitude,
);

/** Whether a number survives a DynamoDB row and a CloudWatch metric unchanged. */
export const isStorableNumber = (value: number): boolean => {
  if (!Number.isFinite(value)) return false;
  if (value === 0) return true;
  const magnitude = Math.abs(value);
  return magnitude >= MIN_STORABLE_MAGNITUDE && magnitude <= MAX_STORABLE_MAGNITUDE;
};
