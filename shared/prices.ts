/**
 * AWS list prices (us-east-1, on demand, free tier ignored) — the one price table. The
 * benchmark's modeled cost, docs/costs.md (generated from it and checked by a test)
 * and the cost dashboard all read it, so a price is changed here and nowhere else.
 */
export const PRICES = {
  region: 'us-east-1',
  /** HTTP API, per million requests (first 300 M a month). */
  apiPerMillionRequests: 1.0,
  /** Lambda arm64: per million requests, and per GB-second. */
  lambdaPerMillionRequests: 0.2,
  lambdaArmPerGbSecond: 0.0000133334,
  /** SQS standard, per million requests; each 64 KiB chunk of a payload is one request. */
  sqsPerMillionRequests: 0.4,
  /** DynamoDB on demand, per million write / read request units. */
  dynamoDbPerMillionWriteUnits: 0.625,
  dynamoDbPerMillionReadUnits: 0.125,
  /** CloudWatch: log ingestion per GB, a custom metric per month, an alarm per month. */
  logsPerGbIngested: 0.5,
  customMetricPerMonth: 0.3,
  alarmPerMonth: 0.1,
  /**
   * CloudWatch API: GetMetricData per 1,000 metrics requested (a Metrics Insights query counts
   * the metrics it analyses); ListMetrics and most other requests per 1,000 requests; Logs
   * Insights per GB of log data scanned.
   */
  getMetricDataPerThousandMetrics: 0.01,
  cloudWatchApiPerThousandRequests: 0.01,
  logsInsightsPerGbScanned: 0.005,
  /** Grafana's share (`full` component): load balancer, Fargate ARM, public IPv4, a secret. */
  albPerHour: 0.0225,
  fargateArmPerVcpuHour: 0.03238,
  fargateArmPerGbHour: 0.00356,
  publicIpv4PerHour: 0.005,
  secretPerMonth: 0.4,
  /** Hours in the month of the monthly figures. */
  hoursPerMonth: 730,
} as const;

/** Billed quantities for some amount of traffic. */
export interface BilledUsage {
  apiRequests: number;
  lambdaRequests: number;
  lambdaGbSeconds: number;
  sqsRequests: number;
  dynamoDbWriteUnits: number;
  dynamoDbReadUnits: number;
  logBytes: number;
}

export type CostBreakdown = Record<
  | 'api'
  | 'lambdaRequests'
  | 'lambdaDuration'
  | 'sqs'
  | 'dynamoDbWrites'
  | 'dynamoDbReads'
  | 'logs'
  | 'total',
  number
>;

const GB = 1024 ** 3;

/** US dollars for the usage, by service, at `prices`. */
export const costOf = (usage: BilledUsage, prices = PRICES): CostBreakdown => {
  const parts = {
    api: (usage.apiRequests * prices.apiPerMillionRequests) / 1e6,
    lambdaRequests: (usage.lambdaRequests * prices.lambdaPerMillionRequests) / 1e6,
    lambdaDuration: usage.lambdaGbSeconds * prices.lambdaArmPerGbSecond,
    sqs: (usage.sqsRequests * prices.sqsPerMillionRequests) / 1e6,
    dynamoDbWrites: (usage.dynamoDbWriteUnits * prices.dynamoDbPerMillionWriteUnits) / 1e6,
    dynamoDbReads: (usage.dynamoDbReadUnits * prices.dynamoDbPerMillionReadUnits) / 1e6,
    logs: (usage.logBytes / GB) * prices.logsPerGbIngested,
  };
  return { ...parts, total: Object.values(parts).reduce((sum, value) => sum + value, 0) };
};
