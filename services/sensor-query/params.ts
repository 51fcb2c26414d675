/**
 * Query parameters of `GET /api/sensors/data`: `runId` and/or `sensorId` (one is required; no
 * scans), `from`/`to` (ISO-8601 or epoch ms, inclusive), `limit` and the opaque `nextKey`. Pure.
 */
import { BadRequestError } from '#shared/errors.ts';
import { isSafeId, requireRunId } from '#shared/identity.ts';
import { MAX_KEY_TIME_MS } from '#shared/measurement.ts';
import { parseInstantParam } from '#shared/time.ts';

export const QUERY_LIMITS = {
  defaultLimit: 100,
  maxLimit: 1000,
} as const;

/** What the query reads: a run's readings (of one sensor, or all), or a sensor's across runs. */
export type AccessPath =
  { kind: 'run'; runId: string; sensorId?: string } | { kind: 'sensor'; sensorId: string };

export interface SensorDataQuery {
  path: AccessPath;
  from?: number;
  to?: number;
  limit: number;
  nextKey?: string;
}

const bad = (field: string, message: string): never => {
  throw new BadRequestError(`${field} ${message}`, [{ field, message }]);
};

const instant = (value: string | undefined, field: string): number | undefined => {
  if (value === undefined) return undefined;
  const ms = parseInstantParam(value);
  if (ms === undefined || ms < 0 || ms > MAX_KEY_TIME_MS) {
    return bad(field, 'must be an ISO-8601 instant with a zone or epoch milliseconds');
  }
  return ms;
};

export const parseSensorDataQuery = (
  param: (name: string) => string | undefined,
): SensorDataQuery => {
  const runIdRaw = param('runId');
  const sensorIdRaw = param('sensorId');
  if (runIdRaw === undefined && sensorIdRaw === undefined) {
    throw new BadRequestError('runId or sensorId is required', [
      { field: 'runId', message: 'runId or sensorId is required' },
    ]);
  }
  const runId = runIdRaw === undefined ? undefined : requireRunId(runIdRaw, 'runId');
  if (sensorIdRaw !== undefined && !isSafeId(sensorIdRaw)) {
    bad('sensorId', 'must be 1-64 characters of letters, digits, _ . : -');
  }
  const sensorId = sensorIdRaw;

  const from = instant(param('from'), 'from');
  const to = instant(param('to'), 'to');
  if (from !== undefined && to !== undefined && from > to) bad('from', 'must not be after to');

  let limit: number = QUERY_LIMITS.defaultLimit;
  const limitRaw = param('limit');
  if (limitRaw !== undefined) {
    limit = /^\d+$/.test(limitRaw) ? Number(limitRaw) : NaN;
    if (!(limit >= 1 && limit <= QUERY_LIMITS.maxLimit)) {
      bad('limit', `must be an integer from 1 to ${QUERY_LIMITS.maxLimit}`);
    }
  }

  const nextKey = param('nextKey');

  const path: AccessPath =
    runId !== undefined
      ? { kind: 'run', runId, ...(sensorId === undefined ? {} : { sensorId }) }
      : { kind: 'sensor', sensorId: sensorId as string };
  return {
    path,
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
    limit,
    ...(nextKey === undefined ? {} : { nextKey }),
  };
};
