/**
 * `npm run dashboards`: writes dashboards/generated/<name>.json from the code, and the open-tab
 * cost table of docs/dashboards.md computed from them (open-tab-cost.ts; a test checks both).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { DashboardJson } from '#shared/dashboard-model/index.ts';
import { dashboardJson, dashboards, GENERATED_DIR } from './index.ts';
import {
  OPEN_TAB_TABLE_END,
  OPEN_TAB_TABLE_START,
  openTabCost,
  openTabTable,
} from './open-tab-cost.ts';

await mkdir(GENERATED_DIR, { recursive: true });
const written: DashboardJson[] = [];
for (const [name, dashboard] of Object.entries(dashboards())) {
  const file = new URL(`${name}.json`, GENERATED_DIR);
  const json = dashboardJson(dashboard);
  await writeFile(file, json);
  written.push(JSON.parse(json) as DashboardJson);
  console.log(`wrote ${file.pathname}`);
}

const docs = new URL('../docs/dashboards.md', import.meta.url);
const page = await readFile(docs, 'utf8');
const start = page.indexOf(OPEN_TAB_TABLE_START);
const end = page.indexOf(OPEN_TAB_TABLE_END);
if (start < 0 || end < start) throw new Error(`${docs.pathname} has no open-tab cost block`);
await writeFile(
  docs,
  page.slice(0, start) +
    openTabTable(written.map(openTabCost)) +
    page.slice(end + OPEN_TAB_TABLE_END.length),
);
console.log(`wrote the open-tab cost table of ${docs.pathname}`);
