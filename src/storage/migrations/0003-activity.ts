import { sql, type Kysely } from 'kysely';
import { deviceKey } from '../../core/activity.js';

// Login history (src/core/activity.ts), the devices each account has signed in from (for
// new-device alerts), the webhook outbox, and single-use "this wasn't me" reports.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // Kept when the user is deleted? No: history is personal data and goes with the account.
    .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('session_id', 'text')
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('actor', 'text')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('browser', 'text')
    .addColumn('os', 'text')
    .addColumn('device_type', 'text')
    .addColumn('device_label', 'text')
    .addColumn('country', 'text')
    .addColumn('detail', 'text', (c) => c.notNull())
    .execute();
  // "My activity", newest first, paged by (at, id).
  await db.schema.createIndex('events_user_at').on('events').columns(['user_id', 'at', 'id']).execute();
  // The retention purge deletes by age.
  await db.schema.createIndex('events_at').on('events').column('at').execute();

  await db.schema
    .createTable('known_devices')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('device_key', 'text', (c) => c.notNull())
    .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('known_devices_pk', ['user_id', 'device_key'])
    .execute();

  await rememberExistingDevices(db);

  // The outbox: one row per event that notifies, written in the event's transaction, so a
  // notification is never lost between the change and its delivery (and never sent for a
  // change that rolled back). The event's id is the delivery's idempotency key.
  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('event_id', 'text', (c) => c.primaryKey().references('events.id').onDelete('cascade'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    // A node working on a delivery holds it until then; a node that died lets it go.
    .addColumn('claimed_until', 'bigint')
    .addColumn('delivered_at', 'bigint')
    .addColumn('gave_up_at', 'bigint')
    .addColumn('last_error', 'text')
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_pending')
    .on('webhook_deliveries')
    .column('next_attempt_at')
    .where(sql.ref('delivered_at'), 'is', null)
    .where(sql.ref('gave_up_at'), 'is', null)
    .execute();

  // A "this wasn't me" link works once: its sign-in event's id can be reported only once.
  await db.schema
    .createTable('sign_in_reports')
    .addColumn('event_id', 'text', (c) => c.primaryKey().references('events.id').onDelete('cascade'))
    .addColumn('reported_at', 'bigint', (c) => c.notNull())
    .execute();

  // When a session's expiry was written to its history (session_expired), so it is written once.
  await db.schema.alterTable('sessions').addColumn('expiry_recorded_at', 'bigint').execute();
  for (const column of ['idle_expires_at', 'expires_at']) {
    await db.schema
      .createIndex(`sessions_unrecorded_${column}`)
      .on('sessions')
      .column(column)
      .where(sql.ref('revoked_at'), 'is', null)
      .where(sql.ref('expiry_recorded_at'), 'is', null)
      .execute();
  }
}

/**
 * An upgrade must not make every existing account's next sign-in on every device "new": the
 * devices their sessions (still kept, up to the retention) came from are known from the start.
 */
async function rememberExistingDevices(db: Kysely<any>): Promise<void> {
  const rows: Array<{
    user_id: string;
    browser: string | null;
    os: string | null;
    device_type: string;
    country: string | null;
    first: unknown;
    last: unknown;
  }> = await db
    .selectFrom('sessions')
    .select(['user_id', 'browser', 'os', 'device_type', 'country'])
    .select((eb) => [eb.fn.min('created_at').as('first'), eb.fn.max('last_active_at').as('last')])
    .groupBy(['user_id', 'browser', 'os', 'device_type', 'country'])
    .execute();
  const known = new Map<string, { user_id: string; device_key: string; first_seen_at: number; last_seen_at: number }>();
  for (const row of rows) {
    const key = deviceKey({ ip: '', userAgent: '', country: row.country, device: { browser: row.browser, os: row.os, type: row.device_type, label: '' } });
    const id = `${row.user_id}\u0000${key}`;
    const seen = known.get(id);
    const first = Number(row.first);
    const last = Number(row.last);
    // Several browser versions fold into one key: keep the widest span.
    known.set(id, {
      user_id: row.user_id,
      device_key: key,
      first_seen_at: Math.min(first, seen?.first_seen_at ?? first),
      last_seen_at: Math.max(last, seen?.last_seen_at ?? last),
    });
  }
  const values = [...known.values()];
  for (let at = 0; at < values.length; at += 500) {
    await db
      .insertInto('known_devices')
      .values(values.slice(at, at + 500))
      .execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('sessions_unrecorded_expires_at').execute();
  await db.schema.dropIndex('sessions_unrecorded_idle_expires_at').execute();
  await db.schema.alterTable('sessions').dropColumn('expiry_recorded_at').execute();
  await db.schema.dropTable('sign_in_reports').execute();
  await db.schema.dropTable('webhook_deliveries').execute();
  await db.schema.dropTable('known_devices').execute();
  await db.schema.dropTable('events').execute();
}
