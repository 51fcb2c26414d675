import { describe, expect, it } from 'vitest';
import { BadRequestError } from '#shared/errors.ts';
import { parseSensorDataQuery, QUERY_LIMITS } from './params.ts';

const RUN = '11111111-2222-4333-8444-555555555555';
const parse = (params: Record<string, string>) => parseSensorDataQuery((name) => params[name]);

const refusedField = (params: Record<string, string>): string | undefined => {
  try {
    parse(params);
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestError);
    return (error as BadRequestError).details[0]?.field;
  }
  throw new Error('accepted');
};

describe('parseSensorDataQuery', () => {
  it('queries by run, by sensor, or by run filtered to a sensor', () => {
    expect(parse({ runId: RUN }).path).toEqual({ kind: 'run', runId: RUN });
    expect(parse({ sensorId: 's-1' }).path).toEqual({ kind: 'sensor', sensorId: 's-1' });
    expect(parse({ runId: RUN, sensorId: 's-1' }).path).toEqual({
      kind: 'run',
      runId: RUN,
      sensorId: 's-1',
    });
  });

  it('defaults the limit and reads from/to as ISO or epoch ms', () => {
    const q = parse({ runId: RUN, from: '2030-01-01T00:00:00Z', to: String(Date.UTC(2030, 0, 2)) });
    expect(q).toMatchObject({
      limit: QUERY_LIMITS.defaultLimit,
      from: Date.UTC(2030, 0, 1),
      to: Date.UTC(2030, 0, 2),
    });
    expect(parse({ runId: RUN, limit: '1000' }).limit).toBe(1000);
  });

  it.each([
    [{}, 'runId'],
    [{ runId: 'abc' }, 'runId'],
    [{ sensorId: 'a b' }, 'sensorId'],
    [{ runId: RUN, from: 'yesterday' }, 'from'],
    [{ runId: RUN, to: '2030-13-01T00:00:00Z' }, 'to'],
    [{ runId: RUN, from: '2030-01-02T00:00:00Z', to: '2030-01-01T00:00:00Z' }, 'from'],
    [{ runId: RUN, limit: '0' }, 'limit'],
    [{ runId: RUN, limit: '1001' }, 'limit'],
    [{ runId: RUN, limit: '10.5' }, 'limit'],
    [{ runId: RUN, limit: 'ten' }, 'limit'],
  ])('refuses %j naming %s', (params, field) => {
    expect(refusedField(params as Record<string, string>)).toBe(field);
  });
});
