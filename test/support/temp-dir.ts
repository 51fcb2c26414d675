/**
 * Vitest's global setup: the test files' temporary folders (CDK's default `cdk.outXXXXXX`
 * assemblies, bundles, the dashboards check's fixtures) go under one folder of this run, removed
 * when the run ends, so a test run leaves nothing in the machine's temp folder. The forks start
 * after this runs and inherit `TMPDIR`, which Node's `os.tmpdir()` reads.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const previous = process.env.TMPDIR;
  const folder = mkdtempSync(path.join(tmpdir(), 'iot-playground-tests-'));
  process.env.TMPDIR = folder;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(folder, { recursive: true, force: true });
  };
}
