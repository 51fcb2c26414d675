/**
 * List prices, us-east-1, free tier ignored: the one price table. The README's cost section and
 * the Cost dashboard's metric math both read it.
 */
export const PRICES = {
  /** HTTP API, per request ($1.00 per million). */
  apiRequest: 1.0 / 1e6,
  /** Lambda, per request ($0.20 per million). */
  lambdaRequest: 0.2 / 1e6,
  /** Lambda arm64, per GB-second. */
  lambdaGbSecond: 0.0000133334,
  /** SQS standard, per request of up to 64 KiB ($0.40 per million). */
  sqsRequest: 0.4 / 1e6,
  /** DynamoDB on demand, per write request unit ($0.625 per million). */
  dynamoWriteUnit: 0.625 / 1e6,
  /** DynamoDB on demand, per read request unit ($0.125 per million). */
  dynamoReadUnit: 0.125 / 1e6,
  /** CloudWatch custom metric, per month (prorated by the hour). */
  customMetricMonth: 0.3,
  /** CloudWatch alarm, per month. */
  alarmMonth: 0.1,
  /** CloudWatch Logs ingestion, per GB. */
  logsIngestedGb: 0.5,
  /** Application Load Balancer, per hour. */
  albHour: 0.0225,
  /** Fargate ARM, per vCPU-hour. */
  fargateVcpuHour: 0.03238,
  /** Fargate ARM, per GB-hour. */
  fargateGbHour: 0.00356,
  /** Public IPv4 address, per hour. */
  publicIpv4Hour: 0.005,
  /** Secrets Manager secret, per month. */
  secretMonth: 0.4,
} as const;

/** Hours in the month the prices above are prorated over. */
export const HOURS_PER_MONTH = 730;
