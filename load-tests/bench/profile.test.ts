import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SourceMapGenerator } from 'source-map-js';
import { afterEach, describe, expect, it } from 'vitest';
import { formatProfiles, profileBySource, profileByThread, shortSource } from './profile.ts';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const BUNDLE_URL = 'file:///tmp/iot-playground-local/4242/ingest.mjs';

/** A profile: root → (idle), a bundle frame at line 1 column 10, node's http client. */
const profile = {
  nodes: [
    { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1, columnNumber: -1 } },
    { id: 2, callFrame: { functionName: '(idle)', url: '', lineNumber: -1, columnNumber: -1 } },
    { id: 3, callFrame: { functionName: 'a', url: BUNDLE_URL, lineNumber: 0, columnNumber: 10 } },
    {
      id: 4,
      callFrame: { functionName: 'x', url: 'node:_http_client', lineNumber: 5, columnNumber: 1 },
    },
  ],
  startTime: 1_000,
  // Samples at 1,000+100, +200 … each lasting the next delta (100 µs).
  samples: [3, 3, 2, 4, 3, 4],
  timeDeltas: [100, 100, 100, 100, 100, 100],
};

describe('bench profiles', () => {
  it('names package and project sources briefly', () => {
    expect(shortSource('file:///work/x/node_modules/@smithy/core/dist/a.js')).toBe('@smithy/core');
    expect(shortSource('../../node_modules/fflate/esm/index.mjs')).toBe('fflate');
    expect(shortSource('/home/me/repo/shared/reading-pack.ts')).toBe('shared/reading-pack.ts');
    expect(shortSource('node:events')).toBe('node:events');
  });

  it('attributes samples within the windows to sources, through bundles’ source maps', async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-profile-'));
    const map = new SourceMapGenerator({ file: 'ingest.mjs' });
    map.addMapping({
      generated: { line: 1, column: 10 },
      original: { line: 7, column: 2 },
      source: '../../services/ingest/validation.ts',
    });
    await mkdir(join(dir, 'bundles'));
    await writeFile(join(dir, 'bundles', 'ingest.mjs.map'), map.toString());
    await writeFile(join(dir, 'CPU.1.cpuprofile'), JSON.stringify(profile));

    const ms = (totals: Map<string, number>) =>
      Object.fromEntries([...totals].map(([source, value]) => [source, Number(value.toFixed(3))]));
    // A sample lasts until the next one (the last one, no time): 3 samples in the bundle, 1 in
    // node's http client; the idle one is left out.
    const all = profileBySource(dir, [{ startUs: 0, endUs: 10_000 }], join(dir, 'bundles'));
    expect(ms(all)).toEqual({
      'ingest>services/ingest/validation.ts': 0.3,
      'node:_http_client': 0.1,
    });
    // Samples at 1,100 and 1,200 only.
    const early = profileBySource(dir, [{ startUs: 1_050, endUs: 1_250 }], join(dir, 'bundles'));
    expect(ms(early)).toEqual({ 'ingest>services/ingest/validation.ts': 0.2 });
    // Without the map, the bundle is still named.
    const unmapped = profileBySource(dir, [{ startUs: 0, endUs: 10_000 }]);
    expect(unmapped.get('ingest>?')).toBeCloseTo(0.3);

    // One thread, mostly in the ingest bundle: an ingest environment.
    expect(ms(profileByThread(dir, [{ startUs: 0, endUs: 10_000 }]))).toEqual({ ingest: 0.4 });

    const table = formatProfiles([
      { label: 'now', bySource: all },
      { label: 'before', bySource: new Map([['node:_http_client', 1]]) },
    ]);
    expect(table).toContain('| source | now (0 ms sampled) | before (1 ms sampled) |');
    expect(table).toContain('| ingest>services/ingest/validation.ts | 75.0 % | 0.0 % |');
    expect(table).toContain('| node:_http_client | 25.0 % | 100.0 % |');
  });
});
