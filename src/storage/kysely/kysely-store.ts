import { sql, type Kysely, type Transaction, type UpdateQueryBuilder, type UpdateResult } from 'kysely';
import { GatehouseError } from '../../core/errors.js';
import type { Revocation, RevokedSession, SessionRecord, SigningKeyRecord, UserRecord } from '../../core/records.js';
import type { NewSession, NewUser, Store } from '../store.js';
import { connect, isUniqueViolation, type DatabaseLocation } from './connect.js';
import { fromNewSession, fromSigningKey, fromUser, toSession, toSigningKey, toUser } from './rows.js';
import type { Database } from './tables.js';
import { migrateToLatest } from '../migrate.js';

type Db = Kysely<Database> | Transaction<Database>;
type SessionUpdate = UpdateQueryBuilder<Database, 'sessions', 'sessions', UpdateResult>;

/** Opens the database at `location`, brings its schema up to date and returns the store. */
export async function openStore(location: DatabaseLocation): Promise<KyselyStore> {
  const { db, dialect } = connect(location);
  try {
    await migrateToLatest(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return new KyselyStore(db, dialect);
}

export class KyselyStore implements Store {
  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: 'sqlite' | 'postgres',
  ) {}

  async createUser(user: NewUser): Promise<UserRecord> {
    const record: UserRecord = { ...user, disabledAt: null, updatedAt: user.createdAt, passwordChangedAt: user.createdAt };
    try {
      await this.db.insertInto('users').values(fromUser(record)).execute();
    } catch (error) {
      // The unique index decides races between two sign-ups of one email: exactly one wins.
      if (isUniqueViolation(error)) throw new GatehouseError('email_taken', 'An account with this email already exists.');
      throw error;
    }
    return record;
  }

  async findUserById(id: string): Promise<UserRecord | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toUser(row);
  }

  async findUserByEmail(emailKey: string): Promise<UserRecord | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('email_key', '=', emailKey).executeTakeFirst();
    return row && toUser(row);
  }

  changePassword(change: { userId: string; passwordHash: string; keepSessionId: string; revocation: Revocation }) {
    const { userId, passwordHash, keepSessionId, revocation } = change;
    return this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('users')
        .set({ password_hash: passwordHash, password_changed_at: revocation.at, updated_at: revocation.at })
        .where('id', '=', userId)
        .execute();
      return revokeWhere(trx, revocation, (q) => q.where('user_id', '=', userId).where('id', '!=', keepSessionId));
    });
  }

  startSession(session: NewSession, options: { replaceSameDevice: boolean }): Promise<RevokedSession[]> {
    return this.db.transaction().execute(async (trx) => {
      const replaced = options.replaceSameDevice
        ? await revokeWhere(trx, { reason: 'replaced', by: session.userId, at: session.createdAt }, (q) =>
            q
              .where('user_id', '=', session.userId)
              .where('user_agent', '=', session.client.userAgent)
              .where('ip', '=', session.client.ip),
          )
        : [];
      await trx.insertInto('sessions').values(fromNewSession(session)).execute();
      return replaced;
    });
  }

  async findSession(id: string): Promise<SessionRecord | undefined> {
    const row = await this.db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toSession(row);
  }

  async listUserSessions(userId: string, now: number): Promise<SessionRecord[]> {
    const rows = await this.db
      .selectFrom('sessions')
      .selectAll()
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .where('idle_expires_at', '>', now)
      .where('expires_at', '>', now)
      .orderBy('last_active_at', 'desc')
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .execute();
    return rows.map(toSession);
  }

  async markReauthenticated(sessionId: string, at: number): Promise<boolean> {
    const result = await this.db
      .updateTable('sessions')
      .set({ authenticated_at: at })
      .where('id', '=', sessionId)
      .where('revoked_at', 'is', null)
      .where('idle_expires_at', '>', at)
      .where('expires_at', '>', at)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async revokeSession(userId: string, sessionId: string, revocation: Revocation): Promise<RevokedSession | undefined> {
    const [revoked] = await revokeWhere(this.db, revocation, (q) => q.where('id', '=', sessionId).where('user_id', '=', userId));
    return revoked;
  }

  revokeUserSessions(userId: string, revocation: Revocation, exceptSessionId?: string): Promise<RevokedSession[]> {
    return revokeWhere(this.db, revocation, (q) => {
      const mine = q.where('user_id', '=', userId);
      return exceptSessionId === undefined ? mine : mine.where('id', '!=', exceptSessionId);
    });
  }

  async listRevokedSince(since: number): Promise<RevokedSession[]> {
    const rows = await this.db
      .selectFrom('sessions')
      .select(['id', 'revoked_at'])
      .where('revoked_at', '>=', since)
      .orderBy('revoked_at')
      .execute();
    return rows.map((row) => ({ id: row.id, revokedAt: row.revoked_at as number }));
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    const rows = await this.db.selectFrom('signing_keys').selectAll().orderBy('created_at').orderBy('kid').execute();
    return rows.map(toSigningKey);
  }

  async addSigningKey(key: SigningKeyRecord): Promise<void> {
    await this.db.insertInto('signing_keys').values(fromSigningKey(key)).execute();
  }

  addFirstSigningKey(key: SigningKeyRecord): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      // On PostgreSQL two transactions can both see "no key" and both insert; a transaction
      // lock makes them take turns. SQLite runs one write statement at a time anyway.
      if (this.dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtext('gatehouse.signing_keys'))`.execute(trx);
      const result = await sql`
        insert into signing_keys (kid, alg, public_jwk, private_jwk, created_at, retired_at)
        select ${key.kid}, ${key.alg}, ${key.publicJwk}, ${key.privateJwk}, cast(${key.createdAt} as bigint), null
        where not exists (select 1 from signing_keys where retired_at is null)`.execute(trx);
      return (result.numAffectedRows ?? 0n) > 0n;
    });
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

/**
 * Revokes the not-yet-revoked sessions a filter selects, in one statement, and returns them.
 * Sessions past their expiry are revoked too: an access token minted just before the expiry
 * may still be alive, and "sign out everywhere" must end it as well.
 */
async function revokeWhere(db: Db, revocation: Revocation, filter: (q: SessionUpdate) => SessionUpdate): Promise<RevokedSession[]> {
  const rows = await filter(
    db
      .updateTable('sessions')
      .set({ revoked_at: revocation.at, revoked_reason: revocation.reason, revoked_by: revocation.by })
      .where('revoked_at', 'is', null),
  )
    .returning('id')
    .execute();
  return rows.map((row) => ({ id: row.id, revokedAt: revocation.at }));
}
