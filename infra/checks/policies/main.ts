/**
 * Entry of `npm run check:policies` (see cli.ts for the options): AWS's real clients, with the
 * environment's credentials and region.
 */
import { main, realClients } from './cli.ts';

process.exitCode = await main(process.argv.slice(2), {
  clients: realClients,
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
});
