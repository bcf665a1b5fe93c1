import { GatehouseError } from './errors.js';
import { blockedPassword, type BlockRule, type WordList } from './password-blocklist.js';
import { patternedPassword, type PatternKind } from './password-patterns.js';

/** The longest password accepted (design: 128); long enough for any passphrase or manager. */
export const MAX_PASSWORD_LENGTH = 128;

/**
 * Passwords are NFKC-normalised before hashing and counting (NIST SP 800-63B 5.1.1.2), so the
 * same passphrase typed on two keyboards that compose characters differently still matches.
 * Length counts Unicode code points, not UTF-16 units or bytes; nothing is ever truncated.
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

export function passwordLength(password: string): number {
  let count = 0;
  for (const _ of password) count++;
  return count;
}

/**
 * A lone UTF-16 surrogate or U+0000 is refused wherever a password comes in, never folded: the
 * hasher takes UTF-8, which turns every lone surrogate into U+FFFD, so "a\uD800" and "a\uFFFD"
 * would be one password; and NUL ends a string for much software (C implementations of bcrypt stop there). The
 * answer depends on the input alone, so at sign-in it says nothing about any account.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what it refuses.
const NOT_TEXT = /[\u0000\p{Cs}]/u;

export function assertPasswordText(password: string, pointer = '/password'): void {
  if (NOT_TEXT.test(password)) {
    throw new GatehouseError('validation_failed', 'The password contains a NUL character or half of a UTF-16 surrogate pair.', [
      { pointer, detail: 'must not contain NUL (U+0000) or an unpaired surrogate (U+D800 to U+DFFF)' },
    ]);
  }
}

/** What a refused password is, said to its owner; never the password or the word it matched. */
const BLOCK_REASONS: Record<BlockRule | PatternKind, string> = {
  email: 'is your email address or a part of it',
  service_name: 'is the name of this service',
  common: 'is one of the 10,000 most common passwords',
  sequence: 'is a run of letters or digits in order, like abcdef, 98765 or 2468',
  repeat: 'repeats a short pattern, like aaaa or abcabc',
  keyboard_walk: 'is a walk along the keyboard, like qwerty or 1q2w3e',
  mixed_patterns: 'is made of runs, repeats and keyboard walks, like aaaa1234 or abcqwerty',
};

/** What a new password is checked against besides itself (a ServiceContext has both). */
export interface NewPasswordRules {
  minPasswordLength: number;
  /** The 10,000 most common passwords, prepared (`wordList`): src/passwords/common-passwords.ts loads them. */
  commonPasswords: WordList;
}

/**
 * Checks a new password against the policy and returns it normalised, ready to hash: text (no
 * NUL, no lone surrogate), 8 (or the configured minimum) to 128 characters, not on the
 * blocklist (password-blocklist.ts, given the account's `email`), not made of patterns
 * (password-patterns.ts), and nothing else: no composition rules (NIST SP 800-63B 5.1.1.2).
 */
export function acceptNewPassword(password: string, rules: NewPasswordRules, pointer = '/password', email?: string): string {
  const minLength = rules.minPasswordLength;
  assertPasswordText(password, pointer);
  const normalized = normalizePassword(password);
  const length = passwordLength(normalized);
  if (length > MAX_PASSWORD_LENGTH) {
    throw new GatehouseError('validation_failed', `The password is longer than ${MAX_PASSWORD_LENGTH} characters.`, [
      { pointer, detail: `must be at most ${MAX_PASSWORD_LENGTH} characters` },
    ]);
  }
  if (length < minLength) {
    throw new GatehouseError('weak_password', `The password must be at least ${minLength} characters long.`, [
      { pointer, detail: `must be at least ${minLength} characters` },
    ]);
  }
  const blocked = blockedPassword(normalized, rules.commonPasswords, { email }) ?? patternedPassword(normalized);
  if (blocked) {
    const reason = BLOCK_REASONS[blocked.rule] + (blocked.exact ? '' : ', give or take digits or symbols at either end');
    throw new GatehouseError('weak_password', `The password is too easy to guess: it ${reason}.`, [{ pointer, detail: reason }]);
  }
  return normalized;
}
