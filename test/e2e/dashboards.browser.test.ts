/**
 * A run watched in a real browser: start it, post readings, open its grafanaUrl (the local
 * stack's own dashboard page) in headless Chromium, and read what the page plots.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { LocalStack } from '#infra/local/index.ts';
import { launchBrowser, skipWithoutBrowser, type Browser } from '#test/support/browser.ts';
import { eventually } from '#test/support/eventually.ts';
import { type ApiClient, startTestStack } from '#test/support/local-stack.ts';

let stack: LocalStack;
let api: ApiClient;
let browser: Browser;

interface ShownFrame {
  label: string;
  values: number[];
}

/** What a panel shows, from the attributes the page sets when it draws. */
const panelData = (page: Page, title: string, attribute: 'data-frames' | 'data-stat') =>
  page
    .locator(`section[data-title="${title}"] .body`)
    .getAttribute(attribute)
    .then((json) => (json === null ? undefined : (JSON.parse(json) as unknown)));

const storedCount = async (runId: string): Promise<number> =>
  (await api.get(`/api/sensors/data?runId=${runId}&limit=1000`)).body.count;

describe.skipIf(skipWithoutBrowser())('the Sensors dashboard of a run, in Chromium', () => {
  beforeAll(async () => {
    ({ stack, api } = await startTestStack());
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it("plots the run's posted temperatures per sensor and shows the stored count", async () => {
    const user = { 'X-User': 'alice' };
    const started = await api.post(
      '/api/runs/start',
      { duration: 120, interval: 500, sensorIds: ['temp-a', 'temp-b'] },
      user,
    );
    expect(started.status).toBe(201);
    const { id: runId, grafanaUrl } = started.body as { id: string; grafanaUrl: string };
    expect(grafanaUrl.startsWith(`http://localhost:${stack.port}/grafana/d/`)).toBe(true);

    // Two batches, a second apart once the first is stored, so each is its own data point.
    const batches = [
      [
        { sensorId: 'temp-a', type: 'temperature', reading: 21.5 },
        { sensorId: 'temp-b', type: 'temperature', reading: 23.25 },
        { sensorId: 'temp-a', type: 'humidity', reading: 40 },
      ],
      [
        { sensorId: 'temp-a', type: 'temperature', reading: 22 },
        { sensorId: 'temp-b', type: 'temperature', reading: 24.5 },
      ],
    ];
    let posted = 0;
    for (const measurements of batches) {
      const accepted = await api.post(
        '/api/sensors/data',
        { measurements },
        {
          ...user,
          'X-Run-Id': runId,
        },
      );
      expect(accepted.status).toBe(202);
      posted += measurements.length;
      await eventually(
        async () => ((await storedCount(runId)) === posted ? true : undefined),
        20_000,
        `${posted} stored readings`,
      );
      await new Promise((resolve) => setTimeout(resolve, 1100));
    }

    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(grafanaUrl);
    await page.waitForSelector('body[data-updated]');

    // The local page refreshes every 5 s: wait for the second batch's metrics.
    const temperature = await eventually(
      async () => {
        const frames = (await panelData(page, 'Temperature', 'data-frames')) as
          ShownFrame[] | undefined;
        return frames?.every((frame) => frame.values.length === 2) && frames.length === 2
          ? frames
          : undefined;
      },
      20_000,
      'both temperature points of both sensors on the page',
    );
    expect(temperature).toEqual([
      { label: 'temp-a', values: [21.5, 22] },
      { label: 'temp-b', values: [23.25, 24.5] },
    ]);
    await expect(
      page.locator('section[data-title="Temperature"] canvas').count(),
    ).resolves.toBeGreaterThan(0);

    const stored = await storedCount(runId);
    expect(stored).toBe(5);
    expect(await panelData(page, 'Readings stored', 'data-stat')).toEqual([
      { label: 'Readings stored', value: stored },
    ]);
    await expect(
      page.locator('section[data-title="Readings stored"] .value').textContent(),
    ).resolves.toBe(String(stored));
    await expect(page.locator('[data-variable="runId"]').textContent()).resolves.toContain(runId);
    // Several refreshes later the page still shows its run (as Grafana keeps a variable that is
    // listed only on load), and no panel shows an error Grafana would show.
    expect(new URL(page.url()).searchParams.get('var-runId')).toBe(runId);
    const refused = await page
      .locator('section .body')
      .evaluateAll((bodies) => bodies.map((b) => b.getAttribute('data-errors')));
    expect(refused.filter((errors) => errors !== null && errors !== '[]')).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);

  it('links the dashboards to each other, colors stats by their thresholds, shows readings/s', async () => {
    const user = { 'X-User': 'bea' };
    const started = await api.post(
      '/api/runs/start',
      { duration: 120, interval: 500, sensorIds: ['t-1'] },
      user,
    );
    const { id: runId, grafanaUrl } = started.body as { id: string; grafanaUrl: string };
    // 90 readings: more than the 80 from which Grafana's default thresholds turn a value red.
    const measurements = Array.from({ length: 90 }, (_, i) => ({
      sensorId: 't-1',
      type: 'temperature',
      reading: 20 + i / 10,
      timestamp: new Date(Date.now() - (90 - i) * 100).toISOString(),
    }));
    expect(
      (await api.post('/api/sensors/data', { measurements }, { ...user, 'X-Run-Id': runId }))
        .status,
    ).toBe(202);
    await eventually(
      async () => ((await storedCount(runId)) === 90 ? true : undefined),
      20_000,
      '90 stored readings',
    );

    const page = await browser.context.newPage();
    await page.goto(grafanaUrl);
    const stored = page.locator('section[data-title="Readings stored"] .value');
    await eventually(
      async () => ((await stored.textContent()) === '90' ? true : undefined),
      20_000,
      'the stored count on the page',
    );
    // The dashboard's thresholds (one green step), not Grafana's default red from 80.
    await expect(stored.getAttribute('style')).resolves.toBe('color:#73BF69');
    await expect(
      page
        .locator('section[data-title="Readings per second (last full period)"] .value')
        .textContent(),
    ).resolves.toMatch(/readings\/s$/);
    // The header links to the other dashboards, keeping the time range and the variables.
    const links = page.locator('header nav a[data-link]');
    await expect(links.allTextContents()).resolves.toEqual(['Runs', 'Pipeline', 'Cost']);
    const pipeline = new URL(
      (await page
        .locator('header nav a[data-link="iot-playground-pipeline"]')
        .getAttribute('href')) ?? '',
      grafanaUrl,
    );
    expect(pipeline.pathname).toBe('/grafana/d/iot-playground-pipeline/iot-playground-pipeline');
    expect(pipeline.searchParams.get('var-runId')).toBe(runId);
    expect(pipeline.searchParams.get('from')).toBe(new URL(grafanaUrl).searchParams.get('from'));
    await page.close();
  }, 90_000);

  it('lists the dashboards and the recent runs, each linking to its dashboard', async () => {
    const started = await api.post('/api/runs/start', { duration: 60, interval: 1000 });
    const page = await browser.context.newPage();
    await page.goto(`http://localhost:${stack.port}/grafana`);
    await page.waitForSelector('#runs');
    const runLink = page.locator(`#runs a[href="${started.body.grafanaUrl}"]`);
    await expect(runLink.textContent()).resolves.toBe(started.body.id);
    const dashboards = await page.locator('#list ul a').allTextContents();
    expect(dashboards).toEqual([
      'IoT Playground — Sensors',
      'IoT Playground — Runs',
      'IoT Playground — Pipeline',
      'IoT Playground — Cost',
    ]);
    await page.close();
  });
});
