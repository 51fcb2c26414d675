/** Runs the topology's schedules (EventBridge rules on AWS) with scheduled-event payloads. */
import { randomUUID } from 'node:crypto';
import type { ScheduledEvent } from 'aws-lambda';
import type { ScheduleSpec } from '../topology.ts';

export const scheduledEvent = (ruleName: string, now = new Date()): ScheduledEvent => ({
  version: '0',
  id: randomUUID(),
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '000000000000',
  time: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  region: 'us-east-1',
  resources: [`arn:aws:events:us-east-1:000000000000:rule/${ruleName}`],
  detail: {},
});

export const startSchedules = (
  schedules: readonly ScheduleSpec[],
  fire: (schedule: ScheduleSpec) => Promise<void>,
): (() => void) => {
  const timers = schedules.map((schedule) => {
    const timer = setInterval(() => void fire(schedule), schedule.rateMinutes * 60_000);
    timer.unref();
    return timer;
  });
  return () => timers.forEach(clearInterval);
};
