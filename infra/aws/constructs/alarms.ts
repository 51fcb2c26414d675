/**
 * The alarms that say the pipeline needs a person: anything in the DLQ, a consumer falling
 * behind, function errors or throttles, API 5xx. Optionally mailed through an SNS topic.
 */
import { ArnFormat, Duration, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { PIPELINE_NAMESPACE, PipelineDimension, PipelineMetric } from '#shared/metrics-contract.ts';
import { type FunctionName, topology } from '#infra/topology.ts';
import type { AlarmThresholds } from '../stage-config.ts';
import type { IngestionQueue } from './ingestion-queue.ts';

/** Queue metrics are published every minute; alarm on the freshest point. */
const ONE_MINUTE = Duration.minutes(1);

export interface OperationalAlarmsProps {
  functions: Record<FunctionName, lambda.IFunction>;
  queue: IngestionQueue;
  httpApi: apigw.HttpApi;
  thresholds: AlarmThresholds;
  alarmEmail?: string;
  /** Grafana's target group (component full): alarm when no healthy task serves it. */
  grafanaTargets?: elbv2.ApplicationTargetGroup;
  /** The stage's: prod keeps undelivered alarm messages with the stack. */
  removalPolicy: RemovalPolicy;
}

export class OperationalAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly topic?: sns.Topic;
  /** Alarm messages SNS could not deliver to the subscription (its redrive policy). */
  readonly undelivered?: sqs.Queue;

  constructor(scope: Construct, id: string, props: OperationalAlarmsProps) {
    super(scope, id);
    const { thresholds } = props;
    const period = thresholds.evaluationPeriod;

    if (props.alarmEmail !== undefined) {
      this.topic = new sns.Topic(this, 'Topic', {
        displayName: 'IoT Playground alarms',
        enforceSSL: true,
      });
      // enforceSSL gives the topic a policy of its own, which replaces the default one that
      // lets CloudWatch publish: without this statement no alarm would ever reach the topic.
      const stack = Stack.of(this);
      this.topic.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'CloudWatchAlarmsOfThisAccount',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['sns:Publish'],
          resources: [this.topic.topicArn],
          conditions: {
            StringEquals: { 'aws:SourceAccount': stack.account },
            ArnLike: {
              'aws:SourceArn': stack.formatArn({
                service: 'cloudwatch',
                resource: 'alarm',
                resourceName: '*',
                arnFormat: ArnFormat.COLON_RESOURCE_NAME,
              }),
            },
          },
        }),
      );
      // What SNS fails to deliver (client or server errors, after its retries) is kept here,
      // not dropped (https://docs.aws.amazon.com/sns/latest/dg/sns-dead-letter-queues.html).
      // SQS-managed encryption: SNS sends to it without a key policy of ours.
      this.undelivered = new sqs.Queue(this, 'UndeliveredAlarms', {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
        removalPolicy: props.removalPolicy,
      });
      Validations.of(this.undelivered).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason:
          "This queue is the alarm subscription's dead-letter queue (its SNS redrive policy), " +
          'which cdk-nag cannot see: a dead-letter queue of its own would have nothing to catch.',
      });
      this.topic.addSubscription(
        new EmailSubscription(props.alarmEmail, { deadLetterQueue: this.undelivered }),
      );
      Validations.of(this.topic).acknowledge({
        id: 'AwsSolutions-SNS2',
        reason:
          'Alarm notifications carry only alarm names and metric values, no application data. ' +
          'CloudWatch cannot publish to a topic under the AWS managed SNS key, and a customer ' +
          'managed key would add a monthly charge to an otherwise idle-free stack.',
      });
    }

    const alarm = (
      alarmId: string,
      description: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      comparisonOperator: cloudwatch.ComparisonOperator,
      // No data means no traffic, which is healthy for every traffic alarm here.
      treatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
    ): void => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        alarmDescription: description,
        metric,
        threshold,
        comparisonOperator,
        evaluationPeriods: 1,
        treatMissingData,
      });
      if (this.topic) {
        created.addAlarmAction(new SnsAction(this.topic));
        created.addOkAction(new SnsAction(this.topic));
      }
      this.alarms.push(created);
    };

    if (this.undelivered) {
      alarm(
        'UndeliveredAlarmMessages',
        'SNS could not deliver alarm messages to the alarm e-mail: they wait in its dead-letter queue.',
        this.undelivered.metricApproximateNumberOfMessagesVisible({
          period: ONE_MINUTE,
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        0,
        cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      );
    }
    alarm(
      'DeadLetterMessages',
      'Measurements failed maxReceiveCount times and wait in the dead-letter queue.',
      props.queue.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: ONE_MINUTE,
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      0,
      cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    );
    alarm(
      'OldestMessageAge',
      `The consumer is behind: a queued measurement is older than ${thresholds.oldestMessageAge.toHumanString()}.`,
      props.queue.queue.metricApproximateAgeOfOldestMessage({
        period: ONE_MINUTE,
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      thresholds.oldestMessageAge.toSeconds(),
      cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    );
    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(
        `${name}Errors`,
        `${name}: ${thresholds.functionErrors} or more errors in ${period.toHumanString()}.`,
        fn.metricErrors({ period, statistic: cloudwatch.Stats.SUM }),
        thresholds.functionErrors,
        cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      );
      alarm(
        `${name}Throttles`,
        `${name}: ${thresholds.functionThrottles} or more throttled invocations in ${period.toHumanString()}.`,
        fn.metricThrottles({ period, statistic: cloudwatch.Stats.SUM }),
        thresholds.functionThrottles,
        cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      );
    }
    alarm(
      'MeasurementsParked',
      'The table refused readings for good; they are parked for an operator (README, redrive).',
      new cloudwatch.Metric({
        namespace: PIPELINE_NAMESPACE,
        metricName: PipelineMetric.parked,
        dimensionsMap: {
          [PipelineDimension.service]:
            topology.functions[topology.queues.measurements.consumer.function].service,
        },
        period,
        statistic: cloudwatch.Stats.SUM,
      }),
      0,
      cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    );
    if (props.grafanaTargets) {
      alarm(
        'GrafanaUnhealthy',
        'No healthy Grafana task behind the load balancer.',
        props.grafanaTargets.metrics.healthyHostCount({
          period: ONE_MINUTE,
          statistic: cloudwatch.Stats.MINIMUM,
        }),
        1,
        cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        // Without data the load balancer reports no healthy host at all.
        cloudwatch.TreatMissingData.BREACHING,
      );
    }
    alarm(
      'Api5xx',
      `The API answered ${thresholds.api5xx} or more 5xx responses in ${period.toHumanString()}.`,
      props.httpApi.metricServerError({ period, statistic: cloudwatch.Stats.SUM }),
      thresholds.api5xx,
      cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    );
  }
}
