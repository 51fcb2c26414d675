import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { parseReportRequest, reportRequestBody, SqsReportRequests } from './report-requests.ts';

const RUN = '00000000-0000-4000-8000-000000000042';

describe('report requests', () => {
  it('sends {runId} to the reports queue', async () => {
    const sent: SendMessageCommand[] = [];
    const requests = new SqsReportRequests(
      { send: async (command: unknown) => void sent.push(command as SendMessageCommand) } as never,
      'https://sqs.example/reports',
      { error: () => undefined },
    );
    await requests.request(RUN);
    await requests.request(RUN, { delaySeconds: 2, deferrals: 1 });
    expect(sent.map((command) => command.input)).toEqual([
      { QueueUrl: 'https://sqs.example/reports', MessageBody: `{"runId":"${RUN}"}` },
      {
        QueueUrl: 'https://sqs.example/reports',
        MessageBody: `{"runId":"${RUN}","deferrals":1}`,
        DelaySeconds: 2,
      },
    ]);
  });

  it('logs a failed send instead of failing the request that asked', async () => {
    const logged: unknown[] = [];
    const requests = new SqsReportRequests(
      { send: async () => Promise.reject(new Error('throttled')) } as never,
      'https://sqs.example/reports',
      { error: (...args: unknown[]) => void logged.push(args) },
    );
    await expect(requests.request(RUN)).resolves.toBeUndefined();
    expect(logged).toHaveLength(1);
  });

  it('reads back the run id of a request, and nothing else', () => {
    expect(parseReportRequest(reportRequestBody({ runId: RUN }))).toEqual({ runId: RUN });
    expect(parseReportRequest(reportRequestBody({ runId: RUN, deferrals: 3 }))).toEqual({
      runId: RUN,
      deferrals: 3,
    });
    for (const body of [
      '',
      'null',
      '{}',
      '{"runId":"x"}',
      '{"runId":7}',
      '[1]',
      `{"runId":"${RUN}","deferrals":-1}`,
      `{"runId":"${RUN}","deferrals":"2"}`,
    ]) {
      expect(parseReportRequest(body)).toBeUndefined();
    }
  });
});
