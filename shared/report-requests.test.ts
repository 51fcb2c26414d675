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
    expect(sent.map((command) => command.input)).toEqual([
      { QueueUrl: 'https://sqs.example/reports', MessageBody: `{"runId":"${RUN}"}` },
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
    expect(parseReportRequest(reportRequestBody(RUN))).toBe(RUN);
    for (const body of ['', 'null', '{}', '{"runId":"x"}', '{"runId":7}', '[1]']) {
      expect(parseReportRequest(body)).toBeUndefined();
    }
  });
});
