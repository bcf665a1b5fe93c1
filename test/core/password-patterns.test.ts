import { describe, expect, it } from 'vitest';
import { patternedPassword, patternOf } from '../../src/core/password-patterns.js';

describe('passwords made of patterns', () => {
  it('include the four the security review found: a digit run, a repeat, a keyboard zigzag and a letter run', () => {
    expect(patternedPassword('123456789012')).toEqual({ rule: 'sequence', exact: true });
    expect(patternedPassword('aaaaaaaaaaaa')).toEqual({ rule: 'repeat', exact: true });
    expect(patternedPassword('1q2w3e4r5t6y')).toEqual({ rule: 'keyboard_walk', exact: true });
    expect(patternedPassword('abcdefghijkl')).toEqual({ rule: 'sequence', exact: true });
  });

  it.each(['abcdefgh', 'zyxwvuts', '98765432', '02468', '13579', 'acegikmo', 'ABCDEFGH', 'ＡＢＣＤＥＦＧＨ'])(
    'count %s as a run of letters or digits in order',
    (password) => {
      expect(patternedPassword(password)).toEqual({ rule: 'sequence', exact: true });
    },
  );

  it.each(['xxxxxxxx', 'abababab', 'abcabcabc', 'abcdabcd', '19901990', 'abcabcab', '🔑🔑🔑🔑🔑🔑🔑🔑', 'ääääääää'])(
    'count %s as a repeat of 1 to 4 characters',
    (password) => {
      expect(patternedPassword(password)).toEqual({ rule: 'repeat', exact: true });
    },
  );

  it.each([
    'qwertyuiop', // along a row
    'poiuytrewq', // and back
    'asdfghjkl;',
    'zxcvbnm,./',
    '!@#$%^&*()', // the digit row, shifted
    '1qaz2wsx3edc', // down the columns
    'zaq1xsw2cde3', // up the columns
    '1q2w3e4r5t6y', // zigzag between two rows
    'q1w2e3r4t5',
    'qawsedrftg',
    'azsxdcfvgb',
    'QWERTYUIOP', // in any case
    '147258369', // the numeric keypad
    '159357159',
  ])('count %s as a walk along the keyboard', (password) => {
    expect(patternedPassword(password)).toEqual({ rule: 'keyboard_walk', exact: true });
  });

  it('count pieces of one kind put together as that kind, and of several kinds as mixed', () => {
    expect(patternedPassword('qwerty123456')).toEqual({ rule: 'keyboard_walk', exact: true }); // 123456 is also the digit row
    expect(patternedPassword('abcabc123123')).toEqual({ rule: 'repeat', exact: true });
    expect(patternedPassword('abcdef987654')).toEqual({ rule: 'sequence', exact: true });
    expect(patternedPassword('aaaaqwerty')).toEqual({ rule: 'mixed_patterns', exact: true });
    expect(patternedPassword('zzzz-abcd-qwer')).toEqual({ rule: 'mixed_patterns', exact: true }); // one symbol between pieces
  });

  it('give the simplest reading: a repeat of a run is a repeat, a digit run is a run before it is a walk', () => {
    expect(patternOf('123123123')).toBe('repeat');
    expect(patternOf('123456')).toBe('sequence');
    expect(patternOf('1234567890')).toBe('keyboard_walk'); // 9 then 0 is no run, but it is the row
  });

  it('still count with digits or symbols added at either end, as the blocklist does for words', () => {
    expect(patternedPassword('qwerty2024!')).toEqual({ rule: 'keyboard_walk', exact: false });
    expect(patternedPassword('!!abcdefgh')).toEqual({ rule: 'sequence', exact: false });
    expect(patternedPassword('1q2w3e4r!')).toEqual({ rule: 'keyboard_walk', exact: false });
  });

  it('do not count when the padding is the strength: more than twice the pattern, or 6 characters', () => {
    expect(patternedPassword('abc!8391552')).toBeUndefined();
    expect(patternedPassword('abc#48213957!')).toBeUndefined();
  });

  it('never include a password that merely contains a pattern', () => {
    for (const password of [
      'ann likes 123 walks',
      'correct horse battery staple',
      'qwerty is my keyboard',
      'xyz-Tulpen-1956',
      'quokka-9',
      'aaa plus something else',
    ]) {
      expect(patternedPassword(password)).toBeUndefined();
    }
  });

  it('never include random-looking text, digits or words', () => {
    for (const password of ['k8#Tq2!vLm', '83920174', '4Yc2Lw9oT1uHq7Zs', 'harbourlights', 'Tulpen aus Amsterdam', 'пароль🔑密码', 'x'.repeat(127) + 'y']) {
      expect(patternedPassword(password)).toBeUndefined();
    }
  });

  it('need pieces of at least 3 characters: pairs are what all text is made of', () => {
    expect(patternOf('ab')).toBeUndefined();
    expect(patternOf('abxy')).toBeUndefined(); // two runs of 2
    expect(patternOf('aabbccdd')).toBeUndefined();
    expect(patternOf('abc')).toBe('sequence');
  });

  it('judge passwords of 128 characters made of long or many overlapping pieces', () => {
    for (const password of [
      'a'.repeat(128),
      'ab'.repeat(64),
      'a'.repeat(64) + 'b'.repeat(64),
      ('a'.repeat(20) + '!').repeat(6).slice(0, -1),
      '1q2w3e4r5t6y7u8i9o0p'.repeat(7).slice(0, 128),
    ]) {
      expect(patternOf(password)).toBeDefined();
    }
    expect(patternOf(('x'.repeat(20) + '!').repeat(6) + 'k7#q2z9')).toBeUndefined();
  });
});
