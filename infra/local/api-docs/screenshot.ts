/**
 * `npm run api:screenshot`: the API reference page as the local stack serves it, saved to
 * docs/api-reference.png with one operation opened. Needs a browser (test/support/browser.ts).
 */
import { launchBrowser } from '#test/support/browser.ts';
import { startTestStack } from '#test/support/local-stack.ts';

const FILE = new URL('../../../docs/api-reference.png', import.meta.url).pathname;

const { stack } = await startTestStack();
const browser = await launchBrowser({ width: 1400, height: 1700 });
try {
  const page = await browser.context.newPage();
  await page.goto(`${stack.url}/api/docs`);
  await page.waitForSelector('body[data-rendered="true"] .opblock');
  // Open POST /api/sensors/data: the route most clients call, with its body shapes.
  await page.locator('#operations-sensors-postMeasurements .opblock-summary').click();
  await page.waitForSelector('#operations-sensors-postMeasurements .responses-wrapper');
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: FILE, fullPage: false });
  console.log(`wrote ${FILE}`);
} finally {
  await browser.close();
  await stack.stop();
}
