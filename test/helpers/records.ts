import type { ClientInfo, UserRecord } from '../../src/core/records.js';
import { fromUser } from '../../src/storage/kysely/rows.js';
import type { UsersTable } from '../../src/storage/kysely/tables.js';
import type { NewSession } from '../../src/storage/store.js';

/** Records for tests that talk to the store directly, without HTTP. */

export const T0 = Date.parse('2026-11-27T09:00:00Z');
export const HOUR = 3_600_000;

export const FIREFOX_CLIENT: ClientInfo = {
  ip: '203.0.113.7',
  userAgent: 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
  device: { browser: 'Firefox 121', os: 'Ubuntu', type: 'desktop', label: 'Firefox 121 on Ubuntu' },
  country: 'NL',
};

/** A session as sign-in makes it: a day of idle time, 30 days in all, never refreshed. */
export function newSessionRecord(id: string, userId: string, createdAt = T0, client: ClientInfo = FIREFOX_CLIENT): NewSession {
  return {
    id,
    userId,
    createdAt,
    authenticatedAt: createdAt,
    lastActiveAt: createdAt,
    idleExpiresAt: createdAt + 24 * HOUR,
    expiresAt: createdAt + 30 * 24 * HOUR,
    client,
    refresh: { hash: `sha256:${id}`, key: `key-${id}`, generation: 0, rotatedAt: null, previousRotatedAt: null, sealedSuccessor: null },
  };
}

/** A users row as the schema had it before migration 0014 (no `email_verified_at`), for migration tests. */
export function usersRowBefore0014(user: Omit<UserRecord, 'emailVerifiedAt'>): Omit<UsersTable, 'email_verified_at'> {
  const { email_verified_at: _, ...row } = fromUser({ ...user, emailVerifiedAt: null });
  return row;
}
