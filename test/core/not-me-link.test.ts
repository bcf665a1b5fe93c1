import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NOT_ME_PATH, notMeKey, notMeLink, readNotMeToken, type NotMeLinks } from '../../src/core/not-me-link.js';
import { newId } from '../../src/core/random.js';

const SECRET = 'whsec_' + 'k'.repeat(40);
const T0 = Date.parse('2026-11-27T10:41:00Z');
const DAY = 86_400;

const links: NotMeLinks = { key: notMeKey(SECRET), ttlSeconds: 7 * DAY, publicUrl: 'https://auth.example.com' };
const tokenOf = (url: string) => url.slice(`${links.publicUrl}${NOT_ME_PATH}/`.length);

describe('"this wasn\'t me" links', () => {
  it('live on the public address and read back as the event they were made for', () => {
    const eventId = newId();
    const { url, expiresAt } = notMeLink(links, eventId, T0);
    expect(url.startsWith('https://auth.example.com/v1/not-me/')).toBe(true);
    expect(expiresAt).toBe(T0 + 7 * DAY * 1000);
    expect(readNotMeToken(links.key, tokenOf(url), T0)).toEqual({ valid: true, eventId, expired: false });
  });

  it('are the same every time they are built for one event, so a retried notification carries the same link', () => {
    const eventId = newId();
    expect(notMeLink(links, eventId, T0)).toEqual(notMeLink(links, eventId, T0));
  });

  it('work until the last millisecond before their expiry, and not from it on', () => {
    const { url, expiresAt } = notMeLink(links, newId(), T0);
    expect(readNotMeToken(links.key, tokenOf(url), expiresAt - 1)).toMatchObject({ valid: true, expired: false });
    expect(readNotMeToken(links.key, tokenOf(url), expiresAt)).toMatchObject({ valid: true, expired: true });
  });

  it('count whole seconds from a sign-in at any millisecond', () => {
    const { expiresAt } = notMeLink(links, newId(), T0 + 999);
    expect(expiresAt).toBe(T0 + 7 * DAY * 1000);
  });

  it('are not valid once any part is changed: the event id, the expiry or the signature', () => {
    const eventId = newId();
    const [id, expiry, signature] = tokenOf(notMeLink(links, eventId, T0).url).split('.') as [string, string, string];
    const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    expect(readNotMeToken(links.key, `${newId()}.${expiry}.${signature}`, T0)).toEqual({ valid: false });
    expect(readNotMeToken(links.key, `${id}.${Number(expiry) + 86_400 * 365}.${signature}`, T0)).toEqual({ valid: false });
    expect(readNotMeToken(links.key, `${id}.${expiry}.${flip(signature)}`, T0)).toEqual({ valid: false });
  });

  it('say nothing about expiry when forged: the signature is checked first', () => {
    const { url } = notMeLink(links, newId(), T0);
    const [id, expiry] = tokenOf(url).split('.');
    const forged = `${id}.${expiry}.${'A'.repeat(43)}`;
    expect(readNotMeToken(links.key, forged, T0 + 30 * DAY * 1000)).toEqual({ valid: false });
  });

  it('stop working when the webhook secret is rotated', () => {
    const { url } = notMeLink(links, newId(), T0);
    expect(readNotMeToken(notMeKey('whsec_' + 'r'.repeat(40)), tokenOf(url), T0)).toEqual({ valid: false });
  });

  it('are signed with a key of their own, not the webhook secret itself', () => {
    expect(links.key.equals(Buffer.from(SECRET))).toBe(false);
    expect(links.key).toHaveLength(32);
  });

  it('have exactly one spelling: the expiry with a leading zero is refused, whatever it is signed as', () => {
    const [id, expiry, signature] = tokenOf(notMeLink(links, newId(), T0).url).split('.') as [string, string, string];
    // The genuine signature, with the expiry respelled: the same number, another link.
    expect(readNotMeToken(links.key, `${id}.0${expiry}.${signature}`, T0)).toEqual({ valid: false });
    expect(readNotMeToken(links.key, `${id}.00${expiry}.${signature}`, T0)).toEqual({ valid: false });
    // A signature made for the respelled text itself (only the key's holder could make one).
    const signedAsTyped = createHmac('sha256', links.key).update(`${id}.0${expiry}`).digest('base64url');
    expect(readNotMeToken(links.key, `${id}.0${expiry}.${signedAsTyped}`, T0)).toEqual({ valid: false });
    // And the genuine link still works.
    expect(readNotMeToken(links.key, `${id}.${expiry}.${signature}`, T0)).toMatchObject({ valid: true });
  });

  it('refuse malformed tokens without throwing', () => {
    for (const token of [
      '',
      '.',
      'a.b.c',
      `${newId()}.12.short`,
      `${'x'.repeat(65)}.1.${'A'.repeat(43)}`,
      `a.${'9'.repeat(13)}.${'A'.repeat(43)}`,
      `a.0.${'A'.repeat(43)}`,
      `a.+1.${'A'.repeat(43)}`,
      `a.1e9.${'A'.repeat(43)}`,
      'a/b.1.c',
    ]) {
      expect(readNotMeToken(links.key, token, T0)).toEqual({ valid: false });
    }
  });
});
