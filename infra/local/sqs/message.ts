/**
 * What SQS accepts as a message: body characters, user attributes and their size rules.
 * Pure functions; the queue and the protocol layer both use them so the in-process API and
 * the HTTP endpoint reject the same messages.
 */
import { invalidMessageContents, invalidParameterValue } from './errors.ts';
import type { JsonObject } from './input.ts';
import type { StoredAttribute } from './md5.ts';

/** The SQS message size limit the brief and the Lambda event path are built around. */
export const MAX_MESSAGE_BYTES = 262_144;
const MAX_ATTRIBUTES = 10;
const MAX_ATTRIBUTE_NAME_LENGTH = 256;

// XML 1.0 characters: what SQS allows in bodies and string attribute values.
const VALID_CHARACTERS = /^[\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;
const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]+$/;
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

export const hasOnlyValidCharacters = (text: string): boolean => VALID_CHARACTERS.test(text);

export const validateBody = (body: string): void => {
  if (body.length === 0) {
    throw invalidParameterValue('The request must contain a non-empty message body.');
  }
  if (!hasOnlyValidCharacters(body)) throw invalidMessageContents();
};

/** Bytes SQS counts against the message size limit: body plus attribute names, types and values. */
export const messageSize = (body: string, attributes: Record<string, StoredAttribute>): number => {
  let bytes = Buffer.byteLength(body, 'utf8');
  for (const [name, attribute] of Object.entries(attributes)) {
    bytes += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(attribute.dataType, 'utf8');
    bytes +=
      attribute.binaryValue !== undefined
        ? attribute.binaryValue.length
        : Buffer.byteLength(attribute.stringValue ?? '', 'utf8');
  }
  return bytes;
};

export const validateSize = (
  body: string,
  attributes: Record<string, StoredAttribute>,
  maximumMessageSize: number,
): void => {
  if (messageSize(body, attributes) > maximumMessageSize) {
    throw invalidParameterValue(
      `One or more parameters are invalid. Reason: Message must be shorter than ${maximumMessageSize} bytes.`,
    );
  }
};

const validateAttributeName = (name: string): void => {
  const lower = name.toLowerCase();
  if (
    name.length > MAX_ATTRIBUTE_NAME_LENGTH ||
    !ATTRIBUTE_NAME.test(name) ||
    name.startsWith('.') ||
    name.endsWith('.') ||
    name.includes('..') ||
    lower.startsWith('aws.') ||
    lower.startsWith('amazon.')
  ) {
    throw invalidParameterValue(`Message (user) attribute name '${name}' is invalid.`);
  }
};

const baseDataType = (dataType: string): 'String' | 'Number' | 'Binary' | undefined => {
  const base = dataType.split('.', 1)[0];
  return base === 'String' || base === 'Number' || base === 'Binary' ? base : undefined;
};

/** Validates one attribute and its value; `name` is only used in messages. */
export const validateAttribute = (name: string, attribute: StoredAttribute): void => {
  const base = baseDataType(attribute.dataType);
  if (base === undefined || attribute.dataType.length > MAX_ATTRIBUTE_NAME_LENGTH) {
    throw invalidParameterValue(
      `The type of message (user) attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`,
    );
  }
  if (base === 'Binary') {
    if (attribute.binaryValue === undefined || attribute.binaryValue.length === 0) {
      throw invalidParameterValue(
        `Message (user) attribute '${name}' must contain a non-empty message attribute value for message attribute type '${attribute.dataType}'.`,
      );
    }
    return;
  }
  const value = attribute.stringValue;
  if (value === undefined || value.length === 0) {
    throw invalidParameterValue(
      `Message (user) attribute '${name}' must contain a non-empty message attribute value for message attribute type '${attribute.dataType}'.`,
    );
  }
  if (!hasOnlyValidCharacters(value)) throw invalidMessageContents();
  if (base === 'Number' && !NUMBER.test(value)) {
    throw invalidParameterValue(`Message (user) attribute '${name}' has an invalid numeric value.`);
  }
};

export const validateMessageAttributes = (attributes: Record<string, StoredAttribute>): void => {
  const names = Object.keys(attributes);
  if (names.length > MAX_ATTRIBUTES) {
    throw invalidParameterValue(
      `Number of message attributes [${names.length}] exceeds the allowed maximum [${MAX_ATTRIBUTES}].`,
    );
  }
  for (const name of names) {
    validateAttributeName(name);
    const attribute = attributes[name];
    if (attribute !== undefined) validateAttribute(name, attribute);
  }
};

/**
 * Reads the wire shape `{ DataType, StringValue | BinaryValue(base64) }`. List values are
 * "reserved for future use" by SQS and rejected as it does.
 */
export const parseAttributeValues = (
  raw: Record<string, JsonObject>,
  kind: 'user' | 'system',
): Record<string, StoredAttribute> => {
  const attributes: Record<string, StoredAttribute> = {};
  for (const [name, value] of Object.entries(raw)) {
    const dataType = value['DataType'];
    const stringValue = value['StringValue'];
    const binaryValue = value['BinaryValue'];
    if (typeof dataType !== 'string' || dataType === '') {
      throw invalidParameterValue(
        `The message (${kind}) attribute '${name}' must contain a DataType.`,
      );
    }
    if (value['StringListValues'] !== undefined || value['BinaryListValues'] !== undefined) {
      throw invalidParameterValue(
        `Message (${kind}) attribute '${name}': StringListValues and BinaryListValues are not supported.`,
      );
    }
    if (stringValue !== undefined && typeof stringValue !== 'string') {
      throw invalidParameterValue(
        `Message (${kind}) attribute '${name}' has a non-string StringValue.`,
      );
    }
    if (binaryValue !== undefined && typeof binaryValue !== 'string') {
      throw invalidParameterValue(
        `Message (${kind}) attribute '${name}' has a malformed BinaryValue.`,
      );
    }
    attributes[name] =
      baseDataType(dataType) === 'Binary'
        ? {
            dataType,
            ...(binaryValue !== undefined && { binaryValue: Buffer.from(binaryValue, 'base64') }),
          }
        : { dataType, ...(stringValue !== undefined && { stringValue }) };
  }
  return attributes;
};

/** The only message system attribute a producer may set is the X-Ray `AWSTraceHeader`. */
export const validateSystemAttributes = (attributes: Record<string, StoredAttribute>): void => {
  for (const [name, attribute] of Object.entries(attributes)) {
    if (name !== 'AWSTraceHeader') {
      throw invalidParameterValue(`Message system attribute name '${name}' is invalid.`);
    }
    if (attribute.dataType !== 'String' || !attribute.stringValue) {
      throw invalidParameterValue(`Message system attribute '${name}' must be a non-empty String.`);
    }
  }
};

export const toWireAttributes = (
  attributes: Record<string, StoredAttribute>,
): Record<string, JsonObject> =>
  Object.fromEntries(
    Object.entries(attributes).map(([name, attribute]) => [
      name,
      {
        DataType: attribute.dataType,
        ...(attribute.stringValue !== undefined && { StringValue: attribute.stringValue }),
        ...(attribute.binaryValue !== undefined && {
          BinaryValue: Buffer.from(attribute.binaryValue).toString('base64'),
        }),
      },
    ]),
  );
