/**
 * `/api/openapi.json` and `/api/docs`: the local stack serves the API's OpenAPI description
 * (shared/api/openapi.json) and a reference page rendered from it by Swagger UI, whose files
 * come from node_modules (swagger-ui-dist), never a CDN. Local only: API Gateway routes
 * neither path, so a deployed stage answers them 404 like any unknown path.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const DESCRIPTION = new URL('../../../shared/api/openapi.json', import.meta.url).pathname;

/** What the page loads, by the name it uses under /api/docs/. */
const ASSETS: Record<string, { file: string; type: string }> = {
  'swagger-ui.css': { file: require.resolve('swagger-ui-dist/swagger-ui.css'), type: 'text/css' },
  'swagger-ui-bundle.js': {
    file: require.resolve('swagger-ui-dist/swagger-ui-bundle.js'),
    type: 'text/javascript',
  },
  'page.js': { file: new URL('./page.js', import.meta.url).pathname, type: 'text/javascript' },
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>IoT Playground Serverless API</title>
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
</head>
<body>
<div id="reference"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/api/docs/page.js"></script>
</body>
</html>
`;

const send = (response: ServerResponse, status: number, type: string, body: string | Buffer) => {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-cache' });
  response.end(body);
};

export const apiDocs = (
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> | undefined => {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '');
  if (request.method !== 'GET' && request.method !== 'HEAD') return undefined;
  if (path === '/api/openapi.json') {
    return readFile(DESCRIPTION).then((json) => send(response, 200, 'application/json', json));
  }
  if (path === '/api/docs') {
    send(response, 200, 'text/html; charset=utf-8', PAGE);
    return Promise.resolve();
  }
  const asset = /^\/api\/docs\/([\w.-]+)$/.exec(path)?.[1];
  if (asset === undefined) return undefined;
  const spec = ASSETS[asset];
  if (!spec) return undefined;
  return readFile(spec.file).then((body) => send(response, 200, spec.type, body));
};
