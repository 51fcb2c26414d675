/** A topology queue: the queue, its dead-letter queue, and the consumer's event source mapping. */
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ThroughputSettings } from '#infra/throughput.ts';
import { type QueueName, topology } from '#infra/topology.ts';

/** AWS's guidance for SQS event sources: visibility timeout at least six times the function's. */
export const VISIBILITY_TO_TIMEOUT_RATIO = 6;

export interface IngestionQueueProps {
  name: QueueName;
  /**
   * The stage's removal policy for both queues: they hold accepted readings not stored yet (the
   * DLQ for up to its retention), which a prod stack deletion must not take with it.
   */
  removalPolicy: RemovalPolicy;
}

export class IngestionQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  private readonly name: QueueName;

  constructor(scope: Construct, id: string, props: IngestionQueueProps) {
    super(scope, id);
    this.name = props.name;
    const spec = topology.queues[props.name];
    const consumer = topology.functions[spec.consumer.function];
    if (spec.visibilityTimeoutSeconds < VISIBILITY_TO_TIMEOUT_RATIO * consumer.timeoutSeconds) {
      throw new Error(
        `Queue ${props.name}: visibility timeout ${spec.visibilityTimeoutSeconds}s is below ` +
          `${VISIBILITY_TO_TIMEOUT_RATIO} × the ${spec.consumer.function} timeout (${consumer.timeoutSeconds}s)`,
      );
    }

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      retentionPeriod: Duration.seconds(spec.deadLetterRetentionSeconds),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy: props.removalPolicy,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      visibilityTimeout: Duration.seconds(spec.visibilityTimeoutSeconds),
      retentionPeriod: Duration.seconds(spec.retentionSeconds),
      // SQS-managed keys: encrypted at rest without KMS request charges on every message.
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: spec.maxReceiveCount },
      removalPolicy: props.removalPolicy,
    });
  }

  /**
   * Connects the topology's consumer: partial batch responses (only failed records return to
   * the queue), with the stage's batch size, batching window and concurrency cap.
   */
  connectConsumer(fn: lambda.IFunction, consumer: ThroughputSettings['consumer']): void {
    fn.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: consumer.batchSize,
        maxBatchingWindow: Duration.seconds(consumer.maxBatchingWindowSeconds),
        maxConcurrency: consumer.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
  }
}
