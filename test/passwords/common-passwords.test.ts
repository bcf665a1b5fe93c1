import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMON_PASSWORDS_FILE, commonPasswords, readCommonPasswords } from '../../src/passwords/common-passwords.js';

describe('the list of common passwords', () => {
  it('is the file its licence names, byte for byte', () => {
    const licence = readFileSync(new URL('./common-passwords.LICENSE', COMMON_PASSWORDS_FILE), 'utf8');
    const sha256 = createHash('sha256').update(readFileSync(COMMON_PASSWORDS_FILE)).digest('hex');
    expect(licence).toContain(sha256);
    expect(licence).toContain('MIT License');
    expect(licence).toContain('Copyright (c) 2018 Daniel Miessler');
  });

  it('holds the 10,000 most common passwords, each once', () => {
    const words = readCommonPasswords();
    expect(words).toHaveLength(10_000);
    expect(new Set(words).size).toBe(10_000);
    for (const password of ['123456', 'password', 'qwerty', '12345678', 'aaaaaaaa', 'abcdefgh']) expect(words).toContain(password);
  });

  it('is read once per process, at the first use', () => {
    expect(commonPasswords()).toBe(commonPasswords());
    expect(commonPasswords().whole.has('sunshine')).toBe(true);
  });
});
