/**
 * The run lifecycle under concurrency: twice MAX_RUNS virtual users start a run at the same
 * moment — exactly MAX_RUNS may get 201, the rest 409 with the limit in the body — the started
 * runs are finished; then runs are started again, interrupt-all unsigned must be refused by API
 * Gateway (an operator's route: IAM authorization, `npm run admin` signs it) and end nothing,
 * and the runs are finished one by one. For a stage without the JWT authorizer.
 */
import { check, sleep } from 'k6';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import type { Options } from 'k6/options';
import { sensorIds, startRunBody } from '../payload.ts';
import { settings } from './lib/config.ts';
import { summaryFiles } from './lib/ingest.ts';

const runsStarted = new Counter('runs_started');
const runsRefused = new Counter('runs_refused');
const headers = { 'Content-Type': 'application/json', 'X-User': settings.user };

export const options: Options = {
  scenarios: {
    concurrent_starts: {
      executor: 'per-vu-iterations',
      vus: settings.maxRuns * 2,
      iterations: 1,
      exec: 'startAndFinish',
    },
    interrupt_all_unsigned: {
      executor: 'per-vu-iterations',
      vus: 1,
      iterations: 1,
      startTime: '20s',
      exec: 'unsignedInterruptAll',
    },
  },
  thresholds: {
    runs_started: [`count<=${settings.maxRuns}`, 'count>0'],
    runs_refused: [`count>=${settings.maxRuns}`],
    checks: ['rate==1'],
    http_req_duration: [`p(95)<${settings.p95Ms * 2}`],
  },
};

const start = () =>
  http.post(`${settings.baseUrl}/api/runs/start`, JSON.stringify(startRunBody(60, sensorIds(2))), {
    headers,
    // 409 is an expected answer here, not a failed request.
    responseCallback: http.expectedStatuses(201, 409),
  });

export function startAndFinish(): void {
  const started = start();
  if (started.status === 201) {
    runsStarted.add(1);
    sleep(3); // hold the slot while the others try
    const finished = http.post(
      `${settings.baseUrl}/api/runs/${started.json('id') as string}/finish`,
      JSON.stringify({ status: 'COMPLETED' }),
      { headers },
    );
    check(finished, { 'finished COMPLETED': (r) => r.json('status') === 'COMPLETED' });
  } else {
    runsRefused.add(1);
    check(started, {
      'refused with the limit': (r) =>
        r.status === 409 &&
        r.json('maxAllowed') === settings.maxRuns &&
        r.json('currentRunning') !== undefined,
    });
  }
}

export function unsignedInterruptAll(): void {
  const ids = Array.from({ length: settings.maxRuns }, () => start())
    .filter((r) => r.status === 201)
    .map((r) => r.json('id') as string);
  const refused = http.post(`${settings.baseUrl}/api/runs/interrupt-all`, '{}', {
    headers,
    responseCallback: http.expectedStatuses(403),
  });
  check(refused, {
    'interrupt-all unsigned is refused 403 by the gateway': (r) =>
      r.status === 403 && r.json('message') === 'Forbidden',
  });
  for (const id of ids) {
    const run = http.get(`${settings.baseUrl}/api/runs/${id}`);
    check(run, { 'run still RUNNING': (r) => r.json('status') === 'RUNNING' });
    const finished = http.post(
      `${settings.baseUrl}/api/runs/${id}/finish`,
      JSON.stringify({ status: 'COMPLETED' }),
      { headers },
    );
    check(finished, { 'finished COMPLETED': (r) => r.json('status') === 'COMPLETED' });
  }
}

export const handleSummary = summaryFiles('run lifecycle');
