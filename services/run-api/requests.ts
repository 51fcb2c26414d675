/**
 * Validation of the run API's request bodies and query strings: pure functions from raw input
 * to typed commands, or a BadRequestError naming every bad field.
 */
import { BadRequestError, type ErrorDetail } from '#shared/errors.ts';
import { isSafeId } from '#shared/identity.ts';
import type { RunStatus } from '#shared/run.ts';

/** Documented bounds of a start request. */
export const START_BOUNDS = {
  /** Seconds; a day at most. */
  duration: { min: 1, max: 86_400 },
  /**
   * Seconds between the simulator's sends, as the front end sends it (`ceil(ms / 1000)`) and
   * shows it (`{{params.interval}}s`); fractions allow high-rate simulators. An hour at most.
   */
  interval: { min: 0.01, max: 3_600 },
  maxSensorIds: 100,
  /** Serialized size of `params` kept with the run. */
  maxParamsBytes: 4096,
} as const;

/** Bytes a run API request body may have. */
export const MAX_RUN_BODY_BYTES = 16 * 1024;

export interface StartCommand {
  duration: number;
  interval: number;
  sensorIds: string[];
  /** What the client sent as `params`, kept for the front end (the run adds its own fields). */
  params: Record<string, unknown>;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const boundedNumber = (
  source: Record<string, unknown>,
  field: string,
  bounds: { min: number; max: number },
  problems: ErrorDetail[],
): number => {
  const value = source[field];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    problems.push({ field, message: 'required, a number' });
  } else if (value < bounds.min || value > bounds.max) {
    problems.push({ field, message: `must be from ${bounds.min} to ${bounds.max}` });
  }
  return value as number;
};

/**
 * `{duration, interval, sensorIds?}` or the same inside `{params: {...}}` (the earlier
 * service's two forms). `params` keeps what the client sent, for the front end.
 */
export const parseStartCommand = (body: unknown): StartCommand => {
  if (!isRecord(body)) throw new BadRequestError('Request body must be a JSON object');
  const source = isRecord(body.params) ? body.params : body;
  const problems: ErrorDetail[] = [];
  const duration = boundedNumber(source, 'duration', START_BOUNDS.duration, problems);
  const interval = boundedNumber(source, 'interval', START_BOUNDS.interval, problems);

  const rawIds = source.sensorIds ?? [];
  let sensorIds: string[] = [];
  if (!Array.isArray(rawIds)) {
    problems.push({ field: 'sensorIds', message: 'must be an array of sensor ids' });
  } else if (rawIds.length > START_BOUNDS.maxSensorIds) {
    problems.push({
      field: 'sensorIds',
      message: `at most ${START_BOUNDS.maxSensorIds} sensor ids`,
    });
  } else {
    rawIds.forEach((id, index) => {
      if (!isSafeId(id)) {
        problems.push({
          field: `sensorIds[${index}]`,
          message: 'letters, digits, _ . : - only; 1 to 64 characters',
        });
      }
    });
    sensorIds = [...new Set(rawIds as string[])];
  }

  const params = isRecord(body.params) ? body.params : {};
  if (Buffer.byteLength(JSON.stringify(params)) > START_BOUNDS.maxParamsBytes) {
    problems.push({ field: 'params', message: `at most ${START_BOUNDS.maxParamsBytes} bytes` });
  }
  if (problems.length > 0) throw new BadRequestError('Invalid run parameters', problems);
  return { duration, interval, sensorIds, params };
};

export interface FinishCommand {
  status: Exclude<RunStatus, 'RUNNING' | 'INTERRUPTED' | 'TIMEOUT'>;
  errorMessage?: string;
  /** The client's note on a run that did not fail (the front end sends `message`). */
  message?: string;
}

export const MAX_ERROR_MESSAGE_LENGTH = 1000;

/** A non-empty string of at most MAX_ERROR_MESSAGE_LENGTH, absent, or a problem. */
const optionalText = (
  value: unknown,
  field: string,
  problems: ErrorDetail[],
): string | undefined => {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string' && value.length <= MAX_ERROR_MESSAGE_LENGTH) return value;
  problems.push({
    field,
    message: `a string of at most ${MAX_ERROR_MESSAGE_LENGTH} characters`,
  });
  return undefined;
};

/**
 * `{status?, errorMessage?, message?}`. SUCCESS is the earlier service's alias of COMPLETED;
 * an `errorMessage` without a status means the run failed. The front end explains itself in
 * `message` (`{status: "FAILED", message: "Simulation abandonée…"}`): on a failure that is the
 * error message (unless `errorMessage` is given too), otherwise it is kept as the run's note.
 */
export const parseFinishCommand = (body: unknown): FinishCommand => {
  if (body === undefined) return { status: 'COMPLETED' };
  if (!isRecord(body)) throw new BadRequestError('Request body must be a JSON object');
  const { status } = body;
  const problems: ErrorDetail[] = [];
  const errorMessage = optionalText(body.errorMessage, 'errorMessage', problems);
  const message = optionalText(body.message, 'message', problems);
  if (
    status !== undefined &&
    status !== null &&
    !['COMPLETED', 'SUCCESS', 'FAILED'].includes(status as string)
  ) {
    problems.push({ field: 'status', message: 'one of COMPLETED, SUCCESS, FAILED' });
  }
  if (problems.length > 0) throw new BadRequestError('Invalid finish request', problems);

  const failed = status === 'FAILED' || (status == null && errorMessage !== undefined);
  if (failed) {
    const reason = errorMessage ?? message;
    return {
      status: 'FAILED',
      ...(reason === undefined ? {} : { errorMessage: reason }),
      ...(message === undefined || message === reason ? {} : { message }),
    };
  }
  return {
    status: 'COMPLETED',
    ...(errorMessage === undefined ? {} : { errorMessage }),
    ...(message === undefined ? {} : { message }),
  };
};

export const PAGE_BOUNDS = { defaultLimit: 20, maxLimit: 100 } as const;

export const parseLimit = (raw: string | undefined): number => {
  if (raw === undefined) return PAGE_BOUNDS.defaultLimit;
  // Digits only, as the description's integer parameter: "5.0", "1e1", "0x10", " 5" are refused.
  const limit = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(limit >= 1 && limit <= PAGE_BOUNDS.maxLimit)) {
    throw new BadRequestError('Invalid limit', [
      { field: 'limit', message: `an integer from 1 to ${PAGE_BOUNDS.maxLimit}` },
    ]);
  }
  return limit;
};
