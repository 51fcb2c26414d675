/**
 * dynalite and the fault proxy in front of it, in a thread of their own. Served on the main
 * thread, every DynamoDB call of every function waited behind the gateway and the SQS endpoint
 * on one event loop (at 100 readings a request dynalite took over half of it, the proxy and its
 * metering most of the rest). The proxy's faults and counters are shared memory (faults.ts);
 * the billed units of each request are posted to the main thread for the usage totals and the
 * local dashboards. dynalite is not bundled: it is loaded from the repository's node_modules
 * (its LevelDB binding cannot be bundled).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import type dynaliteModule from 'dynalite';
import { DynamoFaults } from './dynamo-faults/index.ts';
import { inProcessTarget, startDynamoFaultProxy } from './dynamo-faults/index.ts';
import { DynamoDbMeter, type DynamoDbExchange, type TableIndexes } from './meter/index.ts';

export interface DynamoDbWorkerSetup {
  /** A file of the repository, from which `dynalite` is resolved. */
  resolveFrom: string;
  dataDir?: string;
  /** How long a closing dynalite lets requests in flight finish before cutting them off. */
  closeGraceMs: number;
  /** The fault proxy's counters (DynamoFaults.shared). */
  faults: SharedArrayBuffer;
  /** What the meter needs to know; absent, requests are not metered (nobody is told). */
  indexes?: TableIndexes;
}

export type ToDynamoDbWorker = { type: 'close' };
export type FromDynamoDbWorker =
  | { type: 'listening'; port: number; proxyPort: number }
  | { type: 'request'; operation: string; exchange: DynamoDbExchange }
  | { type: 'closed' };

/**
 * Resolves, once asked, when every request dynalite is serving has been answered (or after
 * `graceMs`). dynalite throws an uncaught exception, ending the thread, when an operation of
 * a request it is still serving meets a closed database — even when the caller hung up, so
 * waiting for connections to end is not enough: the stack waits for the answers before closing
 * (a restart of the stack with requests in flight did this).
 */
const trackAnswers = (server: Server) => {
  let serving = 0;
  let idle: (() => void) | undefined;
  server.on('request', (_request: IncomingMessage, response: ServerResponse) => {
    serving += 1;
    const end = response.end.bind(response);
    response.end = ((...args: Parameters<typeof end>) => {
      serving -= 1;
      if (serving === 0) idle?.();
      return end(...args);
    }) as typeof response.end;
  });
  return (graceMs: number): Promise<void> =>
    serving === 0
      ? Promise.resolve()
      : new Promise((resolve) => {
          const timer = setTimeout(resolve, graceMs);
          idle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
};

const port = parentPort;
if (!port) throw new Error('dynamodb-worker.ts runs only as a worker thread');
const setup = workerData as DynamoDbWorkerSetup;
const post = (message: FromDynamoDbWorker) => port.postMessage(message);

const dynalite = createRequire(setup.resolveFrom)('dynalite') as typeof dynaliteModule;
const server = dynalite({
  ...(setup.dataDir ? { path: setup.dataDir } : {}),
  createTableMs: 0,
  deleteTableMs: 0,
  updateTableMs: 0,
});
const answered = trackAnswers(server);
const meter = setup.indexes && new DynamoDbMeter(setup.indexes);
server.listen(0, '127.0.0.1', () => {
  const { port: dynamoPort } = server.address() as AddressInfo;
  void startDynamoFaultProxy({
    // dynalite's handler called in this thread: no second HTTP exchange per request.
    target: inProcessTarget(server),
    faults: new DynamoFaults(setup.faults),
    ...(meter && {
      onRequest: (operation, body, statusCode, response) => {
        const exchange = meter.measure(operation, body, statusCode, response);
        if (exchange) post({ type: 'request', operation, exchange });
      },
    }),
  }).then((proxy) => {
    port.on('message', (message: ToDynamoDbWorker) => {
      if (message.type !== 'close') return;
      // The stack's functions are stopped by now; what dynalite still serves is answered first.
      void proxy
        .close()
        .then(() => answered(setup.closeGraceMs))
        .then(() => {
          server.close(() => post({ type: 'closed' }));
          server.closeAllConnections();
        });
    });
    post({ type: 'listening', port: dynamoPort, proxyPort: proxy.port });
  });
});
