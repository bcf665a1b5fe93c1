import { describe, expect, it } from 'vitest';
import { loggablePath } from '../../../src/http/plugins/request-log.js';

describe('the path in the request log', () => {
  it('leaves out the query string, where careless clients put tokens', () => {
    expect(loggablePath('/v1/me/sessions?access_token=abc')).toBe('/v1/me/sessions');
  });

  it('leaves out the token of a "this wasn’t me" link, which would end a session', () => {
    expect(loggablePath('/v1/not-me/0123abc.1796000000.c2lnbmF0dXJl')).toBe('/v1/not-me/…');
    expect(loggablePath('/v1/not-me/x?y=1')).toBe('/v1/not-me/…');
  });

  it('keeps every other path as it is', () => {
    expect(loggablePath('/v1/me/sessions/abc')).toBe('/v1/me/sessions/abc');
    expect(loggablePath('/v1/not-meaningful')).toBe('/v1/not-meaningful');
  });
});
