import { describe, expect, it } from 'vitest';
import { asciiDomain, emailKey, parseEmail } from '../../src/core/email.js';

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

  it.each([
    '',
    'plain',
    '@example.com',
    'ann@',
    'ann@example',
    'ann@@example.com',
    'an n@example.com',
    '<ann>@example.com',
    '.ann@example.com',
    'ann.@example.com',
    'a..b@example.com',
    'ann@-example.com',
    'ann@example.c',
    `${'a'.repeat(65)}@example.com`,
    `a@${'b'.repeat(250)}.com`,
    'ann\u0000@example.com',
  ])('refuses %j with validation_failed on /email', (email) => {
    expect(() => parseEmail(email)).toThrowError(
      expect.objectContaining({ code: 'validation_failed', errors: [expect.objectContaining({ pointer: '/email' })] }),
    );
  });

  it.each([
    ['a zero-width space', 'ann\u200b@example.com'],
    ['a zero-width joiner', 'an\u200dn@example.com'],
    ['a right-to-left override', 'ann\u202e@example.com'],
    ['a bidi isolate', '\u2066ann@example.com'],
    ['a soft hyphen', 'an\u00adn@example.com'],
    ['a word joiner', 'ann\u2060@example.com'],
    ['a C1 control (NEL)', 'ann\u0085@example.com'],
    ['a C1 control (CSI)', 'ann\u009b@example.com'],
    ['a C0 control', 'ann\u0007@example.com'],
    ['a lone surrogate', 'ann\ud800@example.com'],
    ['a zero-width space in the domain', 'ann@exa\u200bmple.com'],
  ])('refuses an address with %s, anywhere, with validation_failed', (_what, email) => {
    expect(() => parseEmail(email)).toThrowError(
      expect.objectContaining({
        code: 'validation_failed',
        errors: [{ pointer: '/email', detail: 'must not contain control or invisible characters, such as a zero-width space' }],
      }),
    );
  });

  it('keeps look-alike addresses in other scripts: they are other mailboxes', () => {
    // A Cyrillic а: another address, allowed; only email verification proves ownership.
    const latin = parseEmail('ann@example.com');
    expect(parseEmail('\u0430nn@example.com').key).not.toBe(latin.key);
    const cyrillic = parseEmail('ann@ex\u0430mple.com');
    expect(cyrillic.address).toMatch(/^ann@xn--[a-z0-9-]+\.com$/);
    expect(cyrillic.key).not.toBe(latin.key);
  });
});

describe('email domains', () => {
  it('are stored and compared in their IDNA ASCII form, the local part as typed', () => {
    expect(parseEmail('Zoë@Bücher.example')).toEqual({ address: 'Zoë@xn--bcher-kva.example', key: 'zoë@xn--bcher-kva.example' });
    expect(parseEmail('ann@例え.テスト')).toEqual({ address: 'ann@xn--r8jz45g.xn--zckzah', key: 'ann@xn--r8jz45g.xn--zckzah' });
  });

  it('make the Unicode and the ASCII spelling of one domain one account, for sign-in too', () => {
    const key = parseEmail('ann@bücher.example').key;
    expect(parseEmail('ann@xn--bcher-kva.example').key).toBe(key);
    expect(parseEmail('ANN@BÜCHER.example').key).toBe(key);
    expect(parseEmail('ann@ｂüｃｈｅｒ.example').key).toBe(key); // fullwidth letters, as DNS maps them
    expect(emailKey(' Ann@Bücher.Example ')).toBe(key);
    expect(emailKey('ann@XN--BCHER-KVA.example')).toBe(key);
  });

  it('give sign-in exactly the key that registration stored, for every address registration takes', () => {
    for (const email of ['Ann.Lee@Example.com', 'ümlaut@bücher.de', 'o’brien@example.ie', 'x@xn--bcher-kva.de', 'ann@straße.de', 'ann@ⅷ.example']) {
      expect(emailKey(email)).toBe(parseEmail(email).key);
    }
  });

  it('keep the domain as typed when it is ASCII already, case and all, for display', () => {
    expect(parseEmail('ann@Example.COM').address).toBe('ann@Example.COM');
  });

  it('are only names DNS can look up: no IP address, port, path or % escape gets through the URL parser', () => {
    for (const domain of [
      '1.2.3.44',
      '127.0.0.1',
      '0x7f.1',
      '[::1]',
      'example.com:80',
      'example.com/x',
      'b%C3%BCcher.example',
      'user@example.com',
      'example.-com',
      'xn--zz.com',
      'xn--a.com',
    ]) {
      expect(asciiDomain(domain), domain).toBeUndefined();
      expect(() => parseEmail(`ann@${domain}`), domain).toThrowError(expect.objectContaining({ code: 'validation_failed' }));
    }
  });

  it('are refused when their ASCII form is longer than DNS allows', () => {
    // 60 letters ä: one label of 60 characters, 66 once in ASCII (the limit is 63).
    expect(() => parseEmail(`ann@${'ä'.repeat(60)}.example`)).toThrowError(expect.objectContaining({ code: 'validation_failed' }));
    expect(parseEmail(`ann@${'ä'.repeat(20)}.example`).address).toMatch(/^ann@xn--[a-z0-9-]+\.example$/);
  });

  it('give a key to whatever is typed at sign-in, never throwing: one no account has', () => {
    expect(emailKey('not an email')).toBe('not an email');
    expect(emailKey('ann@1.2.3.44')).toBe('ann@1.2.3.44');
    expect(emailKey('ann\u200b@bücher.example')).toBe('ann\u200b@xn--bcher-kva.example');
  });
});
