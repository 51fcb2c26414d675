/**
 * `npm run build`: bundles every function of the topology into dist/<function>/index.mjs with
 * the settings used for Lambda (Node 22, ESM, minified, source maps) and prints their sizes.
 */
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import { LAMBDA_NODE_TARGET, lambdaBundleOptions, repoRoot } from './bundling.ts';
import { functionNames, topology } from './topology.ts';

const distDir = join(repoRoot, 'dist');
await rm(distDir, { recursive: true, force: true });

for (const name of functionNames) {
  const outdir = join(distDir, name);
  await mkdir(outdir, { recursive: true });
  const outfile = join(outdir, 'index.mjs');
  await build({
    ...lambdaBundleOptions,
    entryPoints: [join(repoRoot, topology.functions[name].entry)],
    outfile,
    target: LAMBDA_NODE_TARGET,
  });
  const { size } = await stat(outfile);
  console.log(`${name.padEnd(16)} ${(size / 1024).toFixed(1).padStart(8)} KiB  ${outfile}`);
}
