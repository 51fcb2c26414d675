/**
 * The deploy workflow's first job (run with `node`, no install): for stage prod, fails unless
 * this commit's dev deployment of the component passed (gate.ts). Reads STAGE, COMPONENT,
 * GITHUB_REPOSITORY, GITHUB_SHA, GITHUB_TOKEN, GITHUB_API_URL and GITHUB_STEP_SUMMARY. Exit 0
 * go, 1 stop, 2 usage.
 */
import { appendFileSync } from 'node:fs';
import { gitHubApi } from '../github-api.ts';
import { type Component, deployJobName, findDevDeployment, vouchingJobs } from './gate.ts';

const say = (line: string) => {
  console.log(line);
  if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, `${line}\n`);
};

const main = async (): Promise<number> => {
  const { STAGE: stage, COMPONENT: component, GITHUB_REPOSITORY: repository } = process.env;
  const sha = process.env.GITHUB_SHA;
  if (
    (stage !== 'dev' && stage !== 'prod') ||
    (component !== 'lambdas' && component !== 'full') ||
    !repository ||
    !sha
  ) {
    console.error(
      'Needs STAGE (dev|prod), COMPONENT (lambdas|full), GITHUB_REPOSITORY, GITHUB_SHA',
    );
    return 2;
  }
  if (stage === 'dev') {
    say('### Promotion gate\n\nStage dev: no earlier deployment is required.');
    return 0;
  }
  const vouch = await findDevDeployment(gitHubApi(), {
    repository,
    sha,
    component: component as Component,
  });
  if (vouch === undefined) {
    say(
      `### Promotion gate: stopped\n\nNo passed dev deployment of ${sha} with a job ` +
        `${vouchingJobs(component as Component)
          .map((j) => `\`${j}\``)
          .join(' or ')}. Deploy ` +
        `this commit to dev first (component ${component === 'full' ? 'full' : 'lambdas or full'}) ` +
        'and let its checks pass, then deploy prod again.',
    );
    console.error(
      `::error::Prod needs a passed ${deployJobName('dev', component as Component)} of this commit first.`,
    );
    return 1;
  }
  say(
    `### Promotion gate\n\n${sha} passed on dev: [run ${vouch.run.id}](${vouch.run.url}), job \`${vouch.job}\`.`,
  );
  return 0;
};

process.exitCode = await main().catch((error: unknown) => {
  console.error(`::error::Promotion gate: ${(error as Error).message}`);
  return 1;
});
