/**
 * The digests SQS returns with every message. Clients check them: the AWS SDK v3 for
 * JavaScript verifies MD5OfMessageBody / MD5OfBody, the Java and .NET SDKs also verify
 * MD5OfMessageAttributes, so both must follow AWS's algorithm byte for byte.
 */
import { createHash } from 'node:crypto';

export const md5Hex = (data: string | Uint8Array): string =>
  createHash('md5').update(data).digest('hex');

/** A message (or message system) attribute as SQS stores it. */
export interface StoredAttribute {
  dataType: string;
  stringValue?: string;
  binaryValue?: Uint8Array;
}

/** Transport type byte of the attribute encoding: 1 for String and Number, 2 for Binary. */
const STRING_TRANSPORT = 1;
const BINARY_TRANSPORT = 2;

const lengthPrefixed = (bytes: Uint8Array): Buffer => {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
};

/**
 * AWS's digest of message attributes: attributes sorted by name, each encoded as
 * length-prefixed name, length-prefixed data type, a transport type byte and the
 * length-prefixed value (UTF-8 for strings, raw bytes for binary); MD5 of the concatenation.
 * Returns undefined for no attributes, as SQS then omits the field.
 */
export const md5OfAttributes = (
  attributes: Readonly<Record<string, StoredAttribute>>,
): string | undefined => {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const parts: Buffer[] = [];
  for (const name of names) {
    const attribute = attributes[name];
    if (attribute === undefined) continue;
    parts.push(lengthPrefixed(Buffer.from(name, 'utf8')));
    parts.push(lengthPrefixed(Buffer.from(attribute.dataType, 'utf8')));
    if (attribute.binaryValue !== undefined) {
      parts.push(Buffer.of(BINARY_TRANSPORT), lengthPrefixed(attribute.binaryValue));
    } else {
      parts.push(
        Buffer.of(STRING_TRANSPORT),
        lengthPrefixed(Buffer.from(attribute.stringValue ?? '', 'utf8')),
      );
    }
  }
  return md5Hex(Buffer.concat(parts));
};
