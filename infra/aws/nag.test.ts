/**
 * cdk-nag wiring: the AwsSolutions pack really runs in the app the CLI builds (a violation
 * fails synthesis), and every acknowledgement is narrow and explained.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { createApp } from './create-app.ts';
import { acknowledgements, stubCode, useSynth, type Synthesized } from './test-support.ts';

/** Ours: CDK itself acknowledges a CloudFormation-Validate warning on stacks with AZ lookups. */
const ownAcknowledgements = (synth: Synthesized) =>
  acknowledgements(synth.app).filter(({ id }) => !id.startsWith('CloudFormation-Validate::'));

const ruleNames = (scope: App | Stack): string[] =>
  new AwsSolutionsChecks().validateScope(scope).violations.map((violation) => violation.ruleName);

describe('AwsSolutions pack', () => {
  it('reports an insecure queue, and an acknowledgement silences only its rule', () => {
    const stack = new Stack(new App(), 'Probe');
    const queue = new sqs.Queue(stack, 'Insecure', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    expect(ruleNames(stack)).toEqual(
      expect.arrayContaining(['AwsSolutions-SQS2', 'AwsSolutions-SQS3', 'AwsSolutions-SQS4']),
    );
    Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'probe' });
    expect(ruleNames(stack)).not.toContain('AwsSolutions-SQS3');
    expect(ruleNames(stack)).toContain('AwsSolutions-SQS2');
  });

  it('fails synthesis of the app when a resource violates a rule', () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'iot-playground-nag-'));
    try {
      const { app, stack } = createApp({ outdir, code: stubCode });
      new sqs.Queue(stack, 'WithoutDeadLetterQueue', {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      expect(() => app.synth()).toThrow(/AwsSolutions-SQS3/);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('acknowledgements', () => {
  // Every optional feature on, so every acknowledgement the code can make is made.
  const synth = useSynth({
    component: 'full',
    grafanaDomainName: 'grafana.example.com',
    hostedZoneName: 'example.com',
    hostedZoneId: 'Z0123456789ABCDEFGHIJ',
    alarmEmail: 'ops@example.com',
    githubRepository: 'octo-org/iot-playground-serverless',
  });

  it('are all AwsSolutions rules with a real reason', () => {
    const all = ownAcknowledgements(synth);
    expect(all.length).toBeGreaterThan(0);
    // The infrastructure panel's credential too (githubRepository above).
    expect(all.map(({ path: where }) => where)).toContain(
      'IotPlayground-dev/InfraPanel/GitHubCredential',
    );
    for (const { id, reason, path: where } of all) {
      expect(id, where).toMatch(/^AwsSolutions-[A-Z]+\d+(\[[^\]]+\])?$/);
      expect(reason.length, `${id} on ${where}`).toBeGreaterThanOrEqual(80);
    }
  });

  it('sit on resources, never on the stack or the app', () => {
    for (const { id, path: where } of ownAcknowledgements(synth)) {
      expect(where.split('/').length, `${id} on ${where}`).toBeGreaterThan(1);
    }
  });

  it('narrow IAM5 to the wildcard finding they explain', () => {
    const iam5 = ownAcknowledgements(synth).filter(({ id }) => id.startsWith('AwsSolutions-IAM5'));
    expect(iam5.length).toBeGreaterThan(0);
    for (const { id } of iam5) expect(id).toBe('AwsSolutions-IAM5[Resource::*]');
  });

  it('leave the stack clean', () => {
    expect(synth.nagFindings()).toEqual([]);
  });
});
