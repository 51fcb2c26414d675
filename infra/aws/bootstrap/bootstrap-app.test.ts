/**
 * Issue 27, finding 2: both stages in one account is refused at set-up unless acknowledged,
 * since there IAM cannot keep dev from every prod resource (docs/security.md, "One account or
 * two"; what stays open is proven in stage-policies.test.ts, "shared-account").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bootstrapApp, SHARED_ACCOUNT_ACKNOWLEDGEMENT } from './bootstrap-app.ts';

const outdirs: string[] = [];
afterEach(() => outdirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const build = (context: Record<string, string>, defaultAccount?: string) => {
  const outdir = mkdtempSync(path.join(tmpdir(), 'iot-playground-bootstrap-'));
  outdirs.push(outdir);
  return bootstrapApp({
    context: { githubRepository: 'octo-org/iot-playground', ...context },
    defaultAccount,
    defaultRegion: 'eu-west-1',
    outdir,
  });
};
const stacks = (app: ReturnType<typeof build>) =>
  app.node.children.map((child) => child.node.id).sort();

describe('the set-up app', () => {
  it('refuses one account for both stages without the acknowledgement, saying what stays open', () => {
    expect(() => build({}, '111111111111')).toThrow(/one account \(111111111111\)/);
    expect(() => build({}, '111111111111')).toThrow(/-c sharedAccount=acknowledged/);
    expect(() => build({}, '111111111111')).toThrow(/Route 53 record/);
    expect(() => build({ devAccount: '111111111111', prodAccount: '111111111111' })).toThrow(
      /one account/,
    );
    // Without credentials nor accounts, both stages resolve to the same unknown account.
    expect(() => build({})).toThrow(/one account/);
  });

  it('builds both stages in one account once acknowledged', () => {
    const { key, value } = SHARED_ACCOUNT_ACKNOWLEDGEMENT;
    const app = build({ [key]: value }, '111111111111');
    expect(stacks(app)).toEqual([
      'IotPlayground-dev-cdk-policies',
      'IotPlayground-dev-github-deploy',
      'IotPlayground-prod-cdk-policies',
      'IotPlayground-prod-github-deploy',
    ]);
  });

  it('builds separate accounts without any acknowledgement', () => {
    const app = build({ devAccount: '111111111111', prodAccount: '222222222222' });
    expect(stacks(app)).toHaveLength(4);
    expect(() => build({ devAccount: '111111111111' }, '222222222222')).not.toThrow();
  });

  it('still needs the repository', () => {
    expect(() =>
      bootstrapApp({ context: { devAccount: '1', prodAccount: '2' }, defaultRegion: 'eu-west-1' }),
    ).toThrow(/githubRepository/);
  });
});
