/**
 * What the local stack measures about itself, recorded under the names AWS uses
 * (dashboards/aws-metrics.ts): Lambda invocations, errors, duration and concurrency per
 * function; HTTP API requests, status classes and latency; SQS messages and queue depth; DynamoDB
 * units and throttles per table; log bytes per log group. Plus the functions' recent log lines,
 * for the Logs Insights panels. Each hook is one call from the stack's wiring.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AWS_METRICS } from '../../../dashboards/aws-metrics.ts';
import type { Queue } from '../sqs/queue.ts';
import type { DynamoDbExchange } from '../usage.ts';
import { SeriesStore } from './series-store.ts';

const { lambda, api, sqs, dynamodb, logs } = AWS_METRICS;

/** The local HTTP API's id, as the `ApiId` dimension. */
export const LOCAL_API_ID = 'local';

export const logGroupOf = (functionName: string): string => `/aws/lambda/${functionName}`;

export interface LogLine {
  timestamp: number;
  logGroup: string;
  message: string;
}

const LOG_LINES_KEPT = 2000;

/** The functions' recent log lines, newest last. */
export class LogStore {
  private lines: LogLine[] = [];

  add(line: LogLine): void {
    this.lines.push(line);
    if (this.lines.length > LOG_LINES_KEPT * 1.5) this.lines = this.lines.slice(-LOG_LINES_KEPT);
  }

  list(): readonly LogLine[] {
    return this.lines;
  }

  logGroups(): string[] {
    return [...new Set(this.lines.map((line) => line.logGroup))].sort();
  }
}

type Json = Record<string, unknown>;

export class LocalRecorder {
  readonly series: SeriesStore;
  readonly logs = new LogStore();
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {
    this.series = new SeriesStore(now);
  }

  /** Records an EMF metric the functions printed (through MetricsCollector). */
  readonly emf = (
    namespace: string,
    name: string,
    dimensions: Record<string, string>,
    values: number[],
    timestamp: number,
  ): void => this.series.record(namespace, name, dimensions, values, timestamp);

  /** A line a function printed: log bytes for its group, and the line itself unless EMF. */
  functionLine(functionName: string, line: string, isEmf: boolean): void {
    const logGroup = logGroupOf(functionName);
    this.series.record(logs.namespace, logs.metrics.incomingBytes, { LogGroupName: logGroup }, [
      Buffer.byteLength(line) + 1,
    ]);
    if (!isEmf) this.logs.add({ timestamp: this.now(), logGroup, message: line });
  }

  /** Wraps the invoker: what Lambda reports per function. */
  instrumentInvoke<E>(
    invoke: (functionName: string, event: E) => Promise<unknown>,
  ): (functionName: string, event: E) => Promise<unknown> {
    return async (functionName, event) => {
      const dimensions = { FunctionName: functionName };
      const record = (name: string, value: number) =>
        this.series.record(lambda.namespace, name, dimensions, [value]);
      const running = (this.inFlight.get(functionName) ?? 0) + 1;
      this.inFlight.set(functionName, running);
      record(lambda.metrics.invocations, 1);
      record(lambda.metrics.concurrency, running);
      // The local invoker queues instead of throttling: zero is what it measures.
      record(lambda.metrics.throttles, 0);
      const started = this.now();
      let failed = false;
      try {
        return await invoke(functionName, event);
      } catch (error) {
        failed = true;
        throw error;
      } finally {
        this.inFlight.set(functionName, (this.inFlight.get(functionName) ?? 1) - 1);
        record(lambda.metrics.duration, this.now() - started);
        record(lambda.metrics.errors, failed ? 1 : 0);
      }
    };
  }

  /** An API request: counted when the response is sent, with its status class and latency. */
  gatewayExchange(_request: IncomingMessage, response: ServerResponse): void {
    const started = this.now();
    response.once('finish', () => {
      const dimensions = { ApiId: LOCAL_API_ID };
      const record = (name: string, value: number) =>
        this.series.record(api.namespace, name, dimensions, [value]);
      const status = response.statusCode;
      record(api.metrics.count, 1);
      record(api.metrics.clientErrors, status >= 400 && status < 500 ? 1 : 0);
      record(api.metrics.serverErrors, status >= 500 ? 1 : 0);
      record(api.metrics.latency, this.now() - started);
    });
  }

  /** A DynamoDB request seen by the local endpoint: units per table (and index), throttles. */
  readonly dynamoDb = (operation: string, exchange: DynamoDbExchange): void => {
    if (exchange.throttled) {
      for (const table of exchange.tables) {
        this.series.record(
          dynamodb.namespace,
          dynamodb.metrics.throttled,
          { TableName: table, Operation: operation },
          [1],
        );
      }
    }
    for (const { table, index, writeUnits, readUnits } of exchange.charges) {
      const dimensions = {
        TableName: table,
        ...(index === undefined ? {} : { GlobalSecondaryIndexName: index }),
      };
      if (writeUnits > 0) {
        this.series.record(dynamodb.namespace, dynamodb.metrics.writeUnits, dimensions, [
          writeUnits,
        ]);
      }
      if (readUnits > 0) {
        this.series.record(dynamodb.namespace, dynamodb.metrics.readUnits, dimensions, [readUnits]);
      }
    }
  };

  /** An SQS action the local endpoint answered: messages sent, received, deleted, empty receives. */
  readonly sqsAction = (action: string, input: Json, output: Json): void => {
    const queueName = String(input.QueueUrl ?? '')
      .split('/')
      .pop();
    if (!queueName) return;
    const record = (name: string, value: number) =>
      this.series.record(sqs.namespace, name, { QueueName: queueName }, [value]);
    const successful = (output.Successful as unknown[] | undefined)?.length ?? 0;
    switch (action) {
      case 'SendMessage':
        record(sqs.metrics.sent, 1);
        break;
      case 'SendMessageBatch':
        record(sqs.metrics.sent, successful);
        break;
      case 'ReceiveMessage': {
        const received = (output.Messages as unknown[] | undefined)?.length ?? 0;
        record(sqs.metrics.received, received);
        record(sqs.metrics.emptyReceives, received === 0 ? 1 : 0);
        break;
      }
      case 'DeleteMessage':
        record(sqs.metrics.deleted, 1);
        break;
      case 'DeleteMessageBatch':
        record(sqs.metrics.deleted, successful);
        break;
    }
  };

  /** Samples queue depth and the age of the oldest message every second, as SQS reports them. */
  sampleQueues(queues: Queue[]): () => void {
    const sample = () => {
      for (const queue of queues) {
        const dimensions = { QueueName: queue.name };
        this.series.record(sqs.namespace, sqs.metrics.visible, dimensions, [
          queue.counts().visible,
        ]);
        const oldest = queue.oldestSentTimestamp();
        this.series.record(sqs.namespace, sqs.metrics.oldestAge, dimensions, [
          oldest === undefined ? 0 : Math.floor((this.now() - oldest) / 1000),
        ]);
      }
    };
    const timer = setInterval(sample, 1000);
    timer.unref();
    return () => clearInterval(timer);
  }
}
