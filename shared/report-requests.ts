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
import { GetQueueAttributesCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { RUN_ID } from './identity.ts';

export interface ReportRequest {
  runId: string;
  /** How often the build was put off already (see ReportRequests.request). */
  deferrals?: number;
}

export interface ReportRequests {
  /**
   * Has the run's report built as soon as the builder can, or after `delaySeconds` (a build put
   * off); never throws (logged instead).
   */
  request(runId: string, later?: { delaySeconds: number; deferrals: number }): Promise<void>;
}

export class SqsReportRequests implements ReportRequests {
  constructor(
    private readonly client: Pick<SQSClient, 'send'>,
    private readonly queueUrl: string,
    private readonly logger: Pick<Logger, 'error'>,
  ) {}

  async request(runId: string, later?: { delaySeconds: number; deferrals: number }): Promise<void> {
    try {
      await this.client.send(
        new SendMessageCommand({
          QueueUrl: this.queueUrl,
          MessageBody: reportRequestBody(
            later === undefined ? { runId } : { runId, deferrals: later.deferrals },
          ),
          ...(later === undefined ? {} : { DelaySeconds: later.delaySeconds }),
        }),
      );
    } catch (error) {
      this.logger.error('Report build not requested; the sweeper builds it when due', {
        runId,
        error: error as Error,
      });
    }
  }
}

export const reportRequestBody = (request: ReportRequest): string => JSON.stringify(request);

/** The request a body holds, or undefined for a body that is not one. */
export const parseReportRequest = (body: string): ReportRequest | undefined => {
  try {
    const { runId, deferrals } = JSON.parse(body) as { runId?: unknown; deferrals?: unknown };
    if (typeof runId !== 'string' || !RUN_ID.test(runId)) return undefined;
    if (deferrals === undefined) return { runId };
    return Number.isInteger(deferrals) && (deferrals as number) >= 0
      ? { runId, deferrals: deferrals as number }
      : undefined;
  } catch {
    return undefined;
  }
};

/** Messages waiting in a queue: its backlog (what consumers have not received yet). */
export interface QueueBacklog {
  waiting(): Promise<number>;
}

export class SqsQueueBacklog implements QueueBacklog {
  constructor(
    private readonly client: Pick<SQSClient, 'send'>,
    private readonly queueUrl: string,
  ) {}

  async waiting(): Promise<number> {
    const out = await this.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    return Number(out.Attributes?.ApproximateNumberOfMessages ?? 0);
  }
}
