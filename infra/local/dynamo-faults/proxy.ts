/**
 * A DynamoDB endpoint that forwards to dynalite and injects the faults dynalite never
 * produces: throttling and partial BatchWriteItem results. Requests pass through unchanged
 * unless a fault is planned; every request is counted per operation, which measures the
 * DynamoDB requests a flow costs.
 *
 *   const proxy = await startDynamoFaultProxy({ target: 'http://127.0.0.1:4567' });
 *   new DynamoDBClient({ endpoint: proxy.endpoint, ... });
 *   proxy.unprocessed(2);
 *   ...
 *   await proxy.close();
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { crc32 } from 'node:zlib';
import { isRequestItems, splitBatchWrite, withUnprocessedItems } from './batch-write.ts';
import { DynamoFaults, type DynamoProxyStats } from './faults.ts';
import type { DynamoRequest, DynamoResponse, DynamoTarget } from './in-process.ts';

export interface DynamoFaultProxyOptions {
  /**
   * Where requests go: a DynamoDB endpoint, e.g. dynalite's `http://127.0.0.1:<port>`, or a
   * handler in this thread (`inProcessTarget`).
   */
  target: string | DynamoTarget;
  /** Port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /**
   * Told of every request answered: its operation, body and status, with the response body
   * (undefined when the proxy throttled it), for the local stack's DynamoDB metrics.
   */
  onRequest?: (operation: string, body: Buffer, statusCode: number, response?: Buffer) => void;
  /** The planned faults and counters, e.g. shared with another thread; fresh ones when absent. */
  faults?: DynamoFaults;
}

export interface DynamoFaultProxy {
  /** `http://127.0.0.1:<port>`: the DynamoDBClient `endpoint` (or AWS_ENDPOINT_URL_DYNAMODB). */
  readonly endpoint: string;
  readonly port: number;
  /** The next `count` requests of `operation` answer ProvisionedThroughputExceededException. */
  throttle(operation: string, count: number): void;
  /** The next `count` BatchWriteItem requests write half their items, the rest come back unprocessed. */
  unprocessed(count: number): void;
  /** Cancels planned faults that have not happened yet. */
  clearFaults(): void;
  stats(): DynamoProxyStats;
  resetStats(): void;
  close(): Promise<void>;
}

const TARGET_PREFIX = 'DynamoDB_20120810.';
const JSON_CONTENT_TYPE = 'application/x-amz-json-1.0';
const ERROR_NAMESPACE = 'com.amazonaws.dynamodb.v20120810#';

const readAll = async (stream: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

/** Headers of a body the proxy wrote itself; DynamoDB clients may verify x-amz-crc32. */
const bodyHeaders = (body: Buffer): Record<string, string | number> => ({
  'content-length': body.length,
  'x-amz-crc32': crc32(body),
});

/** Answers with `payload` as JSON; returns the body sent. */
const sendJson = (
  response: ServerResponse,
  statusCode: number,
  payload: unknown,
  headers: IncomingHttpHeaders = {},
): Buffer => {
  const body = Buffer.from(JSON.stringify(payload));
  response.writeHead(statusCode, {
    ...headers,
    'content-type': JSON_CONTENT_TYPE,
    'x-amzn-requestid': headers['x-amzn-requestid'] ?? randomUUID(),
    ...bodyHeaders(body),
  });
  response.end(body);
  return body;
};

/** Sends a request to `target` over HTTP, on kept-alive connections. */
const sendOverHttp = (
  target: URL,
  agent: Agent,
  request: DynamoRequest,
  retried = false,
): Promise<DynamoResponse> =>
  new Promise((resolve, reject) => {
    const upstream = httpRequest(
      {
        agent,
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        method: request.method,
        path: request.url,
        headers: {
          ...request.headers,
          host: target.host,
          'content-length': request.body.length,
        },
      },
      (response) => {
        readAll(response).then(
          (body) =>
            resolve({ statusCode: response.statusCode ?? 500, headers: response.headers, body }),
          reject,
        );
      },
    );
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      // A kept-alive socket the target closed while idle fails on reuse; Node's documented
      // remedy is to send again on a fresh one (the request never reached DynamoDB).
      if (upstream.reusedSocket && error.code === 'ECONNRESET' && !retried) {
        sendOverHttp(target, agent, request, true).then(resolve, reject);
      } else reject(error);
    });
    upstream.end(request.body);
  });

const httpTarget = (endpoint: string, agent: Agent): DynamoTarget => {
  const url = new URL(endpoint);
  return (request) => sendOverHttp(url, agent, request);
};

export const startDynamoFaultProxy = async (
  options: DynamoFaultProxyOptions,
): Promise<DynamoFaultProxy> => {
  const agent = new Agent({ keepAlive: true });
  const faults = options.faults ?? new DynamoFaults();
  const send =
    typeof options.target === 'string' ? httpTarget(options.target, agent) : options.target;
  const forward = (request: IncomingMessage, body: Buffer): Promise<DynamoResponse> =>
    send({
      method: request.method ?? 'POST',
      url: request.url ?? '/',
      headers: request.headers,
      body,
    });

  const relay = (response: ServerResponse, upstream: DynamoResponse): void => {
    response.writeHead(upstream.statusCode, upstream.headers);
    response.end(upstream.body);
  };

  /** Writes part of a batch, then answers as DynamoDB does with the rest in UnprocessedItems. */
  const partialBatchWrite = async (
    request: IncomingMessage,
    response: ServerResponse,
    body: Buffer,
  ): Promise<boolean> => {
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return false; // forwarded as is, for DynamoDB to reject
    }
    const requestItems = input['RequestItems'];
    if (!isRequestItems(requestItems)) return false;
    const { forwarded, unprocessed, unprocessedCount } = splitBatchWrite(requestItems);
    faults.recordUnprocessed(unprocessedCount);
    // Told the whole request and the answer the client gets: what came back unprocessed is
    // not billed, the rest is.
    const answered = (statusCode: number, answer: Buffer) =>
      options.onRequest?.('BatchWriteItem', body, statusCode, answer);
    if (Object.keys(forwarded).length === 0) {
      answered(200, sendJson(response, 200, { UnprocessedItems: unprocessed }));
      return true;
    }
    const upstream = await forward(
      request,
      Buffer.from(JSON.stringify({ ...input, RequestItems: forwarded })),
    );
    if (upstream.statusCode !== 200) {
      relay(response, upstream);
      answered(upstream.statusCode, upstream.body);
      return true;
    }
    const output = JSON.parse(upstream.body.toString('utf8')) as Record<string, unknown>;
    answered(
      200,
      sendJson(response, 200, withUnprocessedItems(output, unprocessed), upstream.headers),
    );
    return true;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    try {
      const body = await readAll(request);
      const target = request.headers['x-amz-target'];
      const operation =
        typeof target === 'string' && target.startsWith(TARGET_PREFIX)
          ? target.slice(TARGET_PREFIX.length)
          : 'Unknown';
      faults.recordRequest(operation);
      if (faults.takeThrottle(operation)) {
        sendJson(response, 400, {
          __type: `${ERROR_NAMESPACE}ProvisionedThroughputExceededException`,
          message:
            'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
        });
        options.onRequest?.(operation, body, 400);
        return;
      }
      if (operation === 'BatchWriteItem' && faults.takeUnprocessed()) {
        if (await partialBatchWrite(request, response, body)) return;
      }
      const upstream = await forward(request, body);
      // Answered first: the caller does not wait for the meter to price the exchange.
      relay(response, upstream);
      options.onRequest?.(operation, body, upstream.statusCode, upstream.body);
    } catch (error) {
      console.error('DynamoDB fault proxy: request failed', error);
      if (!response.headersSent) {
        sendJson(response, 500, {
          __type: `${ERROR_NAMESPACE}InternalServerError`,
          message: 'The DynamoDB fault proxy could not complete the request.',
        });
      } else {
        response.destroy();
      }
    }
  };

  const server = createServer((request, response) => {
    void handle(request, response);
  });
  await once(server.listen(options.port ?? 0, '127.0.0.1'), 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    throttle: (operation, count) => faults.throttle(operation, count),
    unprocessed: (count) => faults.unprocessed(count),
    clearFaults: () => faults.clear(),
    stats: () => faults.stats(),
    resetStats: () => faults.resetStats(),
    close: async () => {
      const closed = new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
};
