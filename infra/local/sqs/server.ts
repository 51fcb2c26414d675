/**
 * An embedded SQS endpoint speaking the JSON protocol of @aws-sdk/client-sqs v3, for the
 * local stack and tests: point a client at `endpoint` (or set AWS_ENDPOINT_URL_SQS).
 *
 *   const sqs = await startSqsServer();
 *   const queue = sqs.queues.create('measurements', { VisibilityTimeout: '180' });
 *   ...
 *   await sqs.close();
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { actions, type ActionContext } from './actions.ts';
import { internalError, SqsError } from './errors.ts';
import { SqsFaults } from './faults.ts';
import { isJsonObject, type JsonObject } from './input.ts';
import { MessageJournal, type JournalState } from './journal.ts';
import { MessageMoveTasks } from './move-tasks.ts';
import type { Clock } from './queue.ts';
import { QueueRegistry } from './registry.ts';

export interface SqsServerOptions {
  /** Port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** Injectable clock for visibility timeouts, delays, retention and long polls. */
  now?: Clock;
  accountId?: string;
  region?: string;
  /**
   * Told of every request that names an action, once it is answered: with its input and output
   * when the action succeeded, without them when it was refused. The endpoint keeps no count of
   * its own: the local stack's meter counts and measures from this.
   */
  onAction?: (
    action: string,
    input?: Record<string, unknown>,
    output?: Record<string, unknown>,
  ) => void;
  /**
   * Folder that keeps every queued message, receipt state included, across restarts: an
   * accepted message is on disk before the endpoint answers. In memory when absent.
   */
  dataDir?: string;
}

export interface SqsServer {
  /** `http://127.0.0.1:<port>`: the SQSClient `endpoint` and the origin of queue URLs. */
  readonly endpoint: string;
  readonly port: number;
  /** In-process queue API: create queues, send, receive and read counts without HTTP. */
  readonly queues: QueueRegistry;
  readonly faults: SqsFaults;
  /** Makes waiting long polls re-read the clock; call after moving an injected clock. */
  wakeLongPolls(): void;
  /**
   * Ends every long poll with an empty answer and answers later receives empty, handing out
   * nothing: for shutting a stack down without leaving messages invisible to the next one.
   */
  stopReceives(): void;
  /** Ends pending long polls, closes every connection and stops listening. */
  close(): Promise<void>;
}

const JSON_CONTENT_TYPE = 'application/x-amz-json-1.0';
const TARGET_PREFIX = 'AmazonSQS.';
/** Generous bound on a request body: a 256 KiB batch, base64 binary attributes and JSON. */
const MAX_REQUEST_BYTES = 2 * 1024 * 1024;

class RequestError extends Error {
  constructor(
    readonly statusCode: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const readBody = async (request: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_REQUEST_BYTES) {
      throw new RequestError(413, 'RequestEntityTooLarge', 'Request body too large.');
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
};

const parseInput = (body: string): JsonObject => {
  let input: unknown;
  try {
    input = body === '' ? {} : JSON.parse(body);
  } catch {
    throw new RequestError(
      400,
      'com.amazon.coral.service#SerializationException',
      'Malformed JSON body.',
    );
  }
  if (!isJsonObject(input)) {
    throw new RequestError(
      400,
      'com.amazon.coral.service#SerializationException',
      'Body must be a JSON object.',
    );
  }
  return input;
};

/** SQS reports the caller's principal as SenderId; locally that is the signing access key. */
const senderIdOf = (request: IncomingMessage, accountId: string): string =>
  /Credential=([^/,\s]+)\//.exec(request.headers.authorization ?? '')?.[1] ?? accountId;

const send = (
  response: ServerResponse,
  statusCode: number,
  body: JsonObject,
  headers: Record<string, string> = {},
): void => {
  const payload = JSON.stringify(body);
  response.writeHead(statusCode, {
    'content-type': JSON_CONTENT_TYPE,
    'content-length': Buffer.byteLength(payload),
    'x-amzn-requestid': randomUUID(),
    ...headers,
  });
  response.end(payload);
};

const sendSqsError = (response: ServerResponse, error: SqsError): void =>
  send(
    response,
    error.statusCode,
    { __type: `com.amazonaws.sqs#${error.type}`, message: error.message },
    { 'x-amzn-query-error': `${error.queryCode};${error.senderFault ? 'Sender' : 'Receiver'}` },
  );

export const startSqsServer = async (options: SqsServerOptions = {}): Promise<SqsServer> => {
  const clock = options.now ?? Date.now;
  const accountId = options.accountId ?? '000000000000';
  const faults = new SqsFaults();
  const shutdown = new AbortController();

  const server = createServer();
  await once(server.listen(options.port ?? 0, '127.0.0.1'), 'listening');
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  let journal: MessageJournal | undefined;
  let restored: JournalState | undefined;
  if (options.dataDir !== undefined) {
    ({ journal, restored } = MessageJournal.open(
      options.dataDir,
      () => queues.heldMessages(),
      () => queues.heldCount(),
    ));
  }
  const queues: QueueRegistry = new QueueRegistry({
    baseUrl: endpoint,
    accountId,
    region: options.region ?? 'us-east-1',
    clock,
    ...(journal && { journal }),
    ...(restored && { restored }),
  });
  // Starts the journal afresh from what it held: drops a torn last line and old history.
  journal?.compact();
  const moveTasks = new MessageMoveTasks(queues, clock);

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    // A client that hangs up (an aborted long poll) ends its wait; so does close().
    const disconnected = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) disconnected.abort();
    });
    const target = request.headers['x-amz-target'];
    const action =
      typeof target === 'string' && target.startsWith(TARGET_PREFIX)
        ? target.slice(TARGET_PREFIX.length)
        : undefined;
    let answered: { input: JsonObject; output: JsonObject } | undefined;
    try {
      const body = await readBody(request);
      if (request.method !== 'POST' || action === undefined) {
        throw new RequestError(
          400,
          'com.amazon.coral.service#UnknownOperationException',
          'Only the SQS JSON protocol (POST with X-Amz-Target: AmazonSQS.<Action>) is supported.',
        );
      }
      const run = actions[action];
      if (run === undefined) {
        throw new RequestError(
          400,
          'com.amazon.coral.service#UnknownOperationException',
          `Unknown or unsupported action ${action}.`,
        );
      }
      if (faults.takeRequestFailure(action)) throw internalError('Injected failure.');
      const context: ActionContext = {
        queues,
        faults,
        clock,
        signal: AbortSignal.any([disconnected.signal, shutdown.signal]),
        senderId: senderIdOf(request, accountId),
        moveTasks,
      };
      const input = parseInput(body);
      let output: JsonObject;
      try {
        output = await run(input, context);
      } finally {
        // What the answer reports as accepted is on disk before the answer leaves.
        journal?.commit();
      }
      answered = { input, output };
      if (!response.destroyed) send(response, 200, output);
    } catch (error) {
      if (response.destroyed) return;
      if (error instanceof SqsError) {
        sendSqsError(response, error);
      } else if (error instanceof RequestError) {
        send(response, error.statusCode, { __type: error.type, message: error.message });
      } else {
        // Details go to the local log only; the client sees a generic 500 like from SQS.
        console.error('Local SQS endpoint: unexpected error', error);
        sendSqsError(response, internalError());
      }
    } finally {
      if (action !== undefined) options.onAction?.(action, answered?.input, answered?.output);
    }
  };

  // handle() settles every request itself (errors become SQS error responses).
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    void handle(request, response);
  });

  return {
    endpoint,
    port,
    queues,
    faults,
    wakeLongPolls: () => queues.wakeAll(),
    stopReceives: () => shutdown.abort(),
    close: async () => {
      shutdown.abort();
      moveTasks.stopAll();
      const closed = new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
      // Let the long polls just ended write their (empty) answers, then drop every socket.
      await new Promise((resolve) => setImmediate(resolve));
      server.closeAllConnections();
      await closed;
      journal?.close();
    },
  };
};
