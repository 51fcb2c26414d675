/**
 * The real esbuild bundling of the function factory: a fixture handler shaped like the
 * services (a #shared alias, an AWS SDK client, Powertools) is bundled with the factory's
 * options and then loaded by plain Node as Lambda would load it. When the topology's handler
 * files exist, the whole app is synthesized with real bundles as well.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionNames, topology } from '#infra/topology.ts';
import {
  bundlingOptions,
  FUNCTION_ARCHITECTURE,
  FUNCTION_RUNTIME,
  REPO_ROOT,
} from './constructs/function-factory.ts';
import { createApp } from './create-app.ts';

const BUNDLE_TIMEOUT_MS = 120_000;

/** The staged bundle directories (`asset.*` holding an index.mjs) of a cloud assembly. */
const bundleDirs = (outdir: string): string[] =>
  readdirSync(outdir)
    .filter((entry) => entry.startsWith('asset.'))
    .map((entry) => path.join(outdir, entry))
    .filter((dir) => existsSync(path.join(dir, 'index.mjs')));

describe('esbuild bundling of a service-shaped handler', () => {
  let outdir: string;
  let bundle: string;

  beforeAll(() => {
    outdir = mkdtempSync(path.join(tmpdir(), 'iot-playground-bundle-'));
    const app = new App({ outdir });
    const stack = new Stack(app, 'BundlingProbe');
    new NodejsFunction(stack, 'Fixture', {
      entry: path.join(REPO_ROOT, 'infra/aws/test-fixtures/bundled-handler.ts'),
      runtime: FUNCTION_RUNTIME,
      architecture: FUNCTION_ARCHITECTURE,
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      bundling: bundlingOptions,
    });
    app.synth();
    const [dir] = bundleDirs(outdir);
    if (dir === undefined) throw new Error(`no bundle in ${outdir}`);
    bundle = path.join(dir, 'index.mjs');
  }, BUNDLE_TIMEOUT_MS);
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('emits one minified ESM file with a source map that omits the sources', () => {
    expect(readdirSync(path.dirname(bundle)).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    const code = readFileSync(bundle, 'utf8');
    // Minified: a few very long lines (line breaks remain only inside template literals).
    expect(code.length / code.split('\n').length).toBeGreaterThan(2_000);
    expect(code).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
    const map = JSON.parse(readFileSync(`${bundle}.map`, 'utf8')) as { sourcesContent?: unknown };
    expect(map.sourcesContent).toBeUndefined();
  });

  it('defines require for CommonJS dependencies', () => {
    expect(readFileSync(bundle, 'utf8').split('\n')[0]).toContain(
      'const require = __esmCreateRequire(import.meta.url);',
    );
  });

  it('bundles the AWS SDK rather than importing the runtime copy', () => {
    const code = readFileSync(bundle, 'utf8');
    // An external would remain as an import of the package; a bundled client carries its
    // operations. (Booleans, so a failure does not print the whole bundle.)
    expect(/(from|import\()\s*["']@aws-sdk\//.test(code)).toBe(false);
    expect(code.includes('"GetQueueUrl"')).toBe(true);
  });

  it('loads in plain Node as an ES module and runs the handler', () => {
    const script =
      `const m = await import(${JSON.stringify(pathToFileURL(bundle).href)});` +
      'process.stdout.write(JSON.stringify(await m.handler()));';
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH,
        AWS_REGION: 'eu-west-1',
        POWERTOOLS_SERVICE_NAME: 'bundling-probe',
        POWERTOOLS_LOG_LEVEL: 'ERROR',
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(JSON.parse(output)).toEqual({ service: 'bundling-probe', queue: 'fixture' });
  });
});

const missingEntries = functionNames
  .map((name) => topology.functions[name].entry)
  .filter((entry) => !existsSync(path.join(REPO_ROOT, entry)));

describe('the topology handlers', () => {
  // The handlers are written in services/; until all exist this cannot run, and says so.
  it.skipIf(missingEntries.length > 0)(
    `all bundle into ESM exporting handler (missing: ${missingEntries.join(', ') || 'none'})`,
    () => {
      const outdir = mkdtempSync(path.join(tmpdir(), 'iot-playground-handlers-'));
      try {
        createApp({ outdir, context: { stage: 'dev', component: 'lambdas' } }).app.synth();
        const bundles = bundleDirs(outdir).map((dir) =>
          readFileSync(path.join(dir, 'index.mjs'), 'utf8'),
        );
        expect(bundles).toHaveLength(functionNames.length);
        for (const code of bundles) expect(code).toMatch(/export\s*\{[^}]*\bhandler\b[^}]*\}/);
      } finally {
        rmSync(outdir, { recursive: true, force: true });
      }
    },
    functionNames.length * BUNDLE_TIMEOUT_MS,
  );
});
