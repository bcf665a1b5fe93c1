import { emailKey } from '../core/email.js';
import { GatehouseError, isGatehouseError } from '../core/errors.js';
import type { PasswordWork } from '../core/password-hasher.js';
import { assertPasswordText, MAX_PASSWORD_LENGTH, normalizePassword, passwordLength } from '../core/password-policy.js';
import { newId } from '../core/random.js';
import type { ClientInfo, SessionRecord, UserRecord } from '../core/records.js';
import { issueRefreshToken, newRefreshKey } from '../core/refresh-token.js';
import { newSessionTimes } from '../core/session-policy.js';
import type { Caller, ServiceContext } from './context.js';
import { issueAccessToken } from './issue-tokens.js';
import { rehashIfOutdated } from './password-rehash.js';
import { announce } from './sessions.js';
import { deviceKey } from '../core/activity.js';
import { event } from './activity.js';
import { claimAttempt, countSuccess, limitedPasswordCheck, recordPasswordFailure, successOf, type AllowedAttempt } from './sign-in-limits.js';

export interface SignedIn {
  user: UserRecord;
  session: SessionRecord;
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
}

/** One answer for every way a sign-in can fail, so none of them tells an attacker anything. */
const invalidCredentials = () => new GatehouseError('invalid_credentials', 'The email or password is incorrect.');

export async function signIn(ctx: ServiceContext, input: { email: string; password: string }, client: ClientInfo): Promise<SignedIn> {
  // Before anything is counted or hashed: no account can have such a password, and the answer
  // depends on the input alone (password-policy.ts).
  assertPasswordText(input.password, '/body/password');
  const key = emailKey(input.email);
  // Brute-force limits before the password: the attempt counts as a failure from here on (so a
  // burst cannot outrun a limit); a refused one costs no hash and counts nothing.
  const claim = await claimAttempt(ctx, key, client.ip, 'sign-in');
  const user = await checkPassword(ctx, input, client, claim);
  if (ctx.emailVerification === 'required' && user.emailVerifiedAt === null) {
    // Only now that the password was right, so it tells a guesser nothing; and it was a
    // success for the limits, or an owner waiting for the mail would lock themselves out.
    await countSuccess(ctx, key, client.ip, claim);
    ctx.log({ event: 'login_failed', reason: 'email_not_verified', userId: user.id, ip: client.ip });
    throw new GatehouseError('email_not_verified', 'Confirm your email address first: follow the link in the email we sent you, or ask for a new one.');
  }
  const now = ctx.clock.now();
  const id = newId();
  const refreshKey = newRefreshKey();
  const refresh = issueRefreshToken(id, 0, refreshKey);
  const session: SessionRecord = {
    id,
    userId: user.id,
    ...newSessionTimes(ctx.sessions, now),
    revokedAt: null,
    revokedReason: null,
    revokedBy: null,
    client,
    refresh: { hash: refresh.hash, key: refreshKey, generation: 0, rotatedAt: null, previousRotatedAt: null, sealedSuccessor: null },
  };
  const options = {
    replaceSameDevice: ctx.sessions.replaceSameDevice,
    maxSessions: ctx.sessions.maxSessions,
    device: deviceKey(client),
    // Counted a success with the session, in its transaction: a sign-in that lost to a password
    // change (refused below) stays a failure, and one commit instead of three.
    signInSuccess: successOf(key, client.ip, claim),
  };
  const { replaced, evicted, passwordHash } = await writeAgainstVerifiedHash(ctx, user, input.password, async (passwordHash) => ({
    ...(await ctx.store.startSession(session, { ...options, passwordHash }, (outcome) => [
      event(ctx, 'signed_in', {
        userId: user.id,
        sessionId: id,
        actor: user.id,
        client,
        detail: { new_device: outcome.newDevice, ...(outcome.replaced.length > 0 ? { replaced_session_ids: outcome.replaced.map((s) => s.id) } : {}) },
      }),
      ...(outcome.evicted.length > 0
        ? [
            event(ctx, 'sessions_evicted', {
              userId: user.id,
              sessionId: id,
              actor: user.id,
              client,
              detail: { session_ids: outcome.evicted.map((s) => s.id) },
            }),
          ]
        : []),
    ])),
    passwordHash,
  }));
  ctx.log({ event: 'login_succeeded', userId: user.id, sessionId: id, ip: client.ip });
  announce(ctx, user.id, 'replaced', user.id, replaced);
  announce(ctx, user.id, 'session_limit', user.id, evicted);
  await rehashIfOutdated(ctx, user.id, passwordHash, input.password);
  const access = await issueAccessToken(ctx, session, user);
  return { user, session, accessToken: access.token, expiresIn: access.expiresIn, refreshToken: refresh.token };
}

/**
 * Runs `write`, a compare-and-swap on the user's password hash, against the hash the password
 * was verified with. The store refuses it (`invalid_credentials`) when that hash is no longer
 * the user's: a password change won. One more case looks the same: a sign-in at the same
 * moment rehashed an outdated hash (password-rehash.ts). So only when the verified hash was
 * outdated, the stored one is checked against the password once more and `write` retried with
 * it: a rehash still admits the password (as would a change to the same one), a real change not.
 */
export async function writeAgainstVerifiedHash<T>(
  ctx: ServiceContext,
  user: UserRecord,
  password: string,
  write: (verifiedHash: string) => Promise<T>,
): Promise<T> {
  try {
    return await write(user.passwordHash);
  } catch (error) {
    if (!isGatehouseError(error, 'invalid_credentials') || !ctx.hasher.needsRehash(user.passwordHash)) throw error;
    const current = await ctx.store.findUserById(user.id);
    const rehashed = current !== undefined && current.disabledAt === null && current.passwordHash !== user.passwordHash;
    if (!rehashed || !(await passwordMatches(ctx, current, password, 'sign-in'))) throw error;
    return write(current.passwordHash);
  }
}

/** Proves the password again for the caller's session: sensitive actions become possible. */
export async function reauthenticate(ctx: ServiceContext, caller: Caller, password: string, client: ClientInfo): Promise<void> {
  assertPasswordText(password, '/body/password');
  const user = await ctx.store.findUserById(caller.userId);
  const ok =
    user !== undefined &&
    user.disabledAt === null &&
    (await limitedPasswordCheck(ctx, user, client, 'reauth_failed', caller.sessionId, () => passwordMatches(ctx, user, password, 'account')));
  if (!ok) {
    ctx.log({ event: 'reauth_failed', userId: caller.userId, sessionId: caller.sessionId });
    throw invalidCredentials();
  }
  const reauthenticated = event(ctx, 'reauthenticated', { userId: caller.userId, sessionId: caller.sessionId, actor: caller.userId, client });
  if (!(await ctx.store.markReauthenticated(caller.sessionId, ctx.clock.now(), [reauthenticated]))) {
    throw new GatehouseError('session_revoked', 'This session has ended.');
  }
  ctx.log({ event: 'reauth_succeeded', userId: caller.userId, sessionId: caller.sessionId });
}

/**
 * Every path that gets past the limits costs exactly one argon2 verification (a decoy one for an unknown or disabled
 * account, or an over-long password) so the response time does not reveal which emails exist.
 */
async function checkPassword(ctx: ServiceContext, input: { email: string; password: string }, client: ClientInfo, claim: AllowedAttempt): Promise<UserRecord> {
  const user = await ctx.store.findUserByEmail(emailKey(input.email));
  if (!user || user.disabledAt !== null) {
    await ctx.hasher.verifyNothing(normalizePassword(input.password), 'sign-in');
    const reason = user ? 'disabled' : 'unknown_email';
    ctx.log({ event: 'login_failed', reason, userId: user?.id, ip: client.ip });
    await recordPasswordFailure(ctx, user ?? null, client, 'sign_in_failed', reason, null, claim);
    throw invalidCredentials();
  }
  if (!(await passwordMatches(ctx, user, input.password, 'sign-in'))) {
    ctx.log({ event: 'login_failed', reason: 'wrong_password', userId: user.id, ip: client.ip });
    await recordPasswordFailure(ctx, user, client, 'sign_in_failed', 'wrong_password', null, claim);
    throw invalidCredentials();
  }
  return user;
}

export async function passwordMatches(ctx: ServiceContext, user: UserRecord, password: string, work: PasswordWork): Promise<boolean> {
  const normalized = normalizePassword(password);
  // Nothing longer can have been accepted at registration; still pay the full cost.
  if (passwordLength(normalized) > MAX_PASSWORD_LENGTH) return ctx.hasher.verifyNothing(normalized, work);
  // As typed too: a hash imported from another system was made from that (argon2-hasher.ts).
  return ctx.hasher.verify(user.passwordHash, normalized, work, password);
}
