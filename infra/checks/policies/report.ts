/**
 * The check's report: per property, how many questions were asked and whether the evaluator
 * and AWS answered as designed; then every failing question with both answers, every policy
 * Access Analyzer faulted, and its suggestions. Plain text for the terminal, Markdown for the
 * GitHub job summary.
 */
import { PROPERTIES, type PropertyId } from '#infra/aws/iam/policy-catalogue.ts';
import type { CheckResult } from './check.ts';

type Table = { head: string[]; rows: string[][] };

const summary = (result: CheckResult): Table => {
  const properties = Object.keys(PROPERTIES) as PropertyId[];
  const rows = properties
    .map((property) => {
      const asked = result.questions.filter((row) => row.property === property);
      if (asked.length === 0) return undefined;
      const awsAsked = asked.filter((row) => !/^(offline|local only|not asked)/.test(row.aws));
      const failed = asked.filter((row) => !row.ok);
      return [
        PROPERTIES[property],
        String(asked.length),
        String(asked.filter((row) => !row.local.startsWith('cannot')).length),
        result.online ? String(awsAsked.length) : '–',
        failed.length === 0 ? 'pass' : `FAIL (${failed.length})`,
      ];
    })
    .filter((row): row is string[] => row !== undefined);
  if (result.online) {
    const faulted = result.policies.filter((row) => !row.ok);
    rows.push([
      'Access Analyzer ValidatePolicy, every policy',
      String(result.policies.length),
      '–',
      String(result.policies.length),
      faulted.length === 0 ? 'pass' : `FAIL (${faulted.length})`,
    ]);
  }
  return { head: ['property', 'questions', 'evaluator', 'AWS', 'verdict'], rows };
};

const failures = (result: CheckResult): Table => ({
  head: ['property', 'question or policy', 'expected', 'evaluator', 'AWS'],
  rows: [
    ...result.questions
      .filter((row) => !row.ok)
      .map((row) => [PROPERTIES[row.property], row.question, row.expected, row.local, row.aws]),
    ...result.policies
      .filter((row) => !row.ok)
      .map((row) => [
        'Access Analyzer ValidatePolicy',
        row.policy,
        'no error',
        '–',
        row.errors.join('; '),
      ]),
  ],
});

const heading = (result: CheckResult): string =>
  `check:policies ${result.stackName} (${result.online ? 'evaluator and AWS' : 'offline: evaluator only'}; ` +
  `account ${result.account}, ${result.region}; ${result.layout}): ` +
  `${result.questions.length} questions, ${result.ok ? 'all as designed' : 'FAILED'}`;

const notes = (result: CheckResult): string[] =>
  result.policies.flatMap((row) => row.notes.map((note) => `${row.policy}: ${note}`));

const text = (table: Table): string => {
  const widths = table.head.map((head, i) =>
    Math.min(100, Math.max(head.length, ...table.rows.map((row) => row[i]!.length))),
  );
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ');
  return [line(table.head), line(widths.map((w) => '-'.repeat(w))), ...table.rows.map(line)].join(
    '\n',
  );
};

const cell = (value: string) => value.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const markdown = (table: Table): string =>
  [
    `| ${table.head.join(' | ')} |`,
    `| ${table.head.map(() => '---').join(' | ')} |`,
    ...table.rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ].join('\n');

export const formatText = (result: CheckResult): string => {
  const parts = [heading(result), '', text(summary(result))];
  const failed = failures(result);
  if (failed.rows.length > 0) parts.push('', 'Failures:', text(failed));
  const suggestions = notes(result);
  if (suggestions.length > 0)
    parts.push('', 'Access Analyzer suggestions and warnings:', ...suggestions);
  return `${parts.join('\n')}\n`;
};

export const formatMarkdown = (result: CheckResult): string => {
  const parts = [`### ${heading(result)}`, '', markdown(summary(result))];
  const failed = failures(result);
  if (failed.rows.length > 0) parts.push('', '#### Failures', '', markdown(failed));
  const suggestions = notes(result);
  if (suggestions.length > 0) {
    parts.push(
      '',
      '#### Access Analyzer suggestions and warnings',
      '',
      ...suggestions.map((s) => `- ${cell(s)}`),
    );
  }
  return `${parts.join('\n')}\n`;
};
