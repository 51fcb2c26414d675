/**
 * Reading stored measurements for `GET /api/sensors/data`. The reader lives in
 * #shared/measurement-query.ts: the run reports (services/run-sweeper) read runs the same way, so
 * both count and order a reading stored in two packs alike.
 */
export {
  BY_SENSOR_INDEX,
  DynamoMeasurementQuery,
  type MeasurementPage,
  type MeasurementPageRequest,
  type MeasurementQuery,
  type SendQuery,
} from '#shared/measurement-query.ts';
