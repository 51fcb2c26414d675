/**
 * The smoke test against the local stack: the command passes on a healthy stack, fails with a
 * non-zero exit and a clear line when something is wrong, and always finishes its run.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '#infra/local/index.ts';
import { SENSORS_DASHBOARD } from '#shared/grafana.ts';
import { checkedFetch } from '#test/support/api-contract.ts';
import { type ApiClient, startTestStack } from '#test/support/local-stack.ts';
import { runSmoke, type SmokeOptions } from './smoke.ts';

/** `npm run smoke -- …` exactly as the deploy workflow runs it. */
const smokeCommand = (args: string[]): Promise<{ code: number; output: string }> =>
  new Promise((resolve) => {
    execFile(
      'npm',
      ['run', '--silent', 'smoke', '--', ...args],
      { timeout: 120_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` });
      },
    );
  });

const inProcess = async (url: string, overrides: Partial<SmokeOptions> = {}) => {
  const lines: string[] = [];
  const result = await runSmoke({
    url,
    expectGrafana: false,
    grafanaAuth: {},
    readBackTimeoutMs: 30_000,
    log: (line) => lines.push(line),
    // Every answer the smoke test gets is checked against the OpenAPI description.
    fetch: checkedFetch as typeof fetch,
    ...overrides,
  });
  return { ...result, output: lines.join('\n') };
};

const running = async (api: ApiClient) => (await api.get('/api/runs/running')).body as unknown[];

describe('npm run smoke against the local stack without Grafana', () => {
  let stack: LocalStack;
  let api: ApiClient;
  beforeAll(async () => {
    // An empty GRAFANA_URL: no dashboards, as in a `lambdas` stage (locally they are served).
    ({ stack, api } = await startTestStack({ env: { GRAFANA_URL: '' } }));
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('passes every step, exits 0 and leaves no run running', async () => {
    const { code, output } = await smokeCommand(['--url', `${stack.url}/`]);
    expect(output).toMatch(/✓ can-start/);
    for (const shape of [
      'single reading',
      'without type',
      'multi-reading',
      'batch',
      'bare array',
    ]) {
      expect(output).toContain(`${shape}`);
    }
    expect(output).toMatch(/✓ read back\s+all 9 readings stored exactly once/);
    expect(output).toMatch(/✓ finish\s+COMPLETED/);
    expect(output).toMatch(/✓ grafanaUrl\s+none: this stage has no Grafana/);
    expect(output).toMatch(/Smoke test passed/);
    expect(code).toBe(0);
    expect(await running(api)).toEqual([]);
  });

  it('fails with exit 1 when the stage should run Grafana, and still finishes its run', async () => {
    const { code, output } = await smokeCommand(['--url', stack.url, '--expect-grafana']);
    expect(output).toMatch(/✗ grafanaUrl\s+the stage should run Grafana/);
    expect(output).toMatch(/Smoke test FAILED/);
    expect(code).toBe(1);
    expect(await running(api)).toEqual([]);
  });

  it('fails clearly when nothing answers at the URL', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const result = await inProcess(`http://127.0.0.1:${port}`);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(
      /✗ can-start\s+GET http:\/\/127\.0\.0\.1:\d+\/api\/runs\/can-start/,
    );
  });

  it('refuses a usage error with exit 2', async () => {
    const { code, output } = await smokeCommand([]);
    expect(code).toBe(2);
    expect(output).toMatch(/--url is required/);
  });
});

describe('with Grafana in the stage', () => {
  const TOKEN = 'glsa_smoke';
  let dashboardExists = true;
  let grafana: Server;
  let grafanaUrl: string;
  let stack: LocalStack;

  beforeAll(async () => {
    // A stand-in for Grafana: the dashboard page, and its API behind a service account token.
    grafana = createServer((request, response) => {
      const url = request.url ?? '';
      if (url.startsWith(`/d/${SENSORS_DASHBOARD.uid}/`)) {
        response.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>');
      } else if (url === `/api/dashboards/uid/${SENSORS_DASHBOARD.uid}`) {
        if (request.headers.authorization !== `Bearer ${TOKEN}`) {
          response.writeHead(401).end('{"message":"Unauthorized"}');
        } else if (!dashboardExists) {
          response.writeHead(404).end('{"message":"Dashboard not found"}');
        } else {
          response
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ dashboard: { uid: SENSORS_DASHBOARD.uid } }));
        }
      } else {
        response.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => grafana.listen(0, '127.0.0.1', resolve));
    grafanaUrl = `http://127.0.0.1:${(grafana.address() as AddressInfo).port}`;
    ({ stack } = await startTestStack({ env: { GRAFANA_URL: grafanaUrl } }));
  });
  afterAll(async () => {
    await stack?.stop();
    await new Promise((resolve) => grafana?.close(resolve));
  });

  it('checks that the link answers and, with a token, that the dashboard exists', async () => {
    dashboardExists = true;
    const result = await inProcess(stack.url, {
      expectGrafana: true,
      grafanaAuth: { token: TOKEN },
    });
    expect(result.output).toContain(`✓ grafanaUrl   ${grafanaUrl}/d/${SENSORS_DASHBOARD.uid}/`);
    expect(result.output).toMatch(/✓ grafanaUrl\s+dashboard iot-playground-sensors exists/);
    expect(result.ok).toBe(true);
  });

  it('fails when the dashboard is missing', async () => {
    dashboardExists = false;
    const result = await inProcess(stack.url, {
      expectGrafana: true,
      grafanaAuth: { token: TOKEN },
    });
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/✗ grafanaUrl\s+dashboard iot-playground-sensors: .* 404/);
  });

  it('says the dashboard is unverified without credentials, and passes', async () => {
    dashboardExists = true;
    const result = await inProcess(stack.url, { expectGrafana: true });
    expect(result.output).toMatch(/dashboard not verified: .* needs credentials/);
    expect(result.ok).toBe(true);
  });
});
