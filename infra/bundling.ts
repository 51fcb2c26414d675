/**
 * How a function becomes a Lambda bundle, shared by the CDK app (infra/aws), `npm run build`
 * and the local stack (infra/local), so what runs locally is built like what ships.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';

export const repoRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));

/**
 * ESM output still meets CommonJS dependencies that call `require` (parts of the AWS SDK's
 * dependency tree do); ESM has no `require`, so the bundle defines one.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __esmCreateRequire } from 'node:module'; " +
  'const require = __esmCreateRequire(import.meta.url);';

/** Prefer packages' ES module builds, which tree-shake better. */
export const MAIN_FIELDS = ['module', 'main'];

/** Node version Lambda runs (`nodejs22.x`); the local stack builds for the Node it runs on. */
export const LAMBDA_NODE_TARGET = 'node22';

/** esbuild settings of the local stack and `npm run build` (the CDK app passes the same). */
export const lambdaBundleOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  minify: true,
  sourcemap: true,
  mainFields: MAIN_FIELDS,
  banner: { js: ESM_REQUIRE_BANNER },
  logLevel: 'silent',
} satisfies BuildOptions;
