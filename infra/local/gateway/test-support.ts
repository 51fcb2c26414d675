/**
 * For the gateway's tests: the real run API (in-memory stores) behind a gateway with the given
 * authorizers, served on 127.0.0.1, with every event the function received.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll } from 'vitest';
import { topology } from '#infra/topology.ts';
import { createRunMetrics } from '#shared/metrics.ts';
import { makeHandler, runSettingsFromEnv } from '#services/run-api/app.ts';
import { InMemoryReportStore } from '#test/support/in-memory-report-store.ts';
import { InMemoryRunStore } from '#test/support/in-memory-run-store.ts';
import { lambdaContext } from '#test/support/lambda-context.ts';
import { type GatewayConfig, makeGateway } from './gateway.ts';

export interface ServedRunApi {
  baseUrl: string;
  /** The events the run API was invoked with, oldest first. */
  invoked: APIGatewayProxyEventV2[];
}

/** Serves the run API behind the gateway for the enclosing test file; filled in before its tests. */
export const useRunApiBehindGateway = (
  options: Pick<GatewayConfig, 'jwt' | 'iam'> & { allowOrigins?: string[] },
): ServedRunApi => {
  const served: ServedRunApi = { baseUrl: '', invoked: [] };
  const server = createServer();
  beforeAll(async () => {
    const runApi = makeHandler({
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: createRunMetrics('run-api'),
      store: new InMemoryRunStore(),
      settings: runSettingsFromEnv({}),
      now: Date.now,
      newId: () => crypto.randomUUID(),
      adminGroup: 'admin',
      reports: new InMemoryReportStore(),
    });
    const gateway = makeGateway({
      routes: topology.routes,
      defaultRouteFunction: 'runApi',
      maxBodyBytes: 1024 * 1024,
      cors: {
        allowOrigins: options.allowOrigins ?? ['*'],
        allowHeaders: topology.api.corsAllowedHeaders,
        allowMethods: topology.api.corsAllowedMethods,
        exposeHeaders: [],
        maxAgeSeconds: 600,
      },
      invoke: async (_name, event) => {
        served.invoked.push(event);
        return runApi(event, lambdaContext());
      },
      log: () => undefined,
      ...(options.jwt ? { jwt: options.jwt } : {}),
      ...(options.iam ? { iam: options.iam } : {}),
    });
    server.on('request', (request, response) => void gateway(request, response));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    served.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.close();
  });
  return served;
};
