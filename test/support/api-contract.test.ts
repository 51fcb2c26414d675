import { describe, expect, it } from 'vitest';
import { contractProblems, type Answer } from './api-contract.ts';

const RUN_ID = '3f2b8c1e-5d4a-4b7e-9c2f-1a2b3c4d5e6f';
const run = {
  id: RUN_ID,
  runId: RUN_ID,
  username: 'alice',
  status: 'RUNNING',
  startedAt: '2026-11-26T10:15:00.000Z',
  duration: 300,
  interval: 1,
  sensorIds: ['temp-1'],
  params: { runId: RUN_ID, sensorIds: ['temp-1'], duration: 300, interval: 1 },
  grafanaUrl: null,
};

const answer = (
  method: string,
  url: string,
  status: number,
  body: unknown,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Answer => ({
  method,
  url,
  status,
  headers: new Headers(headers),
  body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
});

describe('contractProblems', () => {
  it('accepts an answer as described', () => {
    expect(contractProblems(answer('GET', `/api/runs/${RUN_ID}`, 200, run))).toEqual([]);
    expect(
      contractProblems(
        answer(
          'POST',
          '/api/sensors/data',
          202,
          { accepted: 3, runId: RUN_ID },
          {
            'content-type': 'application/json',
            'idempotent-replayed': 'true',
            'apigw-requestid': 'abc',
          },
        ),
      ),
    ).toEqual([]);
  });

  it('refuses an undocumented field', () => {
    const problems = contractProblems(
      answer('GET', `/api/runs/${RUN_ID}`, 200, { ...run, deadlineAt: 1 }),
    );
    expect(problems.join()).toMatch(/must NOT have additional properties/);
  });

  it('refuses a missing or ill-typed field', () => {
    const { grafanaUrl: _g, ...withoutLink } = run;
    expect(contractProblems(answer('GET', `/api/runs/${RUN_ID}`, 200, withoutLink))).toHaveLength(
      1,
    );
    expect(
      contractProblems(answer('GET', `/api/runs/${RUN_ID}`, 200, { ...run, status: 'DONE' })),
    ).toHaveLength(1);
  });

  it('refuses an undocumented status', () => {
    expect(contractProblems(answer('GET', '/api/runs/can-start', 404, {}))).toEqual([
      'GET /api/runs/can-start → 404: status 404 is not documented',
    ]);
  });

  it('refuses an undocumented header, and checks documented ones', () => {
    const body = { accepted: 1, runId: RUN_ID };
    expect(
      contractProblems(
        answer('POST', '/api/sensors/data', 202, body, {
          'content-type': 'application/json',
          'x-debug': '1',
        }),
      ),
    ).toEqual(['POST /api/sensors/data → 202: header x-debug is not documented']);
    expect(
      contractProblems(
        answer('POST', '/api/sensors/data', 202, body, {
          'content-type': 'application/json',
          'idempotent-replayed': 'yes',
        }),
      ).join(),
    ).toMatch(/header Idempotent-Replayed/);
  });

  it('requires a documented required header', () => {
    const zip = answer('GET', '/api/reports/download', 200, 'PK', {
      'content-type': 'application/zip',
    });
    expect(contractProblems(zip)).toEqual([
      'GET /api/reports/download → 200: header Content-Disposition is missing',
      'GET /api/reports/download → 200: header Report-State is missing',
    ]);
  });

  it('refuses an undocumented content type', () => {
    expect(
      contractProblems(
        answer('GET', '/api/runs/all', 200, '<html>', { 'content-type': 'text/html' }),
      ),
    ).toEqual(['GET /api/runs/all → 200: content type text/html is not documented']);
  });

  it("holds requests that match no route to the $default route's answers", () => {
    const notAllowed = {
      error: 'Method PUT is not allowed',
      message: 'Method PUT is not allowed',
      details: [],
      allowed: ['GET'],
    };
    expect(
      contractProblems(
        answer('PUT', `/api/runs/${RUN_ID}`, 405, notAllowed, {
          'content-type': 'application/json',
          allow: 'GET',
        }),
      ),
    ).toEqual([]);
    expect(contractProblems(answer('PUT', `/api/runs/${RUN_ID}`, 405, notAllowed)).join()).toMatch(
      /header Allow is missing/,
    );
    expect(contractProblems(answer('GET', '/api/nothing', 200, {}))).toEqual([
      'GET /api/nothing → 200: status 200 is not documented',
    ]);
  });

  it('leaves out what is not the API: the dashboards and the documentation pages', () => {
    expect(contractProblems(answer('GET', '/grafana', 200, '<html>', {}))).toEqual([]);
    expect(contractProblems(answer('GET', '/api/docs', 200, '<html>', {}))).toEqual([]);
  });
});
