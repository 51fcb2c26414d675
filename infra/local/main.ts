/** `npm start`: the whole backend on this machine, from embedded defaults. */
import { readFileSync } from 'node:fs';
import type { JsonWebKey } from 'node:crypto';
import { parseArgs } from 'node:util';
import { topology } from '../topology.ts';
import { startLocalStack } from './stack.ts';

const HELP = `Usage: npm start -- [options]

Serves the IoT Playground API locally: the HTTP gateway, every Lambda function of
infra/topology.ts, DynamoDB (dynalite), the schedules, and a GitHub stand-in for the
infrastructure panel (/infra/*). No AWS account needed.

Options:
  --port <n>            port of the HTTP gateway (default 3000, or $PORT; 0 = any free port)
  --host <addr>         address to listen on (default 127.0.0.1)
  --data-dir <path>     keep DynamoDB data and queued messages in this folder across
                        restarts (default: in memory)
  --cors-origin <url>   allowed CORS origin; repeat for several (default: any origin)
  --max-runs <n>        MAX_CONCURRENT_RUNS for this stack (default ${topology.functions.runApi.environment.MAX_CONCURRENT_RUNS})
  --grace <seconds>     RUN_GRACE_SECONDS for this stack (default ${topology.functions.runApi.environment.RUN_GRACE_SECONDS})
  --grafana-url <url>   base URL used for each run's grafanaUrl (default: this stack's own
                        dashboards, http://localhost:<port>/grafana)
  --jwt-issuer <url> --jwt-audience <aud> --jwt-jwks <file>
                        all three: API Gateway's JWT authorizer on every route but OPTIONS,
                        as the stack's jwtIssuer/jwtAudience; <file> is the issuer's JWKS
                        (its RSA public keys, {"keys": [...]}) — no network
  --quiet               do not print function logs and the access log
  -h, --help            show this help

Without the JWT flags the admin route (POST /api/runs/interrupt-all) takes IAM authorization,
as on AWS: sign it with the local credential,
  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \\
    npm run admin -- interrupt-all --url http://localhost:3000 --region us-east-1

Local-only endpoints:
  GET    /grafana          the dashboards of dashboards/generated and the recent runs
  GET    /grafana/d/<uid>  a dashboard, evaluated against what this stack records
  POST   /grafana/api/ds/query  Grafana's query API (and its datasource resources), what
                           npm run check:dashboards -- --grafana-url <this>/grafana asks
  GET    /api/docs         the API reference (Swagger UI over the OpenAPI description)
  GET    /api/openapi.json the OpenAPI 3.1 description of the API
  GET    /local/health
  GET    /local/metrics    EMF metrics the functions printed (?namespace=&name= filter)
  DELETE /local/metrics    forget them
  GET    /local/stats      AWS requests made (SQS per action, DynamoDB per operation), the
                           usage the meter counted (API requests; per function invocations,
                           wall ms, GB-s and CPU ms; DynamoDB units; log bytes) and queue
                           depths, dead-letter queues included
  DELETE /local/stats      reset the request counts and usage
  GET    /local/resources  the SQS endpoint and each queue's URL, ARN, consumer and
                           dead-letter queue (what npm run redrive -- --url reads)
  GET    /local/logs       a function's last log lines (?function=ingestConsumer)
  POST   /local/faults     plan failures, e.g. {"sendBatchEntryFailures": 2,
                           "dynamoDbThrottle": {"operation": "BatchWriteItem", "count": 3},
                           "unprocessedBatchWrites": 1, "consumerFailures": 1,
                           "sendBatchFailures": 1, "consumerCrashesMidBatch": 1,
                           "functionTimeouts": {"function": "ingest", "count": 1},
                           "workerKills": {"function": "ingestConsumer", "count": 1},
                           "githubRunFailures": {"count": 1, "conclusion": "cancelled"}}
                           (timeouts and kills strike within "withinMs", default 300;
                           the GitHub stand-in's next deploy runs end as "conclusion",
                           default failure)
  DELETE /local/faults     cancel planned failures
  GET    /local/notifications  what was published to the alarm topic (the
                           infrastructure panel's idle stop)
Stop with Ctrl+C.`;

// The SDK warns about Node 20 on every client; Lambda runs Node 22, so the warning is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    'data-dir': { type: 'string' },
    'cors-origin': { type: 'string', multiple: true },
    'max-runs': { type: 'string' },
    grace: { type: 'string' },
    'grafana-url': { type: 'string' },
    'jwt-issuer': { type: 'string' },
    'jwt-audience': { type: 'string', multiple: true },
    'jwt-jwks': { type: 'string' },
    quiet: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(HELP);
  process.exit(0);
}

const port = Number(values.port ?? process.env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`Invalid port: ${values.port ?? process.env.PORT}`);
  process.exit(2);
}

const jwtFlags = [values['jwt-issuer'], values['jwt-audience'], values['jwt-jwks']];
if (jwtFlags.some((flag) => flag !== undefined) && jwtFlags.some((flag) => flag === undefined)) {
  console.error('--jwt-issuer, --jwt-audience and --jwt-jwks go together');
  process.exit(2);
}
const jwt = values['jwt-jwks']
  ? {
      issuer: values['jwt-issuer']!,
      audience: values['jwt-audience']!,
      keys: (JSON.parse(readFileSync(values['jwt-jwks'], 'utf8')) as { keys: JsonWebKey[] }).keys,
    }
  : undefined;

const env: Record<string, string> = {};
if (values['max-runs'] !== undefined) env.MAX_CONCURRENT_RUNS = values['max-runs'];
if (values.grace !== undefined) env.RUN_GRACE_SECONDS = values.grace;
if (values['grafana-url'] !== undefined) env.GRAFANA_URL = values['grafana-url'];

const stack = await startLocalStack({
  port,
  ...(values.host ? { host: values.host } : {}),
  ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
  ...(values['cors-origin'] ? { corsOrigins: values['cors-origin'] } : {}),
  ...(jwt ? { jwt } : {}),
  env,
  log: values.quiet ? () => undefined : (line) => console.log(line),
}).catch((error: NodeJS.ErrnoException) => {
  console.error(
    error.code === 'EADDRINUSE'
      ? `Port ${port} is already in use; choose another with --port or PORT.`
      : `The local stack could not start: ${error.message}`,
  );
  process.exit(1);
});

const routes = topology.routes
  .map((r) => `  ${r.method.padEnd(5)} ${stack.url}${r.path}`)
  .join('\n');
console.log(`IoT Playground API listening on ${stack.url}
${routes}
  GET   ${stack.url}/local/metrics
Dashboards: ${stack.url.replace('127.0.0.1', 'localhost')}/grafana
API reference: ${stack.url.replace('127.0.0.1', 'localhost')}/api/docs (description: /api/openapi.json)
DynamoDB (dynalite): ${stack.dynamoDbEndpoint} — ${values['data-dir'] ? `data in ${values['data-dir']}` : 'in memory'}
GitHub stand-in for the infrastructure panel: ${stack.github.url} (runs of deploy.yml)
SQS: ${stack.sqsEndpoint} — queues ${Object.values(stack.queues)
  .map(({ queue, deadLetters }) => `${queue.name} (dead letters: ${deadLetters.name})`)
  .join(', ')}
Press Ctrl+C to stop.`);

const shutdown = () => {
  console.log('Stopping…');
  stack.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
