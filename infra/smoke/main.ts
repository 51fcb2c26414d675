/**
 * `npm run smoke -- --url <ApiUrl>`: the smoke test (smoke.ts) as a command. Exit code 0 when
 * every step passed, 1 when one failed, 2 for a usage error.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { alarmSubscriptionWarnings, type TopicSubscriptions } from './alarm-subscriptions.ts';
import { runSmoke } from './smoke.ts';

const HELP = `Usage: npm run smoke -- --url <ApiUrl> [options]

Runs one short run through the API: can-start, start, readings in every accepted shape,
read-back, finish, grafanaUrl. The run is finished even when a step fails.

  --url <url>          base URL of the API (the stack's ApiUrl output, or the local stack)
  --expect-grafana     the stage runs Grafana (component full): grafanaUrl must be set and the
                       sensors dashboard must exist (checked through Grafana's API with
                       GRAFANA_TOKEN, or GRAFANA_USER and GRAFANA_PASSWORD, or anonymously)
  --timeout <seconds>  how long the read-back may wait for the queue (default 60)
  --alarm-subscriptions <file>
                       output of aws sns list-subscriptions-by-topic for the AlarmTopicArn
                       output: warns (without failing) while the alarm e-mail is unconfirmed
  -h, --help

Environment: API_TOKEN (a JWT, when the API has the JWT authorizer), GRAFANA_TOKEN,
GRAFANA_USER, GRAFANA_PASSWORD.`;

const usage = (message: string): never => {
  console.error(`${message}\n\n${HELP}`);
  process.exit(2);
};

let values: {
  url?: string;
  'expect-grafana': boolean;
  timeout?: string;
  'alarm-subscriptions'?: string;
  help: boolean;
};
try {
  ({ values } = parseArgs({
    options: {
      url: { type: 'string' },
      'expect-grafana': { type: 'boolean', default: false },
      timeout: { type: 'string' },
      'alarm-subscriptions': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (error) {
  usage((error as Error).message);
}

if (values!.help) {
  console.log(HELP);
  process.exit(0);
}
const url = values!.url ?? usage('--url is required');
if (!/^https?:\/\/\S+$/.test(url)) usage(`--url ${url} is not an http(s) URL`);
const timeoutSeconds = Number(values!.timeout ?? 60);
if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
  usage(`--timeout ${values!.timeout} must be a positive number of seconds`);
}

const env = (name: string) => process.env[name] || undefined;
const result = await runSmoke({
  url,
  expectGrafana: values!['expect-grafana'],
  grafanaAuth: {
    token: env('GRAFANA_TOKEN'),
    user: env('GRAFANA_USER'),
    password: env('GRAFANA_PASSWORD'),
  },
  apiToken: env('API_TOKEN'),
  readBackTimeoutMs: timeoutSeconds * 1000,
  log: (line) => console.log(line),
});
const subscriptionsFile = values!['alarm-subscriptions'];
if (subscriptionsFile !== undefined) {
  const listed = JSON.parse(readFileSync(subscriptionsFile, 'utf8')) as TopicSubscriptions;
  for (const warning of alarmSubscriptionWarnings(listed)) {
    console.log(
      process.env.GITHUB_ACTIONS === 'true' ? `::warning::${warning}` : `WARN ${warning}`,
    );
  }
}
process.exitCode = result.ok ? 0 : 1;
