import { describe, expect, it } from 'vitest';
import { callerName, isAdmin, isSafeId, requireRunId, sanitizeUser } from './identity.ts';

describe('sanitizeUser', () => {
  it.each([
    [undefined, 'anonymous'],
    ['', 'anonymous'],
    ['   ', 'anonymous'],
    ['alice', 'alice'],
    ['Zoë Müller', 'Zoë Müller'],
    ['bob@example.com', 'bob@example.com'],
    ['eve\n\u0000<img src=x>', 'eveimg srcx'],
    ['x'.repeat(100), 'x'.repeat(64)],
  ])('%j → %j', (raw, expected) => {
    expect(sanitizeUser(raw)).toBe(expected);
  });
});

describe('ids', () => {
  it('accepts safe ids and refuses others', () => {
    expect(isSafeId('temp-1.a:b_c')).toBe(true);
    for (const bad of ['', 'a b', 'a/b', 'x'.repeat(65), 5, null])
      expect(isSafeId(bad)).toBe(false);
  });

  it('requires lowercase UUID run ids', () => {
    expect(requireRunId('0f8fad5b-d9cb-469f-a165-70867728950e')).toBe(
      '0f8fad5b-d9cb-469f-a165-70867728950e',
    );
    expect(() => requireRunId('0F8FAD5B-D9CB-469F-A165-70867728950E')).toThrow(/runId/);
    expect(() => requireRunId('slot#0', 'id')).toThrow(/id must be/);
  });
});

describe('JWT identity', () => {
  it('takes the user from the token, never from X-User, when a token is present', () => {
    expect(callerName({ username: 'carol', sub: 'abc' }, 'mallory')).toBe('carol');
    expect(callerName({ sub: 'abc-123' }, 'mallory')).toBe('abc-123');
    expect(callerName(undefined, 'dave')).toBe('dave');
  });

  it('recognises the admin group or scope in the forms API Gateway passes', () => {
    expect(isAdmin({ 'cognito:groups': '[admin, users]' })).toBe(true);
    expect(isAdmin({ groups: ['ops', 'admin'] })).toBe(true);
    expect(isAdmin({ scope: 'openid admin' })).toBe(true);
    expect(isAdmin({ scope: 'openid administrator' })).toBe(false);
    expect(isAdmin({ sub: 'x' })).toBe(false);
    expect(isAdmin(undefined)).toBe(false);
  });
});
