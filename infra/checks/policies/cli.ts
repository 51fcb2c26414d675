/**
 * npm run check:policies -- --stage <dev|prod> [--offline] [--assembly <dir>] [--summary <file.md>]
 *
 * Asks the catalogue's policy questions about the synthesized stack of a stage (and the
 * set-up's policies) of the local evaluator, and without --offline of IAM's policy simulator
 * and IAM Access Analyzer too, with the credentials and region of the environment (the plan
 * role: iam:SimulateCustomPolicy, access-analyzer:ValidatePolicy and CheckAccessNotGranted).
 * DEV_ACCOUNT and PROD_ACCOUNT, when both set and different, mean separate accounts;
 * GITHUB_REPOSITORY names the repository the GitHub roles trust.
 * Exit code 0 all as designed, 1 a failure (each named), 2 usage.
 */
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { STAGES, type StageName } from '#infra/aws/stage-config.ts';
import { UsageError } from './assembly.ts';
import type { AnalyzerClientLike, IamClientLike } from './aws-checks.ts';
import { checkPolicies } from './check.ts';
import { formatMarkdown, formatText } from './report.ts';

export const USAGE =
  'Usage: npm run check:policies -- --stage <dev|prod> [--offline] [--assembly <dir>] [--summary <file.md>]';

export interface MainDependencies {
  /** Builds AWS's clients (online only); the tests pass stubs. */
  clients: () => Promise<{ iam: IamClientLike; analyzer: AnalyzerClientLike }>;
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

export const realClients = async () => {
  const { IAMClient } = await import('@aws-sdk/client-iam');
  const { AccessAnalyzerClient } = await import('@aws-sdk/client-accessanalyzer');
  return {
    iam: new IAMClient({}) as unknown as IamClientLike,
    analyzer: new AccessAnalyzerClient({}) as unknown as AnalyzerClientLike,
  };
};

export const main = async (argv: string[], deps: MainDependencies): Promise<number> => {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        stage: { type: 'string' },
        offline: { type: 'boolean', default: false },
        assembly: { type: 'string', default: 'cdk.out' },
        summary: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    deps.err(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (!STAGES.includes(values.stage as StageName)) {
    deps.err(`--stage must be ${STAGES.join(' or ')}\n${USAGE}\n`);
    return 2;
  }
  const stage = values.stage as StageName;
  try {
    const result = await checkPolicies({
      stage,
      assembly: values.assembly,
      ...(values.offline ? {} : { clients: await deps.clients() }),
      accounts: {
        dev: deps.env.DEV_ACCOUNT || undefined,
        prod: deps.env.PROD_ACCOUNT || undefined,
      },
      ...(deps.env.GITHUB_REPOSITORY ? { repository: deps.env.GITHUB_REPOSITORY } : {}),
    });
    deps.out(formatText(result));
    if (values.summary !== undefined) appendFileSync(values.summary, formatMarkdown(result));
    return result.ok ? 0 : 1;
  } catch (error) {
    if (error instanceof UsageError) {
      deps.err(`${error.message}\n${USAGE}\n`);
      return 2;
    }
    throw error;
  }
};
