/** `npm run chaos -- [--readings <n>] [--seed <n>] [--restarts <n>] [--json]`: the chaos soak. */
import { parseArgs } from 'node:util';
import { runChaos } from './chaos.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values } = parseArgs({
  options: {
    readings: { type: 'string', default: '20000' },
    seed: { type: 'string', default: '1' },
    batch: { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '16' },
    restarts: { type: 'string', default: '1' },
    'catch-up-seconds': { type: 'string', default: '180' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(`Usage: npm run chaos -- [options]

Drives a local stack (in a temporary data folder) with the simulator while a seeded fault plan
fires failed SendMessageBatch entries and calls, DynamoDB throttling and UnprocessedItems,
consumer crashes (before and mid-batch), function timeouts, killed worker threads and restarts
of the whole stack; then compares accepted with stored readings by identity.

  --readings <n>     readings to send (default 20000)
  --seed <n>         seed of the fault plan and the readings (default 1)
  --batch <n>        readings per request (default 50)
  --concurrency <n>  requests in flight (default 16)
  --restarts <n>     whole-stack restarts while readings are in flight (default 1)
  --catch-up-seconds <n>
                     how long stored readings may take to catch up after sending (default 180)
  --json             print the report as JSON on the last line`);
  process.exit(0);
}

const whole = (name: string, text: string, min: number): number => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) {
    console.error(`--${name} must be a whole number ≥ ${min}`);
    process.exit(2);
  }
  return value;
};

const report = await runChaos({
  readings: whole('readings', values.readings, 1),
  seed: whole('seed', values.seed, 0),
  batch: whole('batch', values.batch, 1),
  concurrency: whole('concurrency', values.concurrency, 1),
  restarts: whole('restarts', values.restarts, 0),
  catchUpTimeoutMs: whole('catch-up-seconds', values['catch-up-seconds'], 1) * 1000,
  log: (line) => console.error(line),
});
const { accepted, stored, lost, duplicated, faultsInjected } = report;
console.log(
  `accepted ${accepted}, stored ${stored}, lost ${lost}, duplicated ${duplicated}, ` +
    `unexpected ${report.unexpected}, refused ${report.refused} ${JSON.stringify(report.refusedByStatus)}, ` +
    `dead-lettered ${report.deadLettered}\n` +
    `consumer invocations ${report.consumerInvocations.total}, failed ${report.consumerInvocations.failed}\n` +
    `faults injected: ${JSON.stringify(faultsInjected)}\n` +
    `time: ${report.seconds.total} s (sending ${report.seconds.sending} s, catch-up ${report.seconds.catchUp} s)`,
);
if (values.json) console.log(JSON.stringify(report));
process.exitCode = lost === 0 && duplicated === 0 ? 0 : 1;
