import { PostgresAdapter, sql, type ExpressionBuilder, type Kysely } from 'kysely';
import { DEFAULT_PARTITION, MONTHS_AHEAD, monthOf, type EventMonth } from '../kysely/event-months.js';

/** No retention is longer (config.ts): rows older than this are past it, and go to the default partition. */
const MONTHS_BACK = 121;

// Issue 16: history is most of the data, and its retention deleted it row by row. On PostgreSQL
// `events` becomes partitioned by month of `at` (UTC), which housekeeping makes ahead and drops
// whole once past the retention (src/storage/kysely/event-months.ts). SQLite keeps its table:
// it has no partitions, and its purge deletes in small batches along an index.
//
// - A default partition takes any row of a month not made (a clock years off, an imported
//   date), so no insert ever fails for want of a partition; housekeeping moves such rows into
//   their month when it makes it.
// - A partitioned table's unique keys must hold the partition key: the primary key becomes
//   (id, at). The outbox and the reports referenced `events(id)`; they lose that foreign key
//   rather than carry each event's time, as no foreign key would help a drop anyway: PostgreSQL
//   refuses to drop or detach a partition that rows still reference, and runs no ON DELETE
//   action when it drops one. So the store deletes an event's outbox row and report with it
//   (events.ts, event-months.ts), and only the purge ever deletes events (accounts are never deleted).
//
// The whole table is copied, in the migration's one transaction: `events` is locked meanwhile
// (docs/operations.md says how long that takes, and what a very large installation can do).
export async function up(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  // Dropping the foreign keys below locks the outbox and the reports before `events`, where a
  // sign-in locks `events` first and then the outbox: taken all at once here, in a sign-in's
  // order, the locks cannot deadlock with the traffic of nodes still running.
  await sql`lock table events, webhook_deliveries, sign_in_reports in access exclusive mode`.execute(db);
  const references = await sql<{ table: string; name: string }>`
    select t.relname as table, c.conname as name
      from pg_constraint c join pg_class t on t.oid = c.conrelid
     where c.contype = 'f' and c.confrelid = 'events'::regclass`.execute(db);
  for (const { table, name } of references.rows) await sql`alter table ${sql.table(table)} drop constraint ${sql.id(name)}`.execute(db);

  await sql`alter table events rename to events_unpartitioned`.execute(db);
  // Columns, types, NOT NULLs and defaults as they were.
  await sql`create table events (like events_unpartitioned including defaults) partition by range (at)`.execute(db);
  const months = await monthsWithEvents(db, Date.now());
  for (const month of months) {
    await sql`create table ${sql.table(month.name)} partition of events for values from (${sql.lit(month.from)}) to (${sql.lit(month.to)})`.execute(db);
  }
  await sql`create table ${sql.table(DEFAULT_PARTITION)} partition of events default`.execute(db);
  // A partition at a time, each statement bounded by a month's rows, and keys and indexes made
  // after the copy, faster than row by row. Those of `events` itself then take each partition's
  // own instead of building them again.
  const outside = (eb: ExpressionBuilder<any, any>) => eb.or([eb('at', '<', months[0]!.from), eb('at', '>=', months.at(-1)!.to)]);
  for (const { name, from, to } of [...months, { name: DEFAULT_PARTITION, from: undefined, to: undefined }]) {
    await db
      .insertInto(name)
      .expression(
        db
          .selectFrom('events_unpartitioned')
          .selectAll()
          .where((eb) => (from === undefined ? outside(eb) : eb.and([eb('at', '>=', from), eb('at', '<', to)]))),
      )
      .execute();
    const table = sql.table(name);
    await sql`alter table ${table} add primary key (id, at)`.execute(db);
    await sql`create index on ${table} (user_id, at, id)`.execute(db);
    await sql`create index on ${table} (at)`.execute(db);
    await sql`alter table ${table} add foreign key (user_id) references users (id) on delete cascade`.execute(db);
  }
  // Every row is in one partition, or the migration rolls back with the old table whole.
  const { rows } = await sql<{ copied: number | string; kept: number | string }>`
    select (select count(*) from events) as copied, (select count(*) from events_unpartitioned) as kept`.execute(db);
  const { copied, kept } = rows[0]!;
  if (Number(copied) !== Number(kept)) throw new Error(`migration 0013 copied ${copied} of ${kept} events`);
  await sql`drop table events_unpartitioned`.execute(db);

  await sql`alter table events add constraint events_pkey primary key (id, at)`.execute(db);
  // As migration 0003 made them, now one per partition (partitioned indexes).
  await db.schema.createIndex('events_user_at').on('events').columns(['user_id', 'at', 'id']).execute();
  await db.schema.createIndex('events_at').on('events').column('at').execute();
  await sql`alter table events add constraint events_user_id_fkey foreign key (user_id) references users (id) on delete cascade`.execute(db);
  // Autovacuum never analyzes a partitioned table itself, only its partitions.
  await sql`analyze events`.execute(db);
}

/**
 * The months that hold events, found by one index look-up each (the next event after the last
 * month), and the current one and MONTHS_AHEAD after it; none older than MONTHS_BACK.
 */
async function monthsWithEvents(db: Kysely<any>, now: number): Promise<EventMonth[]> {
  const first = monthOf(now, -MONTHS_BACK);
  const last = monthOf(now, MONTHS_AHEAD);
  const months: EventMonth[] = [];
  for (let from = first.from; ; ) {
    const { rows } = await sql<{ at: number | string | null }>`
      select min(at) as at from events_unpartitioned where at >= ${from} and at < ${last.to}`.execute(db);
    if (rows[0]?.at === null || rows[0]?.at === undefined) break;
    const month = monthOf(Number(rows[0].at));
    if (month.from >= monthOf(now).from) break;
    months.push(month);
    from = month.to;
  }
  for (let offset = 0; offset <= MONTHS_AHEAD; offset++) months.push(monthOf(now, offset));
  return months;
}

// Back to one table, references and all. Outbox rows and reports of events gone meanwhile go too.
export async function down(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`alter table events rename to events_partitioned`.execute(db);
  await sql`create table events (like events_partitioned including defaults)`.execute(db);
  await sql`insert into events select * from events_partitioned`.execute(db);
  await sql`drop table events_partitioned`.execute(db);
  await sql`alter table events add constraint events_pkey primary key (id)`.execute(db);
  await db.schema.createIndex('events_user_at').on('events').columns(['user_id', 'at', 'id']).execute();
  await db.schema.createIndex('events_at').on('events').column('at').execute();
  await sql`alter table events add constraint events_user_id_fkey foreign key (user_id) references users (id) on delete cascade`.execute(db);
  for (const table of ['webhook_deliveries', 'sign_in_reports']) {
    await sql`delete from ${sql.table(table)} where event_id not in (select id from events)`.execute(db);
    await sql`alter table ${sql.table(table)} add constraint ${sql.id(`${table}_event_id_fkey`)} foreign key (event_id) references events (id) on delete cascade`.execute(
      db,
    );
  }
}
