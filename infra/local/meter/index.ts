/** The local stack's one meter: see README.md. */
export {
  attributeSize,
  DynamoDbMeter,
  itemSize,
  type DynamoDbCharge,
  type DynamoDbExchange,
  type TableIndexes,
} from './dynamodb-units.ts';
export { logGroupOf, LogStore, type LogLine } from './log-store.ts';
export {
  LOCAL_API_ID,
  LocalMeter,
  type FunctionUsage,
  type SampledQueue,
  type UsageTotals,
} from './meter.ts';
export { SeriesStore, type SecondPoint, type Series } from './series-store.ts';
