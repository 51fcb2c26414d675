/** `npm run check:dashboards`: see cli.ts and docs/dashboards.md ("Checking a real Grafana"). */
import { runCli } from './cli.ts';

process.exitCode = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  env: process.env,
});
