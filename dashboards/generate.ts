/** `npm run dashboards`: writes dashboards/generated/<name>.json from the code. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dashboardJson, dashboards, GENERATED_DIR } from './index.ts';

await mkdir(GENERATED_DIR, { recursive: true });
for (const [name, dashboard] of Object.entries(dashboards())) {
  const file = new URL(`${name}.json`, GENERATED_DIR);
  await writeFile(file, dashboardJson(dashboard));
  console.log(`wrote ${file.pathname}`);
}
