/**
 * The check's record: a table on stdout and the same as Markdown for the job summary
 * ($GITHUB_STEP_SUMMARY), errors first, then empty results, then the rest; and the figures a
 * reader needs (how many dashboards, variables, panels and queries were asked).
 */
import type { Row, Verdict } from './check.ts';

const ORDER: Verdict[] = ['error', 'empty', 'data', 'reused', 'fixed'];
const LABEL: Record<Verdict, string> = {
  error: 'ERROR',
  empty: 'empty',
  data: 'ok',
  reused: 'reused',
  fixed: 'fixed',
};

export interface Tally {
  dashboards: number;
  variables: number;
  panels: number;
  /** Questions put to Grafana: resource requests and query results. */
  queries: number;
  data: number;
  empty: number;
  errors: number;
}

export const tally = (rows: Row[]): Tally => ({
  dashboards: new Set(rows.filter((r) => r.subject !== 'datasource').map((r) => r.dashboard)).size,
  variables: rows.filter((r) => r.subject === 'variable').length,
  panels: new Set(
    rows.filter((r) => r.subject === 'panel').map((r) => `${r.dashboard}#${r.panelId}`),
  ).size,
  queries: rows.filter((r) => r.asked).length,
  data: rows.filter((r) => r.verdict === 'data').length,
  empty: rows.filter((r) => r.verdict === 'empty').length,
  errors: rows.filter((r) => r.verdict === 'error').length,
});

export const summaryLine = (t: Tally): string =>
  `${t.dashboards} dashboards, ${t.variables} variables, ${t.panels} panels: ` +
  `${t.queries} queries asked of Grafana — ${t.data} with data, ${t.empty} empty, ${t.errors} failed`;

const sorted = (rows: Row[]) =>
  rows
    .map((row, i) => ({ row, i }))
    .sort((a, b) => ORDER.indexOf(a.row.verdict) - ORDER.indexOf(b.row.verdict) || a.i - b.i)
    .map(({ row }) => row);

const subjectOf = (row: Row) =>
  row.subject === 'panel' ? `${row.name} (#${row.panelId})` : row.name;

const columns = (row: Row) => [
  LABEL[row.verdict],
  row.dashboard,
  subjectOf(row),
  row.refId,
  row.detail,
];

const HEADER = ['Result', 'Dashboard', 'Panel / variable', 'Query', 'Detail'];

/** A plain-text table, columns padded to their widest cell (the detail column runs free). */
export const textTable = (rows: Row[]): string => {
  const lines = [HEADER, ...sorted(rows).map(columns)];
  const widths = HEADER.slice(0, -1).map((_, i) =>
    Math.max(...lines.map((l) => (l[i] ?? '').length)),
  );
  return lines
    .map((line) =>
      line
        .map((cell, i) => (i < widths.length ? cell.padEnd(widths[i] as number) : cell))
        .join('  '),
    )
    .join('\n');
};

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export const markdown = (rows: Row[], grafanaUrl: string, passed: boolean): string =>
  [
    `### check:dashboards — ${passed ? 'passed' : 'FAILED'}`,
    '',
    `Grafana at ${grafanaUrl}: ${summaryLine(tally(rows))}.`,
    '',
    `| ${HEADER.join(' | ')} |`,
    `| ${HEADER.map(() => '---').join(' | ')} |`,
    ...sorted(rows).map((row) => `| ${columns(row).map(cell).join(' | ')} |`),
    '',
  ].join('\n');
