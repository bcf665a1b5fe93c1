import { isIP } from 'node:net';
import { parseEmail, type Email } from '../core/email.js';
import { GatehouseError } from '../core/errors.js';
import { newId } from '../core/random.js';
import type { ClientInfo } from '../core/records.js';
import { issueRefreshToken, newRefreshKey } from '../core/refresh-token.js';
import { SECOND } from '../core/clock.js';
import { clampUserAgent, describeDevice } from '../device/describe-device.js';
import type { Locator } from '../geo/locator.js';
import { isBcryptHash, isVerifiableBcryptHash } from '../passwords/bcrypt.js';
import type { NewSession, NewUser } from '../storage/store.js';
import type { SourceLogin, SourceUser } from './source-reader.js';

/** What decides which users and logins come over, and how. Each rule is in README, "Moving from Express + Sequelize". */

export const USER_SKIP_REASONS = [
  'deleted_in_source',
  'invalid_email',
  'duplicate_email',
  'no_password',
  'unsupported_password_hash',
  'password_hash_too_costly',
  'email_taken',
] as const;
export type UserSkipReason = (typeof USER_SKIP_REASONS)[number];

export const SESSION_SKIP_REASONS = ['revoked', 'expired', 'blacklisted', 'beyond_session_limit', 'user_skipped'] as const;
export type SessionSkipReason = (typeof SESSION_SKIP_REASONS)[number];

/** Gatehouse's session limits, which imported logins are held to like any session. */
export interface ImportPolicy {
  idleTtlSeconds: number;
  maxAgeSeconds: number;
  /** 0: no cap. */
  maxSessions: number;
}

/** The same limit on names as registration's (service/register.ts). */
const MAX_NAME_LENGTH = 100;

/**
 * Whether a source user can become an account, checked in this order. `takenKeys`: email keys
 * with a Gatehouse account; `duplicateKeys`: keys more than one source user has.
 */
export function checkUser(user: SourceUser, duplicateKeys: Set<string>, takenKeys: Set<string>): { email: Email } | { skip: UserSkipReason } {
  if (user.deleted) return { skip: 'deleted_in_source' };
  const email = emailOf(user);
  if (!email) return { skip: 'invalid_email' };
  if (duplicateKeys.has(email.key)) return { skip: 'duplicate_email' };
  const problem = passwordHashProblem(user.passwordHash);
  if (problem) return { skip: problem };
  if (takenKeys.has(email.key)) return { skip: 'email_taken' };
  return { email };
}

/**
 * Why a source user's hash cannot be their password here, if it cannot: the rule for a first
 * import and for a hash changed in the source since (run-import.ts), so that neither lets in a
 * hash sign-in would not verify.
 */
export function passwordHashProblem(hash: string | null): 'no_password' | 'unsupported_password_hash' | 'password_hash_too_costly' | undefined {
  if (hash === null || hash.trim() === '') return 'no_password';
  // Only bcrypt is verified (src/passwords/bcrypt.ts); anything else would lock its owner out.
  if (!isBcryptHash(hash)) return 'unsupported_password_hash';
  // Sign-in refuses to verify it (a worker held for seconds per attempt): its owner resets the password.
  if (!isVerifiableBcryptHash(hash)) return 'password_hash_too_costly';
  return undefined;
}

/** The address as registration would take it, or undefined when registration would refuse it. */
export function emailOf(user: SourceUser): Email | undefined {
  if (user.email === null) return undefined;
  try {
    return parseEmail(user.email);
  } catch (error) {
    if (error instanceof GatehouseError) return undefined;
    throw error;
  }
}

/** The account: a new random id (source ids are counters, which Gatehouse never shows), role `user`. */
export function newUserFrom(user: SourceUser & { passwordHash: string }, email: Email, now: number): NewUser {
  return {
    id: newId(),
    email: email.address,
    emailKey: email.key,
    name: cleanName(user.name),
    // The bcrypt hash as it is: verified at the owner's next sign-in, then replaced by argon2id.
    passwordHash: user.passwordHash,
    role: 'user',
    createdAt: user.createdAt?.getTime() ?? now,
  };
}

/** Control characters go (they only ever spoof text around a name), and the rest is cut to registration's limit. */
function cleanName(name: string | null): string | null {
  const cleaned = (name ?? '')
    .normalize('NFC')
    .replace(/[\p{Cc}\s]+/gu, ' ')
    .trim();
  return cleaned === '' ? null : Array.from(cleaned).slice(0, MAX_NAME_LENGTH).join('').trim();
}

export interface LoginVerdicts {
  /** Most recently active first. */
  sessions: SourceLogin[];
  skipped: Partial<Record<SessionSkipReason, number>>;
}

/**
 * Which of a user's candidate logins become sessions: those that would still be alive had
 * Gatehouse made them (idle expiry from the last update, absolute expiry from the sign-in),
 * that the old app did not mark expired, and whose token is not on its blacklist; with a cap on
 * sessions, the most recently active. Already-imported ones are the caller's to leave out.
 */
export function checkLogins(logins: SourceLogin[], policy: ImportPolicy, now: number, blacklisted: Set<string>): LoginVerdicts {
  const skipped: Partial<Record<SessionSkipReason, number>> = {};
  const count = (reason: SessionSkipReason) => (skipped[reason] = (skipped[reason] ?? 0) + 1);
  const alive: SourceLogin[] = [];
  for (const login of logins) {
    const times = sessionTimes(login, policy, now);
    if (login.tokenExpired || times.idleExpiresAt <= now || times.expiresAt <= now) count('expired');
    else if (login.tokenId !== null && blacklisted.has(login.tokenId)) count('blacklisted');
    else alive.push(login);
  }
  alive.sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime() || b.createdAt.getTime() - a.createdAt.getTime());
  const cap = policy.maxSessions > 0 ? policy.maxSessions : Infinity;
  for (const _ of alive.slice(cap)) count('beyond_session_limit');
  return { sessions: alive.slice(0, cap), skipped };
}

/**
 * The login as a session: its address, device and country, its times. Its refresh token is
 * random and thrown away at once: the old app's client holds a JWT, which Gatehouse does not
 * accept, so nobody can use this session. It is there so that its owner sees where they were
 * signed in (and can end it), and it ends by its own expiry like any other.
 */
export function sessionFrom(login: SourceLogin, userId: string, policy: ImportPolicy, now: number, locator: Locator): NewSession {
  const id = newId();
  const refreshKey = newRefreshKey();
  const { hash } = issueRefreshToken(id, 0, refreshKey);
  return {
    id,
    userId,
    ...sessionTimes(login, policy, now),
    client: clientOf(login.userAgent, login.ip, locator),
    refresh: { hash, key: refreshKey, generation: 0, rotatedAt: null, previousRotatedAt: null, sealedSuccessor: null },
  };
}

function sessionTimes(login: SourceLogin, policy: ImportPolicy, now: number) {
  const createdAt = Math.min(login.createdAt.getTime(), now);
  // The last update is the last sign of life the old app recorded; never before the sign-in, never in the future.
  const lastActiveAt = Math.min(Math.max(login.updatedAt.getTime(), createdAt), now);
  return {
    createdAt,
    authenticatedAt: createdAt,
    lastActiveAt,
    idleExpiresAt: lastActiveAt + policy.idleTtlSeconds * SECOND,
    expiresAt: createdAt + policy.maxAgeSeconds * SECOND,
  };
}

/** What a sign-in would have learned of the client, from what the old app kept of it. */
export function clientOf(userAgentText: string | null, ipText: string | null, locator: Locator): ClientInfo {
  const userAgent = clampUserAgent(userAgentText ?? '');
  const ip = addressOf(ipText);
  return { ip, userAgent, device: describeDevice(userAgent), country: ip === '' ? null : locator.countryOf(ip) };
}

/** Express's `req.ip` on a dual-stack socket is `::ffff:203.0.113.7`: kept as the IPv4 it is. Not an address: none. */
function addressOf(text: string | null): string {
  const trimmed = (text ?? '').trim();
  const ip = trimmed.startsWith('::ffff:') && trimmed.includes('.') ? trimmed.slice(7) : trimmed;
  return isIP(ip) === 0 ? '' : ip;
}
