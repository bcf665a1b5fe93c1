// The databases of bench/scale.js: each size made once per database and kept in a cache
// directory (a SQLite file; a PostgreSQL database in a cluster there), then copied for each run,
// since a run signs in, signs out and purges. The schema is Gatehouse's own, made by its
// migrations (dist/); the rows come from scale-data.js in large transactions (on PostgreSQL,
// thousands of rows per statement), with the plain indexes dropped while they go in and built
// again after (a sorted build instead of millions of random B-tree inserts): the same indexes,
// made by the same statements.

import { COPYFILE_FICLONE } from 'node:constants';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import pg from 'pg';
import { dist } from './lib.js';
import { createGenerator, PASSWORD, TABLES } from './scale-data.js';

/** Bumped whenever scale-data.js changes what it makes: older caches are made again. */
const DATA_VERSION = 3;
/** Users per batch: a few tens of thousands of rows per statement group. */
const BATCH = 2000;
/** How far back scale-data.js makes history (accounts are up to 730 days old), with a margin. */
const HISTORY_DAYS = 735;
const Database = createRequire(import.meta.url)('better-sqlite3');

const manifestPath = (dir, database, size) => join(dir, 'manifests', `${database}-${size}.json`);
const sqlitePath = (dir, size) => join(dir, 'sqlite', `users-${size}.db`);
const postgresName = (size) => `scale_${size}`;
const RUN_DATABASE = 'scale_run';

/**
 * The manifest of `database`'s dataset of `size` users, made first when it is missing, made by
 * an older scale-data.js, older than `maxAgeDays` (live sessions run out as real time passes)
 * or when `regenerate` says so. An existing one is brought to the latest schema, as an
 * installation upgrading would be.
 */
export async function prepareDataset(ctx, database, size, { regenerate = false, maxAgeDays = 3 } = {}) {
  const path = manifestPath(ctx.dir, database, size);
  const manifest = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined;
  const stale = await whyRemake(ctx, database, size, manifest, { regenerate, maxAgeDays });
  if (stale === undefined) {
    const applied = await migrate(ctx, database, size);
    if (applied.length > 0) ctx.log(`  ${database} ${size}: migrated the cached data (${applied.join(', ')})`);
    return manifest;
  }
  ctx.log(`  ${database} ${size}: generating (${stale})…`);
  rmSync(path, { force: true });
  const made = database === 'sqlite' ? await generateSqlite(ctx, size) : await generatePostgres(ctx, size);
  mkdirSync(join(ctx.dir, 'manifests'), { recursive: true });
  writeFileSync(path, `${JSON.stringify({ version: DATA_VERSION, database, users: size, ...made }, null, 2)}\n`);
  return { version: DATA_VERSION, database, users: size, ...made };
}

async function whyRemake(ctx, database, size, manifest, { regenerate, maxAgeDays }) {
  if (manifest === undefined) return 'not made yet';
  if (manifest.version !== DATA_VERSION) return 'made by an older generator';
  if (Date.now() - manifest.now > maxAgeDays * 86_400_000) return `older than ${maxAgeDays} days`;
  if (database === 'sqlite' && !existsSync(sqlitePath(ctx.dir, size))) return 'its file is gone';
  if (database === 'postgres' && (await adminQuery(ctx, `select 1 from pg_database where datname = '${postgresName(size)}'`)).rows.length === 0) {
    return 'its database is gone';
  }
  return regenerate ? '--regenerate' : undefined;
}

/**
 * A fresh copy of the dataset to run on, with the expiries that happened since it was made
 * recorded by Gatehouse's own sweep (as the servers would have, minute by minute), so the
 * first sweep of the run does only a minute's work. `remove()` deletes the copy.
 */
export async function workingCopy(ctx, database, size) {
  const t0 = performance.now();
  let location;
  let remove;
  if (database === 'sqlite') {
    const path = join(ctx.dir, 'run', 'gatehouse.db');
    mkdirSync(join(ctx.dir, 'run'), { recursive: true, mode: 0o700 });
    for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
    copyFileSync(sqlitePath(ctx.dir, size), path, COPYFILE_FICLONE);
    location = { kind: 'sqlite', path };
    remove = () => {
      for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
    };
  } else {
    await copyPostgresDatabase(ctx, postgresName(size), RUN_DATABASE);
    location = { kind: 'postgres', url: ctx.postgres.url(RUN_DATABASE) };
    remove = () => adminQuery(ctx, `drop database if exists ${RUN_DATABASE} with (force)`);
  }
  const copySeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const settled = await recordExpiriesSince(location);
  return {
    schema: await lastMigration(location),
    url: location.kind === 'sqlite' ? `sqlite:${location.path}` : location.url,
    copySeconds,
    settled,
    settleSeconds: (performance.now() - t1) / 1000,
    pastRetention: (now) => pastRetention(location, now),
    remove,
  };
}

/** The name of the newest migration the copy has: which schema was measured. */
async function lastMigration(location) {
  return (await queryRow(location, 'select max(name) as name from kysely_migration')).name;
}

/**
 * What is still in the copy that a purge at `now` with the default retentions (90 days of ended
 * sessions, a year of history, a week of failed sign-ins of nobody) should have deleted.
 */
async function pastRetention(location, now) {
  const sessionsBefore = now - 90 * 86_400_000;
  const sessions = await queryRow(
    location,
    `select count(*) as n from sessions
      where revoked_at < ? or (revoked_at is null and (idle_expires_at < ? or expires_at < ?))`,
    [sessionsBefore, sessionsBefore, sessionsBefore],
  );
  const events = await queryRow(location, 'select count(*) as n from events where at < ? or (at < ? and user_id is null)', [
    now - 365 * 86_400_000,
    now - 7 * 86_400_000,
  ]);
  return { sessions: Number(sessions.n), events: Number(events.n) };
}

/** The first row of one query (`?` parameters) on the copy, from a connection of its own. */
async function queryRow(location, sql, values = []) {
  if (location.kind === 'sqlite') {
    const db = new Database(location.path, { readonly: true });
    try {
      return db.prepare(sql).get(...values);
    } finally {
      db.close();
    }
  }
  const client = new pg.Client(location.url);
  await client.connect();
  try {
    let n = 0;
    return (
      await client.query(
        sql.replace(/\?/g, () => `$${++n}`),
        values,
      )
    ).rows[0];
  } finally {
    await client.end();
  }
}

async function recordExpiriesSince(location) {
  const { openStore } = await import(dist('storage/kysely/kysely-store.js'));
  const { recordSessionExpiries } = await import(dist('service/housekeeping.js'));
  const { systemClock } = await import(dist('core/clock.js'));
  const store = await openStore(location);
  try {
    return await recordSessionExpiries({ store, clock: systemClock, webhooks: false });
  } finally {
    await store.close();
  }
}

async function migrate(ctx, database, size) {
  const { migrateDatabase } = await import(dist('storage/migrate.js'));
  return migrateDatabase(
    database === 'sqlite' ? { kind: 'sqlite', path: sqlitePath(ctx.dir, size) } : { kind: 'postgres', url: ctx.postgres.url(postgresName(size)) },
  );
}

// ---------------------------------------------------------------------------------------------
// Generation: the same rows into either database, through a sink per database.

async function generate(ctx, size, sink) {
  const started = performance.now();
  const [{ argon2Hasher }, { openLocator }, { describeDevice }, { deviceKey }, { emailKey }] = await Promise.all([
    import(dist('passwords/argon2-hasher.js')),
    import(dist('geo/open-locator.js')),
    import(dist('device/describe-device.js')),
    import(dist('core/activity.js')),
    import(dist('core/email.js')),
  ]);
  // One hash for everyone, made by the server's hasher: every sign-in verifies at the same cost.
  const passwordHash = await argon2Hasher().hash(PASSWORD, 'registration');
  const locator = await openLocator({ kind: 'bundled' }, () => {});
  const now = Date.now();
  const generator = createGenerator({ now, passwordHash, emailKey, describeDevice, countryOf: (ip) => locator.countryOf(ip), deviceKey });
  const counts = { users: 0, sessions: 0, events: 0, known_devices: 0, open: 0 };
  const add = async (rows) => {
    for (const table of Object.keys(counts)) counts[table] += table === 'open' ? rows.open : rows[table].length;
    await sink.insert(rows);
  };
  const specials = generator.specials(size);
  await add(specials.rows);
  let reported = 0;
  for (let from = 0; from < size; from += BATCH) {
    await add(generator.batch(from, Math.min(size, from + BATCH)));
    const done = Math.min(size, from + BATCH) / size;
    if (done - reported >= 0.1 || done === 1) {
      reported = done;
      ctx.log(`    ${Math.round(done * 100)} % of ${size} users, ${fmtSeconds(started)}`);
    }
  }
  const insertSeconds = (performance.now() - started) / 1000;
  const indexSeconds = await sink.finish();
  return {
    now,
    generatedAt: new Date().toISOString(),
    rows: counts,
    deepCursor: specials.deepCursor,
    seconds: { insert: insertSeconds, indexes: indexSeconds, total: (performance.now() - started) / 1000 },
  };
}

const fmtSeconds = (since) => `${((performance.now() - since) / 1000).toFixed(0)} s`;

async function generateSqlite(ctx, size) {
  const path = sqlitePath(ctx.dir, size);
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  mkdirSync(join(ctx.dir, 'sqlite'), { recursive: true, mode: 0o700 });
  const { migrateDatabase } = await import(dist('storage/migrate.js'));
  const migrations = await migrateDatabase({ kind: 'sqlite', path });
  const db = new Database(path);
  // A load nobody else reads: its rollback journal in memory (from WAL, by way of DELETE), no
  // syncs, a large page cache. WAL again at the end, as Gatehouse leaves its files.
  db.pragma('journal_mode = DELETE');
  db.pragma('journal_mode = MEMORY');
  db.pragma('synchronous = OFF');
  db.pragma('locking_mode = EXCLUSIVE');
  db.pragma('cache_size = -2000000');
  const tables = Object.keys(TABLES);
  const indexes = db
    .prepare(`select name, sql from sqlite_master where type = 'index' and sql is not null and tbl_name in (${tables.map(() => '?').join(', ')})`)
    .all(...tables);
  for (const { name } of indexes) db.exec(`drop index "${name}"`);
  const inserters = Object.fromEntries(tables.map((table) => [table, sqliteInserter(db, table)]));
  const insertAll = db.transaction((rows) => {
    for (const table of tables) inserters[table](rows[table]);
  });
  const made = await generate(ctx, size, {
    insert: (rows) => insertAll(rows),
    finish: async () => {
      const t0 = performance.now();
      for (const { sql } of indexes) db.exec(sql);
      db.pragma('journal_mode = WAL');
      db.close();
      await recountOpenSessions({ kind: 'sqlite', path });
      return (performance.now() - t0) / 1000;
    },
  });
  return { ...made, migrations, bytes: statSync(path).size };
}

/** One prepared single-row INSERT per table: in better-sqlite3 that beats multi-row statements, whose binding costs more than it saves. */
function sqliteInserter(db, table) {
  const columns = TABLES[table].map(([name]) => name);
  const statement = db.prepare(`insert into ${table} (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})`);
  return (rows) => {
    for (const row of rows) statement.run(row);
  };
}

/**
 * The open-session count (migration 0011's ledger) was started from a still empty table: it is
 * recounted by the store, as `gatehouse migrate` does for an installation whose count is off.
 */
async function recountOpenSessions(location) {
  const { openStore } = await import(dist('storage/kysely/kysely-store.js'));
  const store = await openStore(location);
  try {
    await store.recountOpenSessions?.();
  } finally {
    await store.close();
  }
}

async function generatePostgres(ctx, size) {
  const name = postgresName(size);
  await adminQuery(ctx, `drop database if exists ${name} with (force)`);
  await adminQuery(ctx, `create database ${name}`);
  const url = ctx.postgres.url(name);
  const { migrateDatabase } = await import(dist('storage/migrate.js'));
  const migrations = await migrateDatabase({ kind: 'postgres', url });
  await prepareHistoryMonths({ kind: 'postgres', url });
  const client = new pg.Client(url);
  await client.connect();
  try {
    // Rows of a consistent generator: no foreign-key triggers per row, no wait for the WAL at
    // each commit; the index builds get memory to sort in.
    await client.query(`set session_replication_role = replica`);
    await client.query(`set synchronous_commit = off`);
    await client.query(`set maintenance_work_mem = '1GB'`);
    const { rows: indexes } = await client.query(
      `select ic.relname as name, pg_get_indexdef(i.indexrelid) as definition
         from pg_index i
         join pg_class ic on ic.oid = i.indexrelid
         join pg_class t on t.oid = i.indrelid
        where t.relnamespace = current_schema()::regnamespace and t.relname = any($1)
          and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)
          and not exists (select 1 from pg_inherits h where h.inhrelid = i.indexrelid)`,
      [Object.keys(TABLES)],
    );
    for (const { name: index } of indexes) await client.query(`drop index "${index}"`);
    let pending = Promise.resolve();
    const made = await generate(ctx, size, {
      // One batch in the database while the next is made: the generator and PostgreSQL each get a core.
      insert: async (rows) => {
        const previous = pending;
        pending = previous.then(() => postgresInsertAll(client, rows));
        await previous;
      },
      finish: async () => {
        await pending;
        const t0 = performance.now();
        // A partitioned table's index reads `ON ONLY events`, which would make it for the parent alone.
        for (const { definition } of indexes) await client.query(definition.replace(' ON ONLY ', ' ON '));
        await recountOpenSessions({ kind: 'postgres', url });
        // What autovacuum would have done by the time a database grew this big: statistics for
        // the planner, and a visibility map for index-only scans.
        await client.query(`vacuum (analyze) ${Object.keys(TABLES).join(', ')}`);
        return (performance.now() - t0) / 1000;
      },
    });
    const { rows } = await client.query('select pg_database_size(current_database()) as bytes');
    return { ...made, migrations, bytes: Number(rows[0].bytes) };
  } finally {
    await client.end();
  }
}

/**
 * Where history is kept in monthly partitions (PostgreSQL, migration 0013), the months of the
 * last two years are made first, by the store's own housekeeping call, as the hourly purge
 * would have made them one after another: no old row lands in the default partition.
 */
async function prepareHistoryMonths(location) {
  const { openStore } = await import(dist('storage/kysely/kysely-store.js'));
  const store = await openStore(location);
  try {
    if (typeof store.prepareEventMonths !== 'function') return;
    const now = Date.now();
    for (let at = now - HISTORY_DAYS * 86_400_000; at < now; at += 28 * 86_400_000) await store.prepareEventMonths(at);
  } finally {
    await store.close();
  }
}

/** Each table's rows as one INSERT … SELECT FROM unnest(arrays): one statement, one parse, for thousands of rows. */
async function postgresInsertAll(client, rows) {
  for (const [table, columns] of Object.entries(TABLES)) {
    const batch = rows[table];
    if (batch.length === 0) continue;
    const arrays = columns.map(([, type], k) => `$${k + 1}::${type}[]`).join(', ');
    await client.query(
      `insert into ${table} (${columns.map(([name]) => name).join(', ')}) select * from unnest(${arrays})`,
      columns.map((_, k) => batch.map((row) => row[k])),
    );
  }
}

async function adminQuery(ctx, sql) {
  const client = new pg.Client(ctx.postgres.url('postgres'));
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A file-level copy of the template (no WAL for every page); retried while the last users of the template disconnect. */
async function copyPostgresDatabase(ctx, from, to) {
  await adminQuery(ctx, `drop database if exists ${to} with (force)`);
  for (let attempt = 1; ; attempt++) {
    try {
      await adminQuery(ctx, `create database ${to} template ${from} strategy file_copy`);
      return;
    } catch (error) {
      if (attempt >= 20 || !/being accessed by other users/.test(error.message)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
