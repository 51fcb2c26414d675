/**
 * Where the dead-letter queue and the consumer's logs are: a deployed stage (its stack
 * outputs, CloudWatch Logs) or a local stack (`/local/resources`, `/local/logs`).
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { OUTPUTS } from '../aws/stack.ts';
import { stackNameFor, STAGES, type StageName } from '../aws/stage-config.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../local/index.ts';

export interface RedriveTarget {
  /** Says where, for the operator. */
  description: string;
  sqs: SQSClient;
  deadLetterQueueUrl: string;
  deadLetterQueueArn: string;
  /** The consumer's recent log lines, where failure reasons are. */
  readLogs(): Promise<string[]>;
  close(): void;
}

/** Consumer log lines read on AWS, at most, from the last day. */
const MAX_LOG_EVENTS = 1_000;
const LOG_WINDOW_MS = 24 * 60 * 60 * 1000;

/** What `GET /local/resources` answers (the part read here). */
interface LocalResources {
  sqsEndpoint: string;
  queues: {
    measurements: { consumer: string; deadLetters: { url: string; arn: string } };
  };
}

const getJson = async <T>(url: string): Promise<T> => {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return (await response.json()) as T;
};

export const localTarget = async (baseUrl: string): Promise<RedriveTarget> => {
  const resources = await getJson<LocalResources>(`${baseUrl}/local/resources`);
  const measurements = resources.queues.measurements;
  const sqs = new SQSClient({
    endpoint: resources.sqsEndpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  return {
    description: `local stack ${baseUrl}`,
    sqs,
    deadLetterQueueUrl: measurements.deadLetters.url,
    deadLetterQueueArn: measurements.deadLetters.arn,
    readLogs: async () =>
      (
        await getJson<{ lines: string[] }>(
          `${baseUrl}/local/logs?function=${measurements.consumer}`,
        )
      ).lines,
    close: () => sqs.destroy(),
  };
};

export const awsTarget = async (stage: string): Promise<RedriveTarget> => {
  if (!(STAGES as readonly string[]).includes(stage)) {
    throw new Error(`Unknown stage ${stage}; one of ${STAGES.join(', ')}`);
  }
  const stackName = stackNameFor(stage as StageName);
  const cloudFormation = new CloudFormationClient({});
  const { Stacks = [] } = await cloudFormation.send(
    new DescribeStacksCommand({ StackName: stackName }),
  );
  cloudFormation.destroy();
  const outputs = new Map((Stacks[0]?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
  const output = (key: string): string => {
    const value = outputs.get(key);
    if (value === undefined) throw new Error(`Stack ${stackName} has no output ${key}`);
    return value;
  };
  const sqs = new SQSClient({});
  const logs = new CloudWatchLogsClient({});
  const { QueueUrl } = await sqs.send(
    new GetQueueUrlCommand({ QueueName: output(OUTPUTS.deadLetterQueueName) }),
  );
  if (QueueUrl === undefined) throw new Error('The dead-letter queue has no URL');
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const logGroupName = output(OUTPUTS.consumerLogGroupName);
  return {
    description: `stage ${stage} (stack ${stackName})`,
    sqs,
    deadLetterQueueUrl: QueueUrl,
    deadLetterQueueArn: Attributes.QueueArn ?? '',
    readLogs: async () => {
      const lines: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await logs.send(
          new FilterLogEventsCommand({
            logGroupName,
            startTime: Date.now() - LOG_WINDOW_MS,
            filterPattern: '?ERROR ?WARN',
            ...(nextToken && { nextToken }),
          }),
        );
        lines.push(...(page.events ?? []).map((event) => event.message ?? ''));
        nextToken = page.nextToken;
      } while (nextToken && lines.length < MAX_LOG_EVENTS);
      return lines;
    },
    close: () => {
      sqs.destroy();
      logs.destroy();
    },
  };
};
