import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTP_DATABASES } from '../../helpers/databases.js';
import { bearer, expectProblem, PASSWORD, registerUser, signIn, startTestGatehouse, type TestGatehouse } from '../../helpers/app.js';

describe.each(HTTP_DATABASES)('the password policy over HTTP on %s', (kind) => {
  let t: TestGatehouse;
  beforeAll(async () => {
    t = await startTestGatehouse(kind);
  });
  afterAll(() => t.close());

  const register = (email: string, password: string) => t.app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password } });

  /** Asserts a 400 weak_password on `pointer` saying `reason`, without the password anywhere in it. */
  function expectWeak(response: Awaited<ReturnType<typeof register>>, pointer: string, reason: string, password: string): void {
    expectProblem(response, 400, 'weak_password');
    expect(response.json().errors).toEqual([{ pointer, detail: expect.stringContaining(reason) }]);
    expect(response.json().detail).toContain(reason);
    // (The body's `type` URN says "gatehouse" whatever the password, so only the texts are searched.)
    const { detail, errors } = response.json();
    expect(JSON.stringify({ detail, errors }).toLowerCase()).not.toContain(password.normalize('NFKC').toLowerCase());
  }

  describe('POST /v1/auth/register', () => {
    it('refuses one of the most common passwords, in any case, and creates no account', async () => {
      for (const password of ['iloveyou', 'ILoveYou', 'Sunshine2024!']) {
        expectWeak(await register('common@example.com', password), '/body/password', 'is one of the 10,000 most common passwords', password);
      }
      await registerUser(t.app, 'common@example.com'); // the email is still free
    });

    it('refuses the name of the product, alone or with digits and symbols around it', async () => {
      for (const password of ['gatehouse', 'Gatehouse123!']) {
        expectWeak(await register('product@example.com', password), '/body/password', 'is the name of this service', password);
      }
    });

    it('refuses the email address or its parts, alone or padded', async () => {
      for (const password of ['ann.lindqvist@harbourlight.org', 'Lindqvist1990', 'harbourlight!!', 'ann.lindqvist']) {
        expectWeak(await register('Ann.Lindqvist@Harbourlight.org', password), '/body/password', 'is your email address or a part of it', password);
      }
    });

    it('refuses a compatibility form (fullwidth letters) of a common password as that password', async () => {
      expectWeak(await register('fullwidth@example.com', 'ＰＡＳＳＷＯＲＤ１２３'), '/body/password', 'most common passwords', 'password123');
    });

    it('refuses passwords made of runs, repeats or keyboard walks, saying which, in words a person understands', async () => {
      for (const [password, reason] of [
        ['123456789012', 'is a run of letters or digits in order, like abcdef, 98765 or 2468'],
        ['abcdefghijkl', 'is a run of letters or digits in order, like abcdef, 98765 or 2468'],
        ['aaaaaaaaaaaa', 'repeats a short pattern, like aaaa or abcabc'],
        ['1q2w3e4r5t6y7u', 'is a walk along the keyboard, like qwerty or 1q2w3e'],
        ['Zaq1Xsw2Cde3!!', 'is a walk along the keyboard, like qwerty or 1q2w3e, give or take digits or symbols at either end'],
      ] as const) {
        expectWeak(await register('patterns@example.com', password), '/body/password', reason, password);
      }
      await registerUser(t.app, 'patterns@example.com', 'ann likes 123 walks'); // a pattern inside is fine
    });

    it('accepts a good passphrase, which then signs in', async () => {
      await registerUser(t.app, 'ann.lindqvist@harbourlight.org', 'harbour lights at dusk, 1956');
      await signIn(t.app, 'ann.lindqvist@harbourlight.org', { password: 'harbour lights at dusk, 1956' });
    });

    it('stores the NFKC form: a password registered in fullwidth signs in typed in ASCII', async () => {
      await registerUser(t.app, 'nfkc@example.com', 'ｑｕｏｋｋａ ｍｏｒｎｉｎｇｓ');
      await signIn(t.app, 'nfkc@example.com', { password: 'quokka mornings' });
    });
  });

  describe('POST /v1/me/password', () => {
    it('refuses a blocked new password on /body/new_password and keeps the current one', async () => {
      await registerUser(t.app, 'liv.okafor@example.com');
      const { access_token: token } = await signIn(t.app, 'liv.okafor@example.com');
      for (const [password, reason] of [
        ['Okafor2024!', 'is your email address or a part of it'],
        ['gatehouse!', 'is the name of this service'],
        ['qwerty123', 'is one of the 10,000 most common passwords'],
      ] as const) {
        const response = await t.app.inject({
          method: 'POST',
          url: '/v1/me/password',
          headers: bearer(token),
          payload: { current_password: PASSWORD, new_password: password },
        });
        expectWeak(response, '/body/new_password', reason, password);
      }
      await signIn(t.app, 'liv.okafor@example.com', { ip: '198.51.100.9' });
    });
  });

  describe('a NUL or a lone UTF-16 surrogate in a password', () => {
    const login = (email: string, password: string) =>
      t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password }, remoteAddress: '203.0.113.50' });

    function expectNotText(response: Awaited<ReturnType<typeof register>>, pointer: string): void {
      expectProblem(response, 400, 'validation_failed');
      expect(response.json().errors).toEqual([{ pointer, detail: 'must not contain NUL (U+0000) or an unpaired surrogate (U+D800 to U+DFFF)' }]);
    }

    it('is refused at registration with validation_failed, and no account is made', async () => {
      for (const password of ['quokka mornings \uD800', 'quokka mornings \u0000'])
        expectNotText(await register('not-text@example.com', password), '/body/password');
      await registerUser(t.app, 'not-text@example.com'); // the email is still free
    });

    it('never stands in for U+FFFD: an account whose password has one cannot be signed in to with a lone surrogate', async () => {
      await registerUser(t.app, 'replacement@example.com', 'quokka mornings \uFFFD');
      expectNotText(await login('replacement@example.com', 'quokka mornings \uD800'), '/body/password');
      await signIn(t.app, 'replacement@example.com', { password: 'quokka mornings \uFFFD' });
    });

    it('is refused at sign-in before anything is counted, so it cannot lock an account', async () => {
      await registerUser(t.app, 'uncounted@example.com');
      for (let i = 0; i < 12; i++) expectNotText(await login('uncounted@example.com', `guess ${i} \uDC00`), '/body/password');
      const history = await t.app.inject({
        method: 'GET',
        url: '/v1/me/activity',
        headers: bearer((await signIn(t.app, 'uncounted@example.com')).access_token),
      });
      expect(history.json().events.map((e: { type: string }) => e.type)).not.toContain('sign_in_failed');
    });

    it('is refused at reauthentication and password change, on the field that has it', async () => {
      await registerUser(t.app, 'changer@example.com');
      const { access_token: token } = await signIn(t.app, 'changer@example.com');
      const reauth = await t.app.inject({ method: 'POST', url: '/v1/auth/reauth', headers: bearer(token), payload: { password: 'x\uD800' } });
      expectNotText(reauth, '/body/password');
      const change = (current: string, next: string) =>
        t.app.inject({ method: 'POST', url: '/v1/me/password', headers: bearer(token), payload: { current_password: current, new_password: next } });
      expectNotText(await change('x\u0000', 'a brand new passphrase'), '/body/current_password');
      expectNotText(await change(PASSWORD, 'a brand new passphrase \uDBFF'), '/body/new_password');
      await signIn(t.app, 'changer@example.com', { ip: '198.51.100.77' }); // the password is unchanged
    });
  });
});
