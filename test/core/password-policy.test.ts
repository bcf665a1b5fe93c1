import { describe, expect, it } from 'vitest';
import { acceptNewPassword, normalizePassword, passwordLength } from '../../src/core/password-policy.js';

describe('the password policy', () => {
  it('accepts 8 to 128 characters by default', () => {
    expect(acceptNewPassword('12345678', 8)).toBe('12345678');
    expect(acceptNewPassword('x'.repeat(128), 8)).toHaveLength(128);
  });

  it('refuses fewer than the configured minimum as weak_password', () => {
    expect(() => acceptNewPassword('1234567', 8)).toThrowError(expect.objectContaining({ code: 'weak_password' }));
    expect(() => acceptNewPassword('123456789ab', 12)).toThrowError(expect.objectContaining({ code: 'weak_password' }));
  });

  it('refuses more than 128 characters rather than truncating', () => {
    expect(() => acceptNewPassword('x'.repeat(129), 8)).toThrowError(expect.objectContaining({ code: 'validation_failed' }));
  });

  it('counts characters, not bytes or UTF-16 units', () => {
    expect(passwordLength('🔑🔑🔑🔑🔑🔑🔑🔑')).toBe(8);
    expect(acceptNewPassword('🔑🔑🔑🔑🔑🔑🔑🔑', 8)).toBe('🔑🔑🔑🔑🔑🔑🔑🔑');
  });

  it('normalises compatibility forms so the same passphrase typed differently matches', () => {
    expect(normalizePassword('ｐａｓｓｗｏｒｄ')).toBe('password');
    expect(normalizePassword('caf\u0065\u0301')).toBe(normalizePassword('caf\u00e9'));
  });
});
