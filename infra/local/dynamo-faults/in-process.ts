/**
 * dynalite served without a socket: its request handler called in the proxy's own thread with
 * a request and a response that live in memory. Over loopback HTTP every DynamoDB call was
 * written and parsed twice more in this one thread (the proxy as client, dynalite as server);
 * this hands the request's bytes to the same handler and takes its answer back as bytes.
 *
 * What the handler uses of Node's objects, and nothing else, is provided: the request's
 * `method`, `url`, `headers` and `data`/`end`/`error` events (removeAllListeners included); the
 * response's `statusCode`, `setHeader`, `getHeader` and `end` (dynalite's `index.js`).
 */
import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';

export interface DynamoRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface DynamoResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Where the proxy sends a request: a URL's server over HTTP, or a handler in this thread. */
export type DynamoTarget = (request: DynamoRequest) => Promise<DynamoResponse>;

/**
 * A target handing each request to `server` as its `request` event (the server need not
 * listen): its handler answers it, and whatever else listens sees it as it would a socket's.
 */
export const inProcessTarget = (server: Server): DynamoTarget => {
  if (server.listenerCount('request') === 0) throw new Error('The server has no request handler');
  return (request) =>
    new Promise((resolve) => {
      const incoming = Object.assign(new EventEmitter(), {
        method: request.method,
        url: request.url,
        headers: request.headers,
      });
      const headers: IncomingHttpHeaders = {};
      const outgoing = {
        statusCode: 200,
        headersSent: false,
        setHeader(name: string, value: number | string | readonly string[]) {
          headers[name.toLowerCase()] = Array.isArray(value) ? [...value] : String(value);
          return outgoing;
        },
        getHeader: (name: string) => headers[name.toLowerCase()],
        end(chunk?: string | Buffer) {
          outgoing.headersSent = true;
          const body = chunk === undefined ? Buffer.alloc(0) : Buffer.from(chunk);
          resolve({ statusCode: outgoing.statusCode, headers, body });
          return outgoing;
        },
      };
      server.emit('request', incoming as IncomingMessage, outgoing as unknown as ServerResponse);
      // As a socket would: the body after the handler listens, then its end.
      process.nextTick(() => {
        if (request.body.length > 0) incoming.emit('data', request.body);
        incoming.emit('end');
      });
    });
};
