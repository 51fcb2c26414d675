/**
 * Prints docs/costs.md's *Idle* cost block (idle-cost.ts) from both components' templates,
 * synthesized offline with stub function code (the code does not change what idles).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Template } from 'aws-cdk-lib/assertions';
import { createApp } from './create-app.ts';
import { idleCostBlock, idleFootprint } from './idle-cost.ts';

const footprintOf = (component: 'lambdas' | 'full') => {
  const outdir = mkdtempSync(path.join(tmpdir(), 'iot-playground-idle-'));
  try {
    const { stack } = createApp({
      context: { stage: 'dev', component },
      code: () => lambda.Code.fromInline('export const handler = async () => ({});'),
      outdir,
    });
    return idleFootprint(Template.fromStack(stack).toJSON() as Parameters<typeof idleFootprint>[0]);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
};

console.log(idleCostBlock(footprintOf('lambdas'), footprintOf('full')));
