import { describe, expect, it } from 'vitest';
import { emailKey, parseEmail } from '../../src/core/email.js';

describe('email addresses', () => {
  it('are trimmed and keep their case for display', () => {
    expect(parseEmail('  Ann.Lee@Example.com\t')).toEqual({ address: 'Ann.Lee@Example.com', key: 'ann.lee@example.com' });
  });

  it('compare case-insensitively through their key', () => {
    expect(emailKey(' ANN@example.COM ')).toBe(parseEmail('ann@Example.com').key);
  });

  it('compare composed and decomposed accents as one', () => {
    expect(emailKey('jose\u0301@example.com')).toBe(emailKey('jos\u00e9@example.com'));
  });

  it.each(['ann+tag@example.com', 'o’brien@example.ie', 'user@sub.example.co.uk', 'ümlaut@bücher.de', 'x@xn--bcher-kva.de'])('accepts %s', (email) => {
    expect(() => parseEmail(email)).not.toThrow();
  });

  it.each(['', 'plain', '@example.com', 'ann@', 'ann@example', 'ann@@example.com', 'an n@example.com', '<ann>@example.com', '.ann@example.com', 'ann.@example.com', 'a..b@example.com', 'ann@-example.com', 'ann@example.c', `${'a'.repeat(65)}@example.com`, `a@${'b'.repeat(250)}.com`, 'ann\u0000@example.com'])(
    'refuses %j with validation_failed on /email',
    (email) => {
      expect(() => parseEmail(email)).toThrowError(expect.objectContaining({ code: 'validation_failed', errors: [expect.objectContaining({ pointer: '/email' })] }));
    },
  );
});
