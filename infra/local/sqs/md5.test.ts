import { describe, expect, it } from 'vitest';
import { md5Hex, md5OfAttributes } from './md5.ts';

// Reference digests published with AWS's description of the algorithm and reproduced by
// independent SQS implementations; none is computed by the code under test.
describe('md5OfAttributes', () => {
  it('matches the AWS sample with two string attributes, whatever their order', () => {
    const digest = md5OfAttributes({
      test_attribute_name_2: { dataType: 'String', stringValue: 'test_attribute_value_2' },
      test_attribute_name_1: { dataType: 'String', stringValue: 'test_attribute_value_1' },
    });
    expect(digest).toBe('d53f3b558fe951154770f25cb63dbba9');
  });

  it('matches the AWS sample with a binary attribute', () => {
    const digest = md5OfAttributes({
      test_attribute_name: { dataType: 'Binary', binaryValue: Buffer.from('test_attribute_value') },
    });
    expect(digest).toBe('23f6bd27ea87aab7dfeadcc9aebee495');
  });

  it('encodes Number attributes like strings with their own data type', () => {
    const digest = md5OfAttributes({
      ordinal: { dataType: 'Number', stringValue: '1' },
      category: { dataType: 'String', stringValue: 'test' },
    });
    expect(digest).toBe('d21ae90c49061e927f57df5f5d72be1f');
  });

  it('matches the documented single-attribute example', () => {
    const digest = md5OfAttributes({
      SellerName: { dataType: 'String', stringValue: 'Example Store' },
    });
    expect(digest).toBe('cd28f3b68aeee4b2eac9c66f2f694b58');
  });

  it('is undefined without attributes, as SQS omits the field', () => {
    expect(md5OfAttributes({})).toBeUndefined();
  });
});

describe('md5Hex', () => {
  it('digests the UTF-8 bytes of a body', () => {
    expect(md5Hex('hello')).toBe('5d41402abc4b2a76b9719d911017c592');
  });
});
