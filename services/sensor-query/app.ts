/** `GET /api/sensors/data?runId=&sensorId=&from=&to=&limit=&nextKey=` → `{items, count, nextKey?}`. */
import type { Logger } from '@aws-lambda-powertools/logger';
import { createDocumentClient } from '#shared/aws-clients.ts';
import { requireEnv } from '#shared/config.ts';
import { httpHandler, jsonResponse, queryParam } from '#shared/http.ts';
import { createLogger } from '#shared/powertools.ts';
import { topology } from '#infra/topology.ts';
import { decodeSensorCursor, encodeCursor } from './cursor.ts';
import { parseSensorDataQuery } from './params.ts';
import { DynamoMeasurementQuery, type MeasurementQuery } from '#shared/measurement-query.ts';

export interface SensorQueryDeps {
  logger: Logger;
  measurements: MeasurementQuery;
}

export const makeHandler = (deps: SensorQueryDeps) =>
  httpHandler(deps.logger, async (event) => {
    const query = parseSensorDataQuery((name) => queryParam(event, name));
    deps.logger.appendKeys({
      ...(query.path.kind === 'run' ? { runId: query.path.runId } : {}),
      ...(query.path.sensorId === undefined ? {} : { sensorId: query.path.sensorId }),
    });
    const range = {
      ...(query.from === undefined ? {} : { from: query.from }),
      ...(query.to === undefined ? {} : { to: query.to }),
    };
    const startKey =
      query.nextKey === undefined
        ? undefined
        : decodeSensorCursor(query.nextKey, query.path, range);
    const page = await deps.measurements.page({
      path: query.path,
      ...range,
      limit: query.limit,
      ...(startKey === undefined ? {} : { startKey }),
    });
    return jsonResponse(200, {
      items: page.items,
      count: page.items.length,
      ...(page.lastKey === undefined ? {} : { nextKey: encodeCursor(page.lastKey) }),
    });
  });

/** Production dependencies, built once per container from the environment. */
export const defaultDeps = (env: NodeJS.ProcessEnv = process.env): SensorQueryDeps => {
  const documents = createDocumentClient();
  return {
    logger: createLogger(),
    measurements: new DynamoMeasurementQuery(
      (command) => documents.send(command),
      requireEnv(topology.tables.sensorData.env, env),
    ),
  };
};
