/** The README's idle costs are this code's output for the synthesized stacks, not hand sums. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './constructs/function-factory.ts';
import {
  IDLE_COST_END,
  IDLE_COST_START,
  idleCostBlock,
  idleCostLines,
  idleFootprint,
} from './idle-cost.ts';
import { useSynth } from './test-support.ts';

const lambdas = useSynth({ stage: 'dev', component: 'lambdas' });
const full = useSynth({ stage: 'dev', component: 'full' });
const footprint = (synth: typeof lambdas) =>
  idleFootprint(synth.template.toJSON() as Parameters<typeof idleFootprint>[0]);

describe('idle cost', () => {
  it('counts what idles: alarms, the load balancer, its addresses and the task, the secret, the queues polled', () => {
    expect(footprint(lambdas)).toEqual({
      // Errors and throttles of each of the six functions, and four of the pipeline.
      alarms: 16,
      publicIpv4: 0,
      grafanaTask: undefined,
      loadBalancers: 0,
      secrets: 0,
      // The measurement queue's consumer and the reports queue's.
      queueMappings: 2,
    });
    // Two public subnets for the load balancer, one public address for the task.
    expect(footprint(full)).toEqual({
      alarms: 17,
      publicIpv4: 3,
      grafanaTask: { vcpu: 0.5, memoryGb: 1 },
      loadBalancers: 1,
      secrets: 1,
      queueMappings: 2,
    });
  });

  it('includes the infrastructure panel’s check every 5 minutes, about a cent', () => {
    const check = idleCostLines(footprint(lambdas)).find((line) =>
      line.item.startsWith("the infrastructure panel's check"),
    );
    expect(check?.arithmetic).toMatch(/^8,760 invocations/);
    expect(check?.usd).toBeGreaterThan(0.005);
    expect(check?.usd).toBeLessThan(0.02);
  });

  it('includes the sweeper’s two custom metrics', () => {
    const metrics = idleCostLines(footprint(lambdas)).find((line) =>
      line.item.includes('custom metrics'),
    );
    expect(metrics?.usd).toBeCloseTo(0.6, 10);
  });

  it('is what docs/costs.md says, regenerated from shared/prices.ts', () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'docs', 'costs.md'), 'utf8');
    const start = readme.indexOf(IDLE_COST_START);
    const end = readme.indexOf(IDLE_COST_END);
    expect(start, 'docs/costs.md idle-cost block').toBeGreaterThan(-1);
    expect(readme.slice(start, end + IDLE_COST_END.length)).toBe(
      idleCostBlock(footprint(lambdas), footprint(full)),
    );
  });
});
