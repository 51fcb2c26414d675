/** `npm run admin -- <command> --url <ApiUrl>`: see admin.ts. */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { runAdminCommand } from './admin.ts';

process.exitCode = await runAdminCommand(process.argv.slice(2), {
  env: process.env,
  credentials: () => defaultProvider(),
  print: (line) => console.log(line),
});
