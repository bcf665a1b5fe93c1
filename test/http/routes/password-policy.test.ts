import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from '../../helpers/databases.js';
import { bearer, expectProblem, PASSWORD, registerUser, signIn, startTestGatehouse, type TestGatehouse } from '../../helpers/app.js';

describe.each(DATABASES)('the password policy over HTTP on %s', (kind) => {
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
});
