import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notMeLink, NOT_ME_PATH } from '../../src/core/not-me-link.js';
import type { ClientInfo } from '../../src/core/records.js';
import { inspectReport, reportSignIn } from '../../src/service/report-sign-in.js';
import { registerUser, signIn, startTestGatehouse, type SignedIn, type TestGatehouse } from '../helpers/app.js';
import { DATABASES } from '../helpers/databases.js';
import { instantHasher } from '../helpers/hashers.js';

const DAY = 86_400;
const CLICKER: ClientInfo = {
  ip: '192.0.2.10',
  userAgent: 'curl/8.5.0',
  device: { browser: null, os: null, type: 'other', label: 'curl' },
  country: null,
};

describe.each(DATABASES)('reporting a sign-in ("this wasn\'t me") on %s', (kind) => {
  let t: TestGatehouse;
  beforeAll(async () => {
    t = await startTestGatehouse(kind, { webhookUrl: 'http://127.0.0.1:9/hooks', webhookSecret: 'whsec_' + 's'.repeat(40) }, { hasher: instantHasher() });
  });
  afterAll(() => t.close());

  let users = 0;
  let ips = 0;
  const ctx = () => t.gatehouse.ctx;
  const aUser = async () => {
    const email = `reporter-${++users}@example.com`;
    await registerUser(t.app, email);
    return email;
  };
  /** Signs in and returns the session with the token of its link. */
  async function aSignIn(email: string): Promise<{ session: SignedIn; token: string }> {
    const session = await signIn(t.app, email, { ip: `198.51.100.${++ips % 250}` });
    const events = await ctx().store.listUserEvents(session.user.id, { types: ['signed_in'], limit: 100 });
    const event = events.find((e) => e.sessionId === session.session.id)!;
    const url = notMeLink(ctx().notMeLinks!, event.id, event.at).url;
    return { session, token: url.slice(url.indexOf(NOT_ME_PATH) + NOT_ME_PATH.length + 1) };
  }
  const codeOf = (promise: Promise<unknown>) =>
    promise.then(
      () => 'ok',
      (error: { code?: string }) => error.code,
    );

  it('inspecting describes the sign-in and writes nothing', async () => {
    const email = await aUser();
    const { session, token } = await aSignIn(email);
    const before = await ctx().store.listUserEvents(session.user.id, { limit: 100 });
    const found = await inspectReport(ctx(), token);
    expect(found).toMatchObject({ userId: session.user.id, sessionId: session.session.id, at: t.clock.now(), sessionActive: true });
    expect(found.client?.ip).toBe(session.session.ip);
    expect(await ctx().store.listUserEvents(session.user.id, { limit: 100 })).toEqual(before);
  });

  it('reporting ends the session once, as the user, and inspecting then says the link is used', async () => {
    const email = await aUser();
    const { session, token } = await aSignIn(email);
    expect(await reportSignIn(ctx(), token, CLICKER)).toEqual({ sessionId: session.session.id, revoked: true });
    expect(await ctx().store.findSession(session.session.id)).toMatchObject({ revokedReason: 'reported', revokedBy: session.user.id });
    expect(await codeOf(reportSignIn(ctx(), token, CLICKER))).toBe('link_used');
    expect(await codeOf(inspectReport(ctx(), token))).toBe('link_used');
  });

  it('inspecting finds a use of the link behind many later reports of the same account', async () => {
    const email = await aUser();
    const first = await aSignIn(email);
    const later = [];
    for (let i = 0; i < 60; i++) later.push(await aSignIn(email));
    await reportSignIn(ctx(), first.token, CLICKER);
    t.clock.advance(1); // the later reports come first in history, a page and more of them
    for (const { token } of later.slice(0, 55)) await reportSignIn(ctx(), token, CLICKER);
    expect(await codeOf(inspectReport(ctx(), first.token))).toBe('link_used');
    expect(await codeOf(inspectReport(ctx(), later[55]!.token))).toBe('ok');
  });

  it('checks the signature first, then the expiry, then the use', async () => {
    const email = await aUser();
    const used = await aSignIn(email);
    await reportSignIn(ctx(), used.token, CLICKER);
    t.clock.advance(7 * DAY);
    expect(await codeOf(reportSignIn(ctx(), used.token, CLICKER))).toBe('link_expired');
    expect(await codeOf(inspectReport(ctx(), used.token))).toBe('link_expired');
    const [id, expiry, signature] = used.token.split('.') as [string, string, string];
    const forged = `${id}.${expiry}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    expect(await codeOf(reportSignIn(ctx(), forged, CLICKER))).toBe('not_found');
  });

  it('knows no link at all when no webhook secret is configured', async () => {
    const email = await aUser();
    const { session, token } = await aSignIn(email);
    const withoutLinks = { ...ctx(), notMeLinks: undefined };
    expect(await codeOf(inspectReport(withoutLinks, token))).toBe('not_found');
    expect(await codeOf(reportSignIn(withoutLinks, token, CLICKER))).toBe('not_found');
    expect(await ctx().store.findSession(session.session.id)).toMatchObject({ revokedAt: null });
  });
});
