import { describe, expect, it } from 'vitest';
import { RUN_ID } from './identity.ts';
import { newRunId } from './run-id.ts';

// UUIDv7 layout: https://www.rfc-editor.org/rfc/rfc9562#section-5.7 (48-bit Unix ms timestamp,
// version 7, variant 10, random bits).
describe('run ids', () => {
  it('are lowercase UUIDs of version 7 and the RFC variant, carrying the time they were made', () => {
    const at = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    const id = newRunId(at);
    expect(id).toMatch(RUN_ID);
    expect(id[14]).toBe('7');
    expect('89ab').toContain(id[19]);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
  });

  it('sort by the time they were made, whatever their random part', () => {
    const low = Buffer.alloc(10, 0x00);
    const high = Buffer.alloc(10, 0xff);
    const earlier = newRunId(Date.UTC(2026, 0, 1), high);
    const later = newRunId(Date.UTC(2026, 0, 1) + 1, low);
    expect([later, earlier].sort()).toEqual([earlier, later]);
  });

  it('differ when made in the same millisecond', () => {
    const at = Date.now();
    expect(newRunId(at)).not.toBe(newRunId(at));
  });
});
