/**
 * The AWS service metrics the dashboards may query: namespace, metric names and the dimension
 * keys AWS publishes them with. The contract test holds every query to this list or to the
 * metrics contract, and the local stack records these same names when it measures itself.
 */
export const AWS_METRICS = {
  lambda: {
    namespace: 'AWS/Lambda',
    dimensions: ['FunctionName'],
    metrics: {
      invocations: 'Invocations',
      errors: 'Errors',
      throttles: 'Throttles',
      duration: 'Duration',
      concurrency: 'ConcurrentExecutions',
    },
  },
  api: {
    namespace: 'AWS/ApiGateway',
    dimensions: ['ApiId'],
    metrics: { count: 'Count', clientErrors: '4xx', serverErrors: '5xx', latency: 'Latency' },
  },
  sqs: {
    namespace: 'AWS/SQS',
    dimensions: ['QueueName'],
    metrics: {
      visible: 'ApproximateNumberOfMessagesVisible',
      oldestAge: 'ApproximateAgeOfOldestMessage',
      sent: 'NumberOfMessagesSent',
      received: 'NumberOfMessagesReceived',
      deleted: 'NumberOfMessagesDeleted',
      emptyReceives: 'NumberOfEmptyReceives',
    },
  },
  dynamodb: {
    namespace: 'AWS/DynamoDB',
    dimensions: ['TableName'],
    metrics: {
      writeUnits: 'ConsumedWriteCapacityUnits',
      readUnits: 'ConsumedReadCapacityUnits',
      throttled: 'ThrottledRequests',
      writeThrottleEvents: 'WriteThrottleEvents',
    },
  },
  logs: {
    namespace: 'AWS/Logs',
    dimensions: ['LogGroupName'],
    metrics: { incomingBytes: 'IncomingBytes' },
  },
} as const;

/** Extra dimension keys some AWS metrics carry besides the service's main one. */
export const AWS_EXTRA_DIMENSIONS: Record<string, readonly string[]> = {
  'AWS/DynamoDB': ['Operation', 'GlobalSecondaryIndexName'],
};
