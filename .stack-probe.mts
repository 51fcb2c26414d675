import { startLocalStack } from './infra/local/index.ts';
const stack = await startLocalStack({ port: 3102, schedules: process.env.SCHED === '1' });
console.log('up', stack.url);
setTimeout(() => void stack.stop().then(() => process.exit(0)), 150_000);
