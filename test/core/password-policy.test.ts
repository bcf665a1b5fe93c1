import { describe, expect, it } from 'vitest';
import { acceptNewPassword, normalizePassword, passwordLength, type NewPasswordRules } from '../../src/core/password-policy.js';
import { commonPasswords } from '../../src/passwords/common-passwords.js';

/** The policy's rules with the server's list of common passwords and a minimum length of `min`. */
const rules = (min: number): NewPasswordRules => ({ minPasswordLength: min, commonPasswords: commonPasswords() });

/** The field error a refused password gets, or undefined when it is accepted. */
function refusal(password: string, email?: string): { code: string; detail: string | undefined; field: string | undefined } | undefined {
  try {
    acceptNewPassword(password, rules(8), '/body/password', email);
    return undefined;
  } catch (error) {
    const e = error as { code: string; detail?: string; errors?: Array<{ pointer: string; detail: string }> };
    expect(e.errors?.[0]?.pointer).toBe('/body/password');
    return { code: e.code, detail: e.detail, field: e.errors?.[0]?.detail };
  }
}

const COMMON = 'is one of the 10,000 most common passwords';
const SERVICE = 'is the name of this service';
const EMAIL = 'is your email address or a part of it';
const PADDED = ', give or take digits or symbols at either end';

describe('the password policy', () => {
  it('accepts 8 to 128 characters by default', () => {
    expect(acceptNewPassword('quokka-9', rules(8))).toBe('quokka-9');
    const long = 'quokka mornings, '.repeat(8).slice(0, 128);
    expect(acceptNewPassword(long, rules(8))).toHaveLength(128);
  });

  it('refuses fewer than the configured minimum as weak_password', () => {
    expect(() => acceptNewPassword('1234567', rules(8))).toThrowError(expect.objectContaining({ code: 'weak_password' }));
    expect(() => acceptNewPassword('quokka-9ab', rules(12))).toThrowError(expect.objectContaining({ code: 'weak_password' }));
  });

  it('refuses more than 128 characters rather than truncating', () => {
    expect(() => acceptNewPassword('x'.repeat(129), rules(8))).toThrowError(expect.objectContaining({ code: 'validation_failed' }));
  });

  it('counts characters, not bytes or UTF-16 units', () => {
    expect(passwordLength('🔑🐢🌵🎻🔑🐢🌵🦉')).toBe(8);
    expect(acceptNewPassword('🔑🐢🌵🎻🔑🐢🌵🦉', rules(8))).toBe('🔑🐢🌵🎻🔑🐢🌵🦉');
  });

  it('normalises compatibility forms so the same passphrase typed differently matches', () => {
    expect(normalizePassword('ｐａｓｓｗｏｒｄ')).toBe('password');
    expect(normalizePassword('caf\u0065\u0301')).toBe(normalizePassword('caf\u00e9'));
  });

  it('requires no mix of character classes: a long lower-case passphrase is fine', () => {
    expect(refusal('correct horse battery staple')).toBeUndefined();
    expect(refusal('lowercase letters only here')).toBeUndefined();
  });

  it('refuses a lone UTF-16 surrogate or NUL as validation_failed instead of storing it as U+FFFD', () => {
    for (const password of ['quokka mornings \uD800', 'quokka \uDFFF mornings', '\uDC00quokka mornings', 'quokka mornings\u0000']) {
      expect(refusal(password)).toEqual({
        code: 'validation_failed',
        detail: 'The password contains a NUL character or half of a UTF-16 surrogate pair.',
        field: 'must not contain NUL (U+0000) or an unpaired surrogate (U+D800 to U+DFFF)',
      });
    }
    // A whole pair is one character like any other, and U+FFFD itself is text.
    expect(refusal('quokka mornings \uD83D\uDD11')).toBeUndefined();
    expect(refusal('quokka mornings \uFFFD')).toBeUndefined();
  });
});

describe('passwords made of patterns, in the policy', () => {
  const RUN = 'is a run of letters or digits in order, like abcdef, 98765 or 2468';
  const REPEAT = 'repeats a short pattern, like aaaa or abcabc';
  const WALK = 'is a walk along the keyboard, like qwerty or 1q2w3e';
  const MIXED = 'is made of runs, repeats and keyboard walks, like aaaa1234 or abcqwerty';

  it('refuses runs, repeats and keyboard walks that are on no list as weak_password, saying what they are', () => {
    expect(refusal('123456789012')).toEqual({ code: 'weak_password', detail: `The password is too easy to guess: it ${RUN}.`, field: RUN });
    expect(refusal('aaaaaaaaaaaa')?.field).toBe(REPEAT);
    expect(refusal('abcdefghijkl')?.field).toBe(RUN);
    expect(refusal('1q2w3e4r5t6y7u')?.field).toBe(WALK);
  });

  it('refuses pieces put together, and patterns with digits or symbols added at either end', () => {
    expect(refusal('xyzxyz789789')?.field).toBe(REPEAT);
    expect(refusal('1qaz2wsx3edc4rfv')?.field).toBe(WALK);
    expect(refusal('zzzz-abcd-qwer')?.field).toBe(MIXED);
    expect(refusal('Zaq1Xsw2Cde3!!')?.field).toBe(WALK + PADDED);
  });

  it('keeps the blocklist first: a common password is said to be one', () => {
    expect(refusal('1q2w3e4r5t6y')?.field).toBe(COMMON);
    expect(refusal('qwerty123')?.field).toBe(COMMON);
    expect(refusal('12345678')?.field).toBe(COMMON);
  });

  it('accepts a passphrase that only contains a pattern', () => {
    expect(refusal('ann likes 123 walks')).toBeUndefined();
    expect(refusal('qwerty was my first keyboard')).toBeUndefined();
  });
});

describe('the password blocklist', () => {
  it('refuses one of the 10,000 most common passwords, saying so without echoing it', () => {
    expect(refusal('sunshine')).toEqual({ code: 'weak_password', detail: `The password is too easy to guess: it ${COMMON}.`, field: COMMON });
    expect(refusal('iloveyou')?.field).toBe(COMMON);
    expect(refusal('trustno1')?.field).toBe(COMMON);
  });

  it('refuses a common password in any mix of upper and lower case', () => {
    for (const password of ['Sunshine', 'SUNSHINE', 'sUnShInE', 'PassWord', 'Football']) expect(refusal(password)?.field).toBe(COMMON);
  });

  it('refuses a common password with digits, punctuation or symbols added at either end', () => {
    for (const password of ['sunshine2024', 'Sunshine2024!', '!!sunshine', '2024-sunshine-2024', ' monkey!! ', '🔑football🔑']) {
      expect(refusal(password)?.field).toBe(COMMON + PADDED);
    }
  });

  it('does not look inside a passphrase, or at fewer than 3 letters left between digits', () => {
    expect(refusal('my sunshine is yellow today')).toBeUndefined();
    expect(refusal('sunshine on a rainy day')).toBeUndefined();
    expect(refusal('8392017x')).toBeUndefined();
  });

  it('refuses the name of the product, alone or padded, in any case', () => {
    expect(refusal('gatehouse')?.field).toBe(SERVICE);
    expect(refusal('GateHouse')?.field).toBe(SERVICE);
    expect(refusal('gatehouse123!')?.field).toBe(SERVICE + PADDED);
    expect(refusal('#Gatehouse2025')?.field).toBe(SERVICE + PADDED);
  });

  it('refuses the email address and its parts, alone or padded', () => {
    const email = 'Ann.Lindqvist@Harbourlight.org';
    for (const password of ['ann.lindqvist@harbourlight.org', 'ann.lindqvist', 'AnnLindqvist', 'lindqvist', 'harbourlight', 'harbourlight.org']) {
      expect(refusal(password, email)?.field).toBe(EMAIL);
    }
    for (const password of ['Lindqvist1990', 'ann12345', 'harbourlight!!', '2024annlindqvist']) {
      expect(refusal(password, email)?.field).toBe(EMAIL + PADDED);
    }
  });

  it('refuses email parts only for the account they belong to, and never the top-level domain', () => {
    expect(refusal('Lindqvist1990')).toBeUndefined();
    expect(refusal('Lindqvist1990', 'bo@example.com')).toBeUndefined();
    expect(refusal('org12345678', 'ann.lindqvist@harbourlight.org')).toBeUndefined();
    expect(refusal('the lindqvist family tree', 'ann.lindqvist@harbourlight.org')).toBeUndefined();
  });

  it('accepts a good passphrase', () => {
    expect(refusal('correct horse battery staple', 'ann.lindqvist@harbourlight.org')).toBeUndefined();
    expect(refusal('Tulpen aus Amsterdam, 1956!', 'ann.lindqvist@harbourlight.org')).toBeUndefined();
  });
});

describe('NFKC normalisation in the policy', () => {
  it('judges the length of the normal form: what is hashed is what is counted', () => {
    // U+FB03 (ﬃ) is one code point and becomes "ffi": 6 typed, 8 stored.
    expect(acceptNewPassword('\uFB03xyzab', rules(8))).toBe('ffixyzab');
    // "e" + combining acute accent composes to "é": 8 typed, 7 stored.
    expect(() => acceptNewPassword('cafe\u0301123', rules(8))).toThrowError(expect.objectContaining({ code: 'weak_password' }));
  });

  it('refuses a compatibility form of a blocked word as that word', () => {
    expect(refusal('ｐａｓｓｗｏｒｄ')?.field).toBe(COMMON); // fullwidth letters
    expect(refusal('①②③④⑤⑥⑦⑧')?.field).toBe(COMMON); // circled digits: 12345678
    expect(refusal('ＧＡＴＥＨＯＵＳＥ')?.field).toBe(SERVICE);
    expect(refusal('ｌｉｎｄｑｖｉｓｔ', 'ann.lindqvist@harbourlight.org')?.field).toBe(EMAIL);
  });
});
