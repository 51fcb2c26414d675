/**
 * Child process of the event-source-mapping test: consumes one message, stops the mapping
 * and must then exit on its own, which fails if the poller left a long poll or timer behind.
 * Usage: node --import tsx event-source-mapping.exit-fixture.ts <endpoint> <queueUrl>
 */
import { startEventSourceMapping } from './event-source-mapping.ts';
import { createSqsClient } from './test-support.ts';

const [endpoint, queueUrl] = process.argv.slice(2);
if (endpoint === undefined || queueUrl === undefined)
  throw new Error('usage: <endpoint> <queueUrl>');

let invoked: () => void = () => undefined;
const firstInvocation = new Promise<void>((resolve) => {
  invoked = resolve;
});
const mapping = await startEventSourceMapping({
  sqs: createSqsClient(endpoint),
  queueUrl,
  invoke: async (event) => {
    console.log(`invoked ${event.Records.length}`);
    invoked();
    return undefined;
  },
});
await firstInvocation;
await mapping.stop();
console.log('stopped');
