/**
 * Asking for a run's report to be built now, off the request that ends the run or stores its
 * late readings: a message `{runId}` on the reports queue, which the sweeper consumes
 * (services/run-sweeper). Building a report reads every pack of the run: in the request, a
 * finish took seconds for a large run and a consumer held its batch (and the queue) that long;
 * queued, both answer at once and the report follows within a second or two.
 *
 * A request that is lost (the send failed, the message dead-lettered) only delays the report:
 * the run stays in the `reportDue` index (shared/report-store.ts), which the sweeper's schedule
 * works through.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { RUN_ID } from './identity.ts';

export interface ReportRequests {
  /** Has the run's report built as soon as the builder can; never throws (logged instead). */
  request(runId: string): Promise<void>;
}

export class SqsReportRequests implements ReportRequests {
  constructor(
    private readonly client: Pick<SQSClient, 'send'>,
    private readonly queueUrl: string,
    private readonly logger: Pick<Logger, 'error'>,
  ) {}

  async request(runId: string): Promise<void> {
    try {
      await this.client.send(
        new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: reportRequestBody(runId) }),
      );
    } catch (error) {
      this.logger.error('Report build not requested; the sweeper builds it when due', {
        runId,
        error: error as Error,
      });
    }
  }
}

export const reportRequestBody = (runId: string): string => JSON.stringify({ runId });

/** The run id of a report request, or undefined for a body that is not one. */
export const parseReportRequest = (body: string): string | undefined => {
  try {
    const { runId } = JSON.parse(body) as { runId?: unknown };
    return typeof runId === 'string' && RUN_ID.test(runId) ? runId : undefined;
  } catch {
    return undefined;
  }
};
