import { defaultDeps, makeHandler } from './app.ts';

export const handler = makeHandler(defaultDeps());
