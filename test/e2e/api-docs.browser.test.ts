/**
 * The API reference page in a real browser: /api/docs renders every operation of the
 * description with Swagger UI from node_modules, and nothing is fetched from outside this stack.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '#infra/local/index.ts';
import { launchBrowser, skipWithoutBrowser, type Browser } from '#test/support/browser.ts';
import { startTestStack } from '#test/support/local-stack.ts';

let stack: LocalStack;
let browser: Browser;

const description = JSON.parse(
  await readFile(new URL('../../shared/api/openapi.json', import.meta.url), 'utf8'),
) as { paths: Record<string, Record<string, { operationId: string }>> };
const operations = Object.entries(description.paths).flatMap(([path, item]) =>
  Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
);

describe('the local stack', () => {
  beforeAll(async () => {
    ({ stack } = await startTestStack());
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('serves the description at /api/openapi.json and the page with its assets at /api/docs', async () => {
    const served = await fetch(`${stack.url}/api/openapi.json`);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('application/json');
    expect(await served.json()).toEqual(description);

    const page = await fetch(`${stack.url}/api/docs`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    expect(assets).toEqual([
      '/api/docs/swagger-ui.css',
      '/api/docs/swagger-ui-bundle.js',
      '/api/docs/page.js',
    ]);
    for (const asset of assets) {
      const answer = await fetch(`${stack.url}${asset}`);
      expect(answer.status, asset).toBe(200);
      expect((await answer.arrayBuffer()).byteLength, asset).toBeGreaterThan(100);
    }
    expect((await fetch(`${stack.url}/api/docs/nothing.js`)).status).toBe(404);
  });

  describe.skipIf(skipWithoutBrowser())('in Chromium', () => {
    beforeAll(async () => {
      browser = await launchBrowser({ width: 1400, height: 1000 });
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('renders every operation of the description, from this stack alone', async () => {
      const page = await browser.context.newPage();
      const outside: string[] = [];
      page.on('request', (request) => {
        if (!request.url().startsWith(stack.url) && !request.url().startsWith('data:')) {
          outside.push(request.url());
        }
      });
      await page.goto(`${stack.url}/api/docs`);
      await page.waitForSelector('body[data-rendered="true"] .opblock');
      const shown = await page
        .locator('.opblock')
        .evaluateAll((blocks) =>
          blocks.map(
            (block) =>
              `${block.querySelector('.opblock-summary-method')?.textContent?.trim()} ${block
                .querySelector('.opblock-summary-path')
                ?.getAttribute('data-path')}`,
          ),
        );
      expect(shown.sort()).toEqual([...operations].sort());
      expect(await page.locator('.info .title').textContent()).toContain(
        'IoT Playground Serverless API',
      );
      expect(outside).toEqual([]);
      await page.close();
    });
  });
});
