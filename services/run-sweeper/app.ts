import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { topology } from '#infra/topology.ts';
import { createDocumentClient } from '#shared/aws-clients.ts';
import { requireEnv } from '#shared/config.ts';
import { beginInvocation, createLogger } from '#shared/powertools.ts';
import { maxConcurrentRunsFromEnv } from '#shared/run.ts';
import { DynamoRunStore } from '#shared/run-store.ts';
import { sweep, type SweepDeps, type SweepReport } from './sweep.ts';

export interface SweeperDeps extends SweepDeps {
  logger: Logger;
}

export const makeHandler =
  (deps: SweeperDeps) =>
  async (_event: ScheduledEvent, context: Context): Promise<SweepReport> => {
    beginInvocation(deps.logger, context);
    const report = await sweep(deps);
    if (report.timedOut.length > 0 || report.slotsReleased > 0) {
      deps.logger.info('Sweep changed runs', {
        timedOut: report.timedOut,
        slotsReleased: report.slotsReleased,
      });
    }
    return report;
  };

export const defaultDeps = (): SweeperDeps => ({
  logger: createLogger(),
  store: new DynamoRunStore(createDocumentClient(), requireEnv(topology.tables.runs.env)),
  now: Date.now,
  maxConcurrentRuns: maxConcurrentRunsFromEnv(),
});
