import { sql, type Kysely, type Transaction } from 'kysely';
import type { SigningKeyRecord } from '../../core/records.js';
import type { Dialect } from './dialect.js';
import type { Database, SigningKeysTable } from './tables.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Every signing key, oldest first (the key ring and `gatehouse keys list` rely on the order). */
export async function selectSigningKeys(db: Db): Promise<SigningKeyRecord[]> {
  const rows = await db.selectFrom('signing_keys').selectAll().orderBy('created_at').orderBy('kid').execute();
  return rows.map(toSigningKey);
}

export async function insertSigningKey(db: Db, key: SigningKeyRecord): Promise<void> {
  await db.insertInto('signing_keys').values(fromSigningKey(key)).execute();
}

/**
 * Inserts `key` unless an unretired key was created after `since` (undefined: unless there is
 * any unretired key), as one decision: nodes racing on their first start, or on a scheduled
 * rotation, store one key between them.
 */
export function insertSigningKeyIfNoneSince(db: Kysely<Database>, dialect: Dialect, key: SigningKeyRecord, since: number | undefined): Promise<boolean> {
  return dialect.oneAtATime(db, SIGNING_KEYS_LOCK, async (trx) => {
    const newer = since === undefined ? sql`` : sql`and created_at > cast(${since} as bigint)`;
    const result = await sql`
      insert into signing_keys (kid, alg, public_jwk, private_jwk, created_at, activates_at, retired_at)
      select ${key.kid}, ${key.alg}, ${key.publicJwk}, ${key.privateJwk}, cast(${key.createdAt} as bigint), cast(${key.activatesAt} as bigint), null
      where not exists (select 1 from signing_keys where retired_at is null ${newer})`.execute(trx);
    return (result.numAffectedRows ?? 0n) > 0n;
  });
}

/**
 * Retires key `kid` at `at` unless it is retired already or is the last unretired key: two
 * operators retiring the last two keys at once must not leave the nodes nothing to sign with.
 */
export function retireSigningKey(db: Kysely<Database>, dialect: Dialect, kid: string, at: number): Promise<boolean> {
  return dialect.oneAtATime(db, SIGNING_KEYS_LOCK, async (trx) => {
    const result = await sql`
      update signing_keys set retired_at = cast(${at} as bigint)
      where kid = ${kid} and retired_at is null
        and exists (select 1 from signing_keys where retired_at is null and kid <> ${kid})`.execute(trx);
    return (result.numAffectedRows ?? 0n) > 0n;
  });
}

/** Replaces a plain private key with its sealed form while it is still `plain` (a compare-and-swap). */
export async function sealSigningKey(db: Db, kid: string, plain: string, sealed: string): Promise<boolean> {
  const result = await db.updateTable('signing_keys').set({ private_jwk: sealed }).where('kid', '=', kid).where('private_jwk', '=', plain).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Each conditional statement on this small table is one decision among the nodes (dialect.ts,
 * oneAtATime): on PostgreSQL two transactions could both see "no such key" and both write.
 */
const SIGNING_KEYS_LOCK = 'gatehouse.signing_keys';

function toSigningKey(row: SigningKeysTable): SigningKeyRecord {
  return {
    kid: row.kid,
    alg: row.alg,
    publicJwk: row.public_jwk,
    privateJwk: row.private_jwk,
    createdAt: row.created_at,
    activatesAt: row.activates_at,
    retiredAt: row.retired_at,
  };
}

function fromSigningKey(key: SigningKeyRecord): SigningKeysTable {
  return {
    kid: key.kid,
    alg: key.alg,
    public_jwk: key.publicJwk,
    private_jwk: key.privateJwk,
    created_at: key.createdAt,
    activates_at: key.activatesAt,
    retired_at: key.retiredAt,
  };
}
