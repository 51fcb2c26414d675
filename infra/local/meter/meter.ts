/**
 * The one meter of the local stack: what it serves (API requests, invocations with their wall
 * and CPU time, SQS requests and messages, DynamoDB units, log bytes), each fact written once,
 * where it happens, and read two ways: as running totals (`GET /local/stats`, the benchmark) and
 * as time series under the names AWS publishes them with (shared/dashboard-model/aws-metrics.ts)
 * for the local dashboards, with the functions' recent log lines.
 */
import type { ServerResponse } from 'node:http';
import { AWS_METRICS } from '#shared/dashboard-model/index.ts';
import type { DynamoDbExchange } from './dynamodb-units.ts';
import { LogStore, logGroupOf } from './log-store.ts';
import { SeriesStore } from './series-store.ts';

const { lambda, api, sqs, dynamodb, logs } = AWS_METRICS;

/** The local HTTP API's id, as the `ApiId` dimension. */
export const LOCAL_API_ID = 'local';

export interface FunctionUsage {
  invocations: number;
  /** Wall time in the execution environment, summed over invocations. */
  durationMs: number;
  /** Lambda's billed duration: each invocation's wall time rounded up to the ms, times memory. */
  gbSeconds: number;
  /**
   * CPU time of the environment's thread while it ran the handler, summed. An invocation whose
   * environment was ended (timeout, crash) reports none: its wall time counts instead.
   */
  cpuMs: number;
}

export interface UsageTotals {
  apiRequests: number;
  lambda: Record<string, FunctionUsage>;
  dynamodb: {
    writeUnits: number;
    readUnits: number;
    /** Write units by `<table>` or `<table>/<index>`: what each one's partitions take. */
    writeUnitsBy: Record<string, number>;
  };
  logs: { emfBytes: number; otherBytes: number };
}

/** What the meter samples of a queue every second. */
export interface SampledQueue {
  name: string;
  counts(): { visible: number };
  oldestSentTimestamp(): number | undefined;
}

type Json = Record<string, unknown>;

const emptyTotals = (): UsageTotals => ({
  apiRequests: 0,
  lambda: {},
  dynamodb: { writeUnits: 0, readUnits: 0, writeUnitsBy: {} },
  logs: { emfBytes: 0, otherBytes: 0 },
});

export class LocalMeter {
  readonly series: SeriesStore;
  readonly logs = new LogStore();
  private totals = emptyTotals();
  private sqsRequestsPerAction: Record<string, number> = {};
  private readonly inFlight = new Map<string, number>();

  constructor(
    /** Memory of a function, for its GB-seconds. */
    private readonly memoryMb: (functionName: string) => number,
    private readonly now: () => number = Date.now,
  ) {
    this.series = new SeriesStore(now);
  }

  /** An EMF metric a function printed (through MetricsCollector). */
  readonly emf = (
    namespace: string,
    name: string,
    dimensions: Record<string, string>,
    values: number[],
    timestamp: number,
  ): void => this.series.record(namespace, name, dimensions, values, timestamp);

  /** An API request: counted when its response is sent, with its status class and latency. */
  apiRequest(response: ServerResponse): void {
    const started = this.now();
    response.once('finish', () => {
      this.totals.apiRequests++;
      const record = (name: string, value: number) =>
        this.series.record(api.namespace, name, { ApiId: LOCAL_API_ID }, [value]);
      const status = response.statusCode;
      record(api.metrics.count, 1);
      record(api.metrics.clientErrors, status >= 400 && status < 500 ? 1 : 0);
      record(api.metrics.serverErrors, status >= 500 ? 1 : 0);
      record(api.metrics.latency, this.now() - started);
    });
  }

  /** Wraps the invoker: each invocation, its concurrency and whether it failed. */
  instrumentInvoke<E>(
    invoke: (functionName: string, event: E) => Promise<unknown>,
  ): (functionName: string, event: E) => Promise<unknown> {
    return async (functionName, event) => {
      const record = (name: string, value: number) =>
        this.series.record(lambda.namespace, name, { FunctionName: functionName }, [value]);
      this.usageOf(functionName).invocations++;
      const running = (this.inFlight.get(functionName) ?? 0) + 1;
      this.inFlight.set(functionName, running);
      record(lambda.metrics.invocations, 1);
      record(lambda.metrics.concurrency, running);
      // The local invoker queues instead of throttling: zero is what it measures.
      record(lambda.metrics.throttles, 0);
      let failed = false;
      try {
        return await invoke(functionName, event);
      } catch (error) {
        failed = true;
        throw error;
      } finally {
        this.inFlight.set(functionName, (this.inFlight.get(functionName) ?? 1) - 1);
        record(lambda.metrics.errors, failed ? 1 : 0);
      }
    };
  }

  /** An invocation ran `wallMs` in its environment, `cpuMs` of it on the CPU (when known). */
  functionRan(functionName: string, wallMs: number, cpuMs: number | undefined): void {
    const usage = this.usageOf(functionName);
    usage.durationMs += wallMs;
    usage.gbSeconds += (Math.ceil(wallMs) / 1000) * (this.memoryMb(functionName) / 1024);
    usage.cpuMs += cpuMs ?? wallMs;
    this.series.record(lambda.namespace, lambda.metrics.duration, { FunctionName: functionName }, [
      wallMs,
    ]);
  }

  /** A line a function printed: log bytes for its group, and the line itself unless EMF. */
  functionLine(functionName: string, line: string, isEmf: boolean): void {
    const logGroup = logGroupOf(functionName);
    const bytes = Buffer.byteLength(line) + 1;
    if (isEmf) this.totals.logs.emfBytes += bytes;
    else this.totals.logs.otherBytes += bytes;
    this.series.record(logs.namespace, logs.metrics.incomingBytes, { LogGroupName: logGroup }, [
      bytes,
    ]);
    if (!isEmf) this.logs.add({ timestamp: this.now(), logGroup, message: line });
  }

  /**
   * A DynamoDB request priced in the DynamoDB thread: units per table (and index), throttled
   * requests (the proxy refused the whole request) and write throttle events (each throttled
   * write, a BatchWriteItem's unprocessed items included).
   */
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
    for (const { table, index, count } of exchange.writeThrottleEvents)
      this.series.record(
        dynamodb.namespace,
        dynamodb.metrics.writeThrottleEvents,
        { TableName: table, ...(index === undefined ? {} : { GlobalSecondaryIndexName: index }) },
        [count],
      );
    const totals = this.totals.dynamodb;
    for (const { table, index, writeUnits, readUnits } of exchange.charges) {
      totals.writeUnits += writeUnits;
      totals.readUnits += readUnits;
      const dimensions = {
        TableName: table,
        ...(index === undefined ? {} : { GlobalSecondaryIndexName: index }),
      };
      if (writeUnits > 0) {
        const target = index === undefined ? table : `${table}/${index}`;
        totals.writeUnitsBy[target] = (totals.writeUnitsBy[target] ?? 0) + writeUnits;
        this.series.record(dynamodb.namespace, dynamodb.metrics.writeUnits, dimensions, [
          writeUnits,
        ]);
      }
      if (readUnits > 0) {
        this.series.record(dynamodb.namespace, dynamodb.metrics.readUnits, dimensions, [readUnits]);
      }
    }
  };

  /**
   * A request the SQS endpoint received: counted per action; for an answered one, the messages
   * sent, received and deleted and the empty receives, per queue.
   */
  readonly sqsRequest = (action: string, input?: Json, output?: Json): void => {
    this.sqsRequestsPerAction[action] = (this.sqsRequestsPerAction[action] ?? 0) + 1;
    const queueName = String(input?.QueueUrl ?? '')
      .split('/')
      .pop();
    if (output === undefined || !queueName) return;
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
  sampleQueues(queues: readonly SampledQueue[]): () => void {
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

  /** What AWS would bill beyond requests: API, Lambda, DynamoDB units, logs. */
  usage(): UsageTotals {
    return structuredClone(this.totals);
  }

  /** SQS requests per action since start or the last reset. */
  sqsRequests(): Record<string, number> {
    return { ...this.sqsRequestsPerAction };
  }

  /** Starts the totals afresh; the time series stay, as CloudWatch's would. */
  resetTotals(): void {
    this.totals = emptyTotals();
    this.sqsRequestsPerAction = {};
  }

  private usageOf(functionName: string): FunctionUsage {
    return (this.totals.lambda[functionName] ??= {
      invocations: 0,
      durationMs: 0,
      gbSeconds: 0,
      cpuMs: 0,
    });
  }
}
