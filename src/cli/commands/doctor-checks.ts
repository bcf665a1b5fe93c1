import { existsSync } from 'node:fs';
import { importJWK, type JWK } from 'jose';
import { Migrator, sql, type Kysely } from 'kysely';
import type { Config } from '../../config.js';
import type { Clock } from '../../core/clock.js';
import type { SigningKeyRecord } from '../../core/records.js';
import { expiredKeys, iso, keyState } from '../../keys/key-schedule.js';
import { localSecretPath, readLocalSecret } from '../../keys/local-secret.js';
import { isSealed, openPrivateKey } from '../../keys/private-key-encryption.js';
import { connect } from '../../storage/kysely/connect.js';
import { selectSigningKeys } from '../../storage/kysely/signing-keys.js';
import type { Database } from '../../storage/kysely/tables.js';
import { migrationProvider } from '../../storage/migrations/index.js';

export type Status = 'ok' | 'warn' | 'fail';

export interface Check {
  name: string;
  status: Status;
  detail: string;
}

/** No clock on a machine serving tokens today reads earlier than this: a battery-less board after a power cut does. */
const EARLIEST_PLAUSIBLE = Date.parse('2025-01-01T00:00:00Z');

/**
 * The database checks of `gatehouse doctor`, in order; each says what it found and what to do.
 * Nothing here writes: the schema is compared, not migrated, and a SQLite file that does not
 * exist is not created.
 */
/** Where the checks run: the clock they compare with, and the directory the local secret is found from. */
export interface Surroundings {
  clock: Clock;
  cwd: string;
}

export async function databaseChecks(config: Readonly<Config>, { clock, cwd }: Surroundings): Promise<Check[]> {
  if (config.database.kind === 'sqlite' && config.database.path !== ':memory:' && !existsSync(config.database.path)) {
    return [{ name: 'database', status: 'warn', detail: `no database at ${config.database.path} yet: the server creates it at its first start` }];
  }
  const { db } = connect(config.database);
  try {
    const checks: Check[] = [];
    try {
      await sql`select 1`.execute(db);
      checks.push({
        name: 'database',
        status: 'ok',
        detail: `${config.database.kind === 'sqlite' ? `SQLite at ${config.database.path}` : 'PostgreSQL'} answers`,
      });
    } catch (error) {
      return [{ name: 'database', status: 'fail', detail: `cannot be reached: ${message(error)}` }];
    }
    const schema = await schemaCheck(db);
    checks.push(schema.check);
    if (!schema.current) {
      checks.push({ name: 'keys', status: 'warn', detail: 'not checked until the schema is up to date' });
    } else {
      checks.push(await guarded('keys', async () => keysCheck(await selectSigningKeys(db), config, clock.now(), cwd)));
    }
    checks.push(await guarded('clock', () => clockCheck(db, config, clock, schema.latestAt, schema.current)));
    return checks;
  } finally {
    await db.destroy();
  }
}

async function schemaCheck(db: Kysely<Database>): Promise<{ check: Check; current: boolean; latestAt: number }> {
  const migrations = await new Migrator({ db, provider: migrationProvider }).getMigrations();
  const pending = migrations.filter((m) => m.executedAt === undefined).map((m) => m.name);
  const latestAt = Math.max(0, ...migrations.map((m) => m.executedAt?.getTime() ?? 0));
  const known = new Set(migrations.map((m) => m.name));
  // Kysely's own table; it exists once any migration ran.
  const applied = pending.length === migrations.length ? [] : (await sql<{ name: string }>`select name from kysely_migration`.execute(db)).rows;
  const unknown = applied.map((row) => row.name).filter((name) => !known.has(name));
  if (unknown.length > 0) {
    const detail = `the database has migrations this Gatehouse does not know (${unknown.join(', ')}): it was upgraded by a newer version`;
    return { check: { name: 'schema', status: 'fail', detail }, current: false, latestAt };
  }
  if (pending.length === 0) return { check: { name: 'schema', status: 'ok', detail: `up to date (${migrations.length} migrations)` }, current: true, latestAt };
  const detail = `${pending.length} ${pending.length === 1 ? 'migration' : 'migrations'} pending: ${pending.join(', ')} (the server applies them at start; or: gatehouse migrate)`;
  return { check: { name: 'schema', status: 'warn', detail }, current: false, latestAt };
}

/**
 * Keys present, each one loadable with the secret a server would use (GATEHOUSE_SECRET, else
 * the local secret, read but never made here), one of them signing, all of them sealed.
 */
export async function keysCheck(keys: SigningKeyRecord[], config: Readonly<Config>, now: number, cwd: string): Promise<Check> {
  const live = keys.filter((k) => k.retiredAt === null);
  if (live.length === 0) return { name: 'keys', status: 'warn', detail: 'no signing key yet: the server creates one at its first start' };
  for (const key of live) {
    try {
      const secret = config.secret ?? readLocalSecret(localSecretPath(config.database, cwd));
      await importJWK(JSON.parse(openPrivateKey(key.privateJwk, secret, key.kid)) as JWK, key.alg);
    } catch (error) {
      return { name: 'keys', status: 'fail', detail: message(error) };
    }
  }
  const states = live.map((k) => keyState(k, keys, now));
  const signer = live[states.indexOf('signing')] as SigningKeyRecord;
  const parts = [`signing with ${signer.kid}`];
  const next = live.filter((_, i) => states[i] === 'next');
  if (next.length > 0) parts.push(`${next.map((k) => k.kid).join(', ')} next, from ${iso(Math.min(...next.map((k) => k.activatesAt)))}`);
  const verifying = states.filter((s) => s === 'verifying-only').length;
  if (verifying > 0) parts.push(`${verifying} verifying only`);
  const expired = expiredKeys(keys, now, config).length;
  if (expired > 0) parts.push(`${expired} can be retired (gatehouse keys retire --expired)`);
  const plain = live.filter((k) => !isSealed(k.privateJwk)).length;
  if (plain > 0) {
    const what = `${plain} private ${plain === 1 ? 'key is' : 'keys are'} stored in plain text`;
    const fix =
      config.secret === undefined
        ? 'a server seals them at its next start with its local secret (or GATEHOUSE_SECRET, once set), as does gatehouse keys rotate'
        : 'a server started with GATEHOUSE_SECRET seals them, as does gatehouse keys rotate';
    return { name: 'keys', status: config.production ? 'fail' : 'warn', detail: `${what}: ${fix}; ${parts.join('; ')}` };
  }
  return { name: 'keys', status: 'ok', detail: parts.join('; ') };
}

/**
 * Tokens carry times that other nodes and resource servers check against their own clocks, so
 * a clock off by more than GATEHOUSE_CLOCK_TOLERANCE refuses good tokens or accepts stale
 * ones. PostgreSQL has a clock of its own to compare with (every node shares it, so nodes
 * within half the tolerance of it are within the tolerance of each other); SQLite has none, so
 * the clock is only checked against times the database already holds.
 */
async function clockCheck(db: Kysely<Database>, config: Readonly<Config>, clock: Clock, migratedAt: number, current: boolean): Promise<Check> {
  const toleranceMs = config.clockToleranceSeconds * 1000;
  const before = clock.now();
  if (before < EARLIEST_PLAUSIBLE) return { name: 'clock', status: 'fail', detail: `the system clock reads ${iso(before)}, which cannot be right` };
  // The latest time the database holds, written by some node's clock: ours is behind it only if it was set back.
  const latest = Math.max(migratedAt, current ? await latestStoredTime(db) : 0);
  if (latest > before + toleranceMs) {
    return {
      name: 'clock',
      status: 'fail',
      detail: `the system clock (${iso(before)}) is behind a time the database already holds (${iso(latest)}): was it set back?`,
    };
  }
  if (config.database.kind === 'sqlite')
    return { name: 'clock', status: 'ok', detail: `${iso(before)}, not behind the database's latest time (SQLite has no clock of its own to compare with)` };

  const start = clock.now();
  const { rows } = await sql<{ now: number }>`select extract(epoch from now()) * 1000 as now`.execute(db);
  const end = clock.now();
  const skew = Math.round(Number(rows[0]?.now) - (start + end) / 2);
  const detail = `${Math.abs(skew)} ms ${skew > 0 ? 'behind' : 'ahead of'} the PostgreSQL server's clock (±${Math.ceil((end - start) / 2)} ms)`;
  if (Math.abs(skew) > toleranceMs)
    return { name: 'clock', status: 'fail', detail: `${detail}: more than GATEHOUSE_CLOCK_TOLERANCE (${config.clockToleranceSeconds} s); sync it (NTP)` };
  if (Math.abs(skew) > Math.max(500, toleranceMs / 2))
    return { name: 'clock', status: 'warn', detail: `${detail}: nodes this far off each side are out of tolerance; sync it (NTP)` };
  return { name: 'clock', status: 'ok', detail };
}

async function latestStoredTime(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectNoFrom((eb) => [
      eb
        .selectFrom('signing_keys')
        .select((e) => e.fn.max('created_at').as('t'))
        .as('keys'),
      // events_at makes this an index look-up, whatever the size of the history.
      eb
        .selectFrom('events')
        .select((e) => e.fn.max('at').as('t'))
        .as('events'),
    ])
    .executeTakeFirst();
  return Math.max(0, Number(row?.keys ?? 0), Number(row?.events ?? 0));
}

/** A check that could not be made (the database failed it half-way) fails, and the others still run. */
async function guarded(name: string, check: () => Promise<Check>): Promise<Check> {
  try {
    return await check();
  } catch (error) {
    return { name, status: 'fail', detail: `could not be checked: ${message(error)}` };
  }
}

function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ');
}
