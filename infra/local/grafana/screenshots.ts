/**
 * `npm run dashboards:screenshots`: drives the local stack through a few runs (readings,
 * a refused start, finished and failed runs, bad requests, sweeps), then saves a screenshot of
 * each dashboard as the local stack serves it to docs/. Needs Chromium (see test/support/browser.ts).
 */
import { mkdir } from 'node:fs/promises';
import { DASHBOARDS } from '#shared/grafana.ts';
import { launchBrowser } from '#test/support/browser.ts';
import { startTestStack } from '#test/support/local-stack.ts';

const DOCS = new URL('../../../docs/', import.meta.url);
const SECONDS = Number(process.env.SCREENSHOT_TRAFFIC_SECONDS ?? 45);

const { stack, api } = await startTestStack({ env: { MAX_CONCURRENT_RUNS: '3' } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const startRun = async (user: string, sensorIds: string[]) =>
  (
    await api.post(
      '/api/runs/start',
      { duration: 600, interval: 500, sensorIds },
      { 'X-User': user },
    )
  ).body as { id: string; grafanaUrl: string };

const alice = await startRun('alice', ['greenhouse-1', 'greenhouse-2', 'greenhouse-3']);
const bob = await startRun('bob', ['lab-1', 'lab-2']);
const carol = await startRun('carol', ['attic-1']);
await startRun('dave', ['refused-1']); // the limit is 3: refused
await api.post(`/api/runs/${carol.id}/finish`, { errorMessage: 'sensor disconnected' });

const post = (run: { id: string }, user: string, sensors: string[], t: number) =>
  api.post(
    '/api/sensors/data',
    sensors.map((sensorId, i) => ({
      sensorId,
      temperature: Math.round((21 + 3 * Math.sin(t / 8 + i) + i) * 100) / 100,
      humidity: Math.round((45 + 10 * Math.cos(t / 10 + i)) * 10) / 10,
      pressure: Math.round((1013 + 4 * Math.sin(t / 15 + i)) * 10) / 10,
    })),
    { 'X-User': user, 'X-Run-Id': run.id },
  );

for (let t = 0; t < SECONDS * 2; t++) {
  await Promise.all([
    post(alice, 'alice', ['greenhouse-1', 'greenhouse-2', 'greenhouse-3'], t),
    post(bob, 'bob', ['lab-1', 'lab-2'], t),
  ]);
  if (t % 10 === 0) {
    await api.post(
      '/api/sensors/data',
      { sensorId: 'bad', reading: 'not a number' },
      {
        'X-Run-Id': alice.id,
      },
    );
    await stack.runSchedule('runSweeper');
  }
  await sleep(500);
}
await api.post(`/api/runs/${bob.id}/finish`, { status: 'COMPLETED' });
await stack.runSchedule('runSweeper');
await sleep(3000);

await mkdir(DOCS, { recursive: true });
const browser = await launchBrowser({ width: 1600, height: 1000 });
const shoot = async (name: string, url: string) => {
  const page = await browser.context.newPage();
  await page.goto(url);
  await page.waitForSelector('body[data-updated], #runs');
  await sleep(1000);
  const path = new URL(`dashboard-${name}.png`, DOCS).pathname;
  await page.screenshot({ path, fullPage: true });
  console.log(`wrote ${path}`);
  await page.close();
};
const range = `from=now-${Math.ceil(SECONDS / 60) + 2}m&to=now`;
await shoot('sensors', alice.grafanaUrl);
for (const key of ['runs', 'pipeline', 'cost'] as const) {
  const { uid, slug } = DASHBOARDS[key];
  await shoot(key, `${stack.url}/grafana/d/${uid}/${slug}?${range}`);
}
await shoot('list', `${stack.url}/grafana`);
await browser.close();
await stack.stop();
