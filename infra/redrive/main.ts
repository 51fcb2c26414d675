/**
 * `npm run redrive -- --stage <stage> | --url <local stack url> [--dry-run] [--rate <n>]`:
 * shows what the dead-letter queue holds and why, then moves it back to the queue with an
 * SQS message move task and follows the task to its end.
 */
import { parseArgs } from 'node:util';
import {
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  StartMessageMoveTaskCommand,
  GetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import { formatReport, summarizeDeadLetters } from './report.ts';
import { awsTarget, localTarget, type RedriveTarget } from './targets.ts';

const HELP = `Usage: npm run redrive -- (--stage <dev|prod> | --url <local stack url>) [options]

Shows the measurement dead-letter queue (count, oldest, a sample, failure reasons from the
consumer's logs), then moves its messages back to the measurement queue.

  --stage <name>   a deployed stage: reads the stack outputs (AWS credentials needed)
  --url <url>      a local stack, e.g. http://localhost:3000
  --dry-run        show, move nothing
  --rate <n>       messages moved per second, 1–500 (default: as fast as SQS allows)
  --sample <n>     messages to sample, 1–10 (default 10)
  -h, --help       this help`;

const POLL_MS = 1_000;
const FINISHED = new Set(['COMPLETED', 'CANCELLED', 'FAILED']);

const { values } = parseArgs({
  options: {
    stage: { type: 'string' },
    url: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    rate: { type: 'string' },
    sample: { type: 'string', default: '10' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const fail = (message: string): never => {
  console.error(message);
  process.exit(2);
};

if (values.help) {
  console.log(HELP);
  process.exit(0);
}
if ((values.stage === undefined) === (values.url === undefined)) {
  fail('Give exactly one of --stage or --url.\n\n' + HELP);
}
const rate = values.rate === undefined ? undefined : Number(values.rate);
if (rate !== undefined && !(Number.isInteger(rate) && rate >= 1 && rate <= 500)) {
  fail('--rate must be a whole number from 1 to 500');
}
const sampleSize = Number(values.sample);
if (!(Number.isInteger(sampleSize) && sampleSize >= 1 && sampleSize <= 10)) {
  fail('--sample must be a whole number from 1 to 10');
}

const inspect = async (target: RedriveTarget) => {
  const { Attributes = {} } = await target.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: target.deadLetterQueueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  // A visibility timeout of 0 leaves the sampled messages where they are, ready to move.
  const { Messages = [] } = await target.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: target.deadLetterQueueUrl,
      MaxNumberOfMessages: sampleSize,
      VisibilityTimeout: 0,
      MessageSystemAttributeNames: ['All'],
    }),
  );
  return summarizeDeadLetters({
    count:
      Number(Attributes.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    sample: Messages,
    logLines: await target.readLogs(),
  });
};

const redrive = async (target: RedriveTarget): Promise<boolean> => {
  const { TaskHandle } = await target.sqs.send(
    new StartMessageMoveTaskCommand({
      SourceArn: target.deadLetterQueueArn,
      ...(rate !== undefined && { MaxNumberOfMessagesPerSecond: rate }),
    }),
  );
  console.log(`Move task started: ${TaskHandle}`);
  for (;;) {
    const { Results = [] } = await target.sqs.send(
      new ListMessageMoveTasksCommand({ SourceArn: target.deadLetterQueueArn, MaxResults: 10 }),
    );
    const task = Results.find((result) => result.TaskHandle === TaskHandle);
    if (task === undefined) throw new Error('The move task is no longer listed');
    console.log(
      `  ${task.Status}: ${task.ApproximateNumberOfMessagesMoved ?? 0} of ${task.ApproximateNumberOfMessagesToMove ?? '?'} moved`,
    );
    if (FINISHED.has(task.Status ?? '')) {
      if (task.FailureReason) console.log(`  Failure: ${task.FailureReason}`);
      return task.Status === 'COMPLETED';
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
};

const target = await (
  values.url !== undefined
    ? localTarget(values.url.replace(/\/$/, ''))
    : awsTarget(values.stage ?? '')
).catch((error: Error) => fail(`Cannot reach the dead-letter queue: ${error.message}`));
try {
  console.log(`Target: ${target.description}`);
  const report = await inspect(target);
  console.log(formatReport(report));
  if (values['dry-run']) {
    console.log(`Dry run: ${report.count} message(s) would be moved back; nothing moved.`);
  } else if (report.count === 0) {
    console.log('Nothing to move.');
  } else {
    process.exitCode = (await redrive(target)) ? 0 : 1;
  }
} finally {
  target.close();
}
