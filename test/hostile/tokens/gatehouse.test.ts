import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { bitFlipTokens, cachedClockCases, clockControls, controls, headerSafe, hostileTokens, type HostileToken } from './hostile-tokens.js';
import { expectRefusals, SERVICE_KEY, startTarget, type HostileSetup, type Refusal } from './target.js';

/** Gatehouse's own checks of access tokens: its Bearer routes and RFC 7662 introspection. */
describe('Gatehouse, given hostile access tokens', () => {
  let setup: HostileSetup;
  let hostile: HostileToken[];
  let flips: HostileToken[];
  let fetchSpy: MockInstance<typeof fetch>;

  beforeAll(async () => {
    fetchSpy = vi.spyOn(globalThis, 'fetch');
    setup = await startTarget();
    hostile = hostileTokens(setup.target);
    flips = bitFlipTokens(setup.target.validToken);
  });
  afterAll(async () => {
    fetchSpy.mockRestore();
    await setup?.close();
  });

  async function get(url: string, token: string): Promise<Refusal & { body: string }> {
    const response = await setup.gatehouse.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
    const { 'content-type': contentType, 'www-authenticate': challenge } = response.headers;
    return {
      status: response.statusCode,
      contentType: typeof contentType === 'string' ? contentType : undefined,
      challenge: typeof challenge === 'string' ? challenge : undefined,
      code: response.statusCode === 200 ? 'accepted' : (response.json() as { code?: unknown }).code,
      body: response.body,
    };
  }

  async function introspect(token: string): Promise<{ status: number; body: unknown }> {
    const response = await setup.gatehouse.app.inject({
      method: 'POST',
      url: '/v1/oauth/introspect',
      headers: { authorization: `Bearer ${SERVICE_KEY}` },
      payload: { token },
    });
    return { status: response.statusCode, body: response.json() };
  }

  /** Every case on one route; those no HTTP client could send in a header go to introspection only. */
  async function refusalsOn(url: string, cases: HostileToken[]): Promise<void> {
    const sendable = cases.filter((hostile) => headerSafe(hostile.token));
    const answers: Refusal[] = [];
    for (const hostile of sendable) answers.push(await get(url, hostile.token));
    expectRefusals(sendable, answers);
  }

  /**
   * Introspection must say exactly {"active":false}. A token over the 4096-character limit of its
   * body is refused as input instead: 400, or 413 once the body passes Gatehouse's 16 KiB limit.
   */
  async function inactiveAtIntrospection(cases: HostileToken[]): Promise<void> {
    const wrong: string[] = [];
    for (const hostile of cases) {
      const { status, body } = await introspect(hostile.token);
      const right =
        hostile.token.length > 4096
          ? [400, 413].includes(status) && ['validation_failed', 'payload_too_large'].includes((body as { code?: unknown }).code as string)
          : status === 200 && JSON.stringify(body) === '{"active":false}';
      if (!right) wrong.push(`${hostile.group}: ${hostile.name} → ${status} ${JSON.stringify(body).slice(0, 200)}`);
    }
    expect(wrong).toEqual([]);
  }

  it('accepts every control token, so each refusal that follows is the doing of the one thing its case changed', async () => {
    for (const control of controls(setup.target)) {
      const answer = await get('/v1/me', control.token);
      expect(answer.status, `${control.name}: ${answer.body}`).toBe(200);
      expect((await introspect(control.token)).body, control.name).toMatchObject({ active: true, token_type: 'Bearer' });
    }
  });

  it('answers 401 with a WWW-Authenticate challenge to every hostile token on GET /v1/me and GET /v1/me/sessions', async () => {
    expect(hostile.length).toBeGreaterThan(200);
    await refusalsOn('/v1/me', hostile);
    await refusalsOn('/v1/me/sessions', hostile);
  });

  it('answers {"active":false} at POST /v1/oauth/introspect to every hostile token but the genuine refresh token', async () => {
    // Introspection describes refresh tokens too (RFC 7662): the real one of a live session is active, as a refresh token.
    const refresh = hostile.find((hostile) => hostile.token === setup.target.refreshToken);
    expect((await introspect(setup.target.refreshToken)).body).toMatchObject({ active: true, token_type: 'refresh_token' });
    await inactiveAtIntrospection(hostile.filter((hostile) => hostile !== refresh));
  });

  it('refuses the genuine token with any one bit of its header, payload or signature flipped, and still accepts it afterwards', async () => {
    expect(flips.length).toBeGreaterThan(2000);
    await refusalsOn('/v1/me', flips);
    await inactiveAtIntrospection(flips);
    expect((await get('/v1/me', setup.target.validToken)).status).toBe(200);
    expect((await introspect(setup.target.validToken)).body).toMatchObject({ active: true });
  });

  it('holds each leeway to the second: a control accepted now is refused when the clock moves one second the wrong way', async () => {
    const clocks = clockControls(setup.target);
    const { clock } = setup.gatehouse;
    const now = clock.now();
    const at = async (offsetSeconds: number, token: string) => {
      clock.set(now + offsetSeconds * 1000);
      const answer = await get('/v1/me', token);
      clock.set(now);
      return answer;
    };
    for (const control of Object.values(clocks)) expect((await at(0, control.token)).status, control.name).toBe(200);
    const late = cachedClockCases(clocks);
    const answers = [];
    for (const c of late) answers.push(await at(c.offsetSeconds, c.token));
    expectRefusals(late, answers);
  });

  it('made no outbound request for any of them: the trap saw no connection and fetch was never called', () => {
    expect(setup.trap.connections).toBe(0);
    expect(fetchSpy).not.toHaveBeenCalled();
  });
});
