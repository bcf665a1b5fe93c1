import { Migrator, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { newEvent } from '../../../src/core/activity.js';
import { connect } from '../../../src/storage/kysely/connect.js';
import { monthOf } from '../../../src/storage/kysely/event-months.js';
import { insertEvents } from '../../../src/storage/kysely/events.js';
import { KyselyStore } from '../../../src/storage/kysely/kysely-store.js';
import { SqliteSync } from '../../../src/storage/kysely/sqlite-sync.js';
import { migrationProvider } from '../../../src/storage/migrations/index.js';
import { createTestDatabase, DATABASES } from '../../helpers/databases.js';
import { FIREFOX_CLIENT, usersRowBefore0014 } from '../../helpers/records.js';

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g';
const DAY = 86_400_000;

describe.each(DATABASES)('migration 0013 (history by month) on %s', (kind) => {
  it('keeps every event, and the outbox rows and reports of them, wherever its date falls', async () => {
    const database = await createTestDatabase(kind, { empty: true });
    const connection = connect(database.location);
    const { db } = connection;
    try {
      const migrator = new Migrator({ db, provider: migrationProvider });
      expect((await migrator.migrateTo('0012-settled-webhook-deliveries')).error).toBeUndefined();
      const now = Date.now();
      const user = { id: 'u1', email: 'ann@example.com', emailKey: 'ann@example.com', name: null, passwordHash: HASH, role: 'user' as const };
      await db
        .insertInto('users')
        .values(usersRowBefore0014({ ...user, disabledAt: null, createdAt: now, updatedAt: now, passwordChangedAt: now }))
        .execute();
      const changed = (at: number) => newEvent('password_changed', at, { userId: 'u1', client: FIREFOX_CLIENT }, true);
      const twoMonthsAgo = changed(now - 62 * DAY);
      const today = changed(now);
      const longAgo = changed(Date.UTC(1971, 0, 1));
      const farAhead = changed(Date.UTC(2200, 0, 1));
      const nobodys = newEvent('sign_in_failed', now, { userId: null, client: FIREFOX_CLIENT, detail: { reason: 'unknown_email' } }, false);
      const events = [twoMonthsAgo, today, longAgo, farAhead, nobodys];
      await insertEvents(db, events);
      await db.updateTable('webhook_deliveries').set({ delivered_at: now }).where('event_id', '=', today.id).execute();
      await db.insertInto('sign_in_reports').values({ event_id: twoMonthsAgo.id, reported_at: now }).execute();
      const before = {
        events: await db.selectFrom('events').selectAll().orderBy('id').execute(),
        deliveries: await db.selectFrom('webhook_deliveries').selectAll().orderBy('event_id').execute(),
      };

      expect((await migrator.migrateToLatest()).error).toBeUndefined();

      expect(await db.selectFrom('events').selectAll().orderBy('id').execute()).toEqual(before.events);
      expect(await db.selectFrom('webhook_deliveries').selectAll().orderBy('event_id').execute()).toEqual(before.deliveries);
      const store = new KyselyStore(db, connection.dialect, connection.sqlite && new SqliteSync(db, connection.sqlite));
      expect(await store.isSignInReported(twoMonthsAgo.id)).toBe(true);
      expect((await store.listUserEvents('u1', { limit: 10 })).map((e) => e.id)).toEqual([farAhead.id, today.id, twoMonthsAgo.id, longAgo.id]);
      expect((await store.claimWebhookDeliveries(Date.UTC(2200, 0, 2), 10, 60_000)).map((d) => d.event.id)).toEqual([longAgo.id, twoMonthsAgo.id, farAhead.id]);
      // And it goes on: a new event is written and purged with its outbox row.
      await store.recordEvents([changed(now + 1)]);
      expect(await store.purgeEventMonths(now - 400 * DAY)).toBe(0);
      expect(await store.purgeEvents(now - 400 * DAY, 100)).toBe(1);
      expect(await store.webhookBacklog()).toEqual({ pending: 3, oldestCreatedAt: twoMonthsAgo.at });

      if (kind === 'postgres') {
        const partition = async (id: string) =>
          (await sql<{ name: string }>`select tableoid::regclass::text as name from events where id = ${id}`.execute(db)).rows[0]?.name;
        expect(await partition(twoMonthsAgo.id)).toBe(monthOf(twoMonthsAgo.at).name);
        expect(await partition(today.id)).toBe(monthOf(now).name);
        expect(await partition(farAhead.id)).toBe('events_default');
        // The month after next is made by the migration, as housekeeping makes it after.
        const made = await sql<{ name: string }>`select relname as name from pg_class where relname = ${monthOf(now, 2).name}`.execute(db);
        expect(made.rows).toHaveLength(1);

        // And back: one table, with its references again.
        expect((await migrator.migrateTo('0012-settled-webhook-deliveries')).error).toBeUndefined();
        expect(await db.selectFrom('events').selectAll().orderBy('id').execute()).toHaveLength(5);
        const references = await sql`select 1 from pg_constraint where contype = 'f' and confrelid = 'events'::regclass`.execute(db);
        expect(references.rows).toHaveLength(2);
      }
    } finally {
      await db.destroy();
      await database.drop();
    }
  });
});
