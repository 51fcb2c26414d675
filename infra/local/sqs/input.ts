/**
 * Readers for the JSON request bodies of the SQS protocol. The SDK validates little on the
 * client side, so wrong or missing members surface here as the errors SQS itself returns.
 */
import { invalidParameterValue, missingParameter } from './errors.ts';

export type JsonObject = Record<string, unknown>;

export const isJsonObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const optionalString = (input: JsonObject, name: string): string | undefined => {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw invalidParameterValue(`Value for parameter ${name} must be a string.`);
  }
  return value;
};

export const requiredString = (input: JsonObject, name: string): string => {
  const value = optionalString(input, name);
  if (value === undefined) throw missingParameter(name);
  return value;
};

export const optionalInteger = (
  input: JsonObject,
  name: string,
  bounds: { min: number; max: number },
): number | undefined => {
  const raw = input[name];
  if (raw === undefined || raw === null) return undefined;
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < bounds.min ||
    value > bounds.max
  ) {
    throw invalidParameterValue(
      `Value ${String(raw)} for parameter ${name} is invalid. Reason: Must be between ${bounds.min} and ${bounds.max}, if provided.`,
    );
  }
  return value;
};

export const requiredInteger = (
  input: JsonObject,
  name: string,
  bounds: { min: number; max: number },
): number => {
  const value = optionalInteger(input, name, bounds);
  if (value === undefined) throw missingParameter(name);
  return value;
};

export const optionalStringList = (input: JsonObject, name: string): string[] => {
  const value = input[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw invalidParameterValue(`Value for parameter ${name} must be a list of strings.`);
  }
  return value as string[];
};

export const optionalStringMap = (input: JsonObject, name: string): Record<string, string> => {
  const value = input[name];
  if (value === undefined || value === null) return {};
  if (!isJsonObject(value) || !Object.values(value).every((item) => typeof item === 'string')) {
    throw invalidParameterValue(`Value for parameter ${name} must be a map of strings.`);
  }
  return value as Record<string, string>;
};

export const optionalObjectMap = (input: JsonObject, name: string): Record<string, JsonObject> => {
  const value = input[name];
  if (value === undefined || value === null) return {};
  if (!isJsonObject(value) || !Object.values(value).every(isJsonObject)) {
    throw invalidParameterValue(`Value for parameter ${name} must be a map of structures.`);
  }
  return value as Record<string, JsonObject>;
};

/** The `Entries` of a batch request; an absent list is an empty batch. */
export const entryList = (input: JsonObject): JsonObject[] => {
  const value = input['Entries'];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every(isJsonObject)) {
    throw invalidParameterValue('Value for parameter Entries must be a list of structures.');
  }
  return value;
};
