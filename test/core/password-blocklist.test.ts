import { describe, expect, it } from 'vitest';
import { blockedPassword as blockedIn, emailWords, wordList } from '../../src/core/password-blocklist.js';
import { commonPasswords } from '../../src/passwords/common-passwords.js';

/** The rule with the server's list of common passwords. */
const blockedPassword = (password: string, context?: { email?: string }) => blockedIn(password, commonPasswords(), context);

describe('a word list', () => {
  it('is matched whole and by what is left once padding is dropped, in NFKC form and lower case', () => {
    const list = wordList(['Quokka', '2fast4u', '']);
    expect(blockedIn('QUOKKA', list)).toEqual({ rule: 'common', exact: true });
    expect(blockedIn('ｑｕｏｋｋａ!!', list)).toEqual({ rule: 'common', exact: false });
    expect(blockedIn('fast4u?', list)).toEqual({ rule: 'common', exact: false });
    expect(blockedIn('wombat', list)).toBeUndefined();
  });
});

describe('the words of an email address', () => {
  it('are the address, its local part with and without separators, its pieces, the domain and its labels but the last', () => {
    expect(emailWords('Ann.Smith@Example.COM')).toEqual(['ann.smith@example.com', 'ann.smith', 'annsmith', 'ann', 'smith', 'example.com', 'example']);
    expect(emailWords('ann+news@mail.example.co.uk')).toEqual([
      'ann+news@mail.example.co.uk',
      'ann+news',
      'annnews',
      'ann',
      'news',
      'mail.example.co.uk',
      'mail',
      'example',
      'co',
    ]);
  });
});

describe('blockedPassword', () => {
  it('names the first rule that matches: the email, then the service name, then the common list', () => {
    expect(blockedPassword('smith', { email: 'ann.smith@example.com' })).toEqual({ rule: 'email', exact: true });
    expect(blockedPassword('smith')).toEqual({ rule: 'common', exact: true });
    expect(blockedPassword('gatehouse!', { email: 'ann@gatehouse.example' })).toEqual({ rule: 'email', exact: false });
    expect(blockedPassword('gatehouse!')).toEqual({ rule: 'service_name', exact: false });
  });

  it('matches a list word that itself carries padding by what is left of it', () => {
    // "2fast4u" is on the list, and "fast4u" is not: it is "2fast4u" give or take a digit.
    expect(blockedPassword('2fast4u')).toEqual({ rule: 'common', exact: true });
    expect(blockedPassword('fast4u!!')).toEqual({ rule: 'common', exact: false });
  });

  it('lets through what is neither a listed word nor one with only padding around it', () => {
    expect(blockedPassword('correct horse battery staple')).toBeUndefined();
    expect(blockedPassword('pass word')).toBeUndefined();
    expect(blockedPassword('83920174')).toBeUndefined();
  });

  it('lets through a short word whose padding is longer than the word: there the padding is the strength', () => {
    expect(blockedPassword('abc 8391 5527 0416')).toBeUndefined();
    expect(blockedPassword('Ann#48213957!', { email: 'ann@example.com' })).toBeUndefined();
    expect(blockedPassword('ann2024!', { email: 'ann@example.com' })).toEqual({ rule: 'email', exact: false });
    expect(blockedPassword('password12345678')).toEqual({ rule: 'common', exact: false });
  });
});
