import type { Kysely } from 'kysely';
import type { SessionRecord, UserRecord } from '../../core/records.js';
import { toSession, toUser } from './rows.js';
import type { Database } from './tables.js';

/** A session and its user in one read (a join): what every refresh needs, on its hot path. */
export async function selectSessionWithUser(db: Kysely<Database>, id: string): Promise<{ session: SessionRecord; user: UserRecord } | undefined> {
  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .selectAll('sessions')
    .select([
      'users.email as u_email',
      'users.email_key as u_email_key',
      'users.name as u_name',
      'users.password_hash as u_password_hash',
      'users.role as u_role',
      'users.disabled_at as u_disabled_at',
      'users.created_at as u_created_at',
      'users.updated_at as u_updated_at',
      'users.password_changed_at as u_password_changed_at',
      'users.email_verified_at as u_email_verified_at',
    ])
    .where('sessions.id', '=', id)
    .executeTakeFirst();
  if (!row) return undefined;
  const user = toUser({
    id: row.user_id,
    email: row.u_email,
    email_key: row.u_email_key,
    name: row.u_name,
    password_hash: row.u_password_hash,
    role: row.u_role,
    disabled_at: row.u_disabled_at,
    created_at: row.u_created_at,
    updated_at: row.u_updated_at,
    password_changed_at: row.u_password_changed_at,
    email_verified_at: row.u_email_verified_at,
  });
  return { session: toSession(row), user };
}
