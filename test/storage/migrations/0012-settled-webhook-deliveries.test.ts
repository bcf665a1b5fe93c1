import { Migrator, sql, type Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { connect } from '../../../src/storage/kysely/connect.js';
import { claimDeliveries, deleteSettledDeliveries } from '../../../src/storage/kysely/webhook-deliveries.js';
import { migrationProvider } from '../../../src/storage/migrations/index.js';
import { createTestDatabase, DATABASES, type DatabaseKind } from '../../helpers/databases.js';

const T0 = Date.parse('2026-11-27T09:00:00Z');
const THIS = '0012-settled-webhook-deliveries';

/** The outbox's indexes and what each holds, as the database describes them. */
async function outboxIndexes(db: Kysely<any>, kind: DatabaseKind): Promise<Record<string, string>> {
  const { rows } =
    kind === 'sqlite'
      ? await sql<{
          name: string;
          definition: string;
        }>`select name, sql as definition from sqlite_master where type = 'index' and tbl_name = 'webhook_deliveries' and sql is not null`.execute(db)
      : await sql<{
          name: string;
          definition: string;
        }>`select indexname as name, indexdef as definition from pg_indexes where tablename = 'webhook_deliveries' and indexname <> 'webhook_deliveries_pkey'`.execute(
          db,
        );
  return Object.fromEntries(rows.map((row) => [row.name, row.definition.replace(/"/g, '').toLowerCase()]));
}

describe.each(DATABASES)('migration 0012 (indexes of settled and pending webhook deliveries) on %s', (kind) => {
  it('indexes settled deliveries by when they settled and pending ones in claim order, keeping the outbox as it was, and goes back', async () => {
    const database = await createTestDatabase(kind, { empty: true });
    const { db, dialect } = connect(database.location);
    try {
      const migrator = new Migrator({ db, provider: migrationProvider });
      const names = Object.keys(await migrationProvider.getMigrations()).sort();
      const before = names[names.indexOf(THIS) - 1]!;
      expect((await migrator.migrateTo(before)).error).toBeUndefined();

      // An outbox as the table was before 0012: two delivered, one given up, two pending.
      const anyDb = db as Kysely<any>;
      const event = (id: string, at: number) => ({ id, user_id: null, type: 'signed_in', at, detail: '{}' });
      const delivery = (event_id: string, settled: { delivered_at?: number; gave_up_at?: number; next_attempt_at?: number }) => ({
        event_id,
        type: 'new_device',
        created_at: T0,
        attempts: 1,
        next_attempt_at: T0,
        ...settled,
      });
      await anyDb
        .insertInto('events')
        .values(['d1', 'd2', 'g1', 'p1', 'p2'].map((id, i) => event(id, T0 + i)))
        .execute();
      await anyDb
        .insertInto('webhook_deliveries')
        .values([
          delivery('d1', { delivered_at: T0 + 1000 }),
          delivery('d2', { delivered_at: T0 + 86_400_000 }),
          delivery('g1', { gave_up_at: T0 + 1000 }),
          delivery('p2', { next_attempt_at: T0 + 5000 }),
          delivery('p1', { next_attempt_at: T0 + 5000 }),
        ])
        .execute();
      const pendingBefore = (await outboxIndexes(anyDb, kind)).webhook_deliveries_pending;

      expect((await migrator.migrateTo(THIS)).error).toBeUndefined();
      const indexes = await outboxIndexes(anyDb, kind);
      expect(indexes.webhook_deliveries_delivered_at).toMatch(/\(delivered_at\) where \(?delivered_at is not null\)?$/);
      expect(indexes.webhook_deliveries_gave_up_at).toMatch(/\(gave_up_at\) where \(?gave_up_at is not null\)?$/);
      expect(indexes.webhook_deliveries_pending).toMatch(/\(next_attempt_at, event_id\) where/);
      // The claim finds the due ones, and the purge takes the settled ones only.
      const claimed = await claimDeliveries(db, dialect, T0 + 5000, 10, 60_000);
      expect(claimed.map((d) => d.event.id)).toEqual(['p1', 'p2']);
      expect(await deleteSettledDeliveries(db, T0 + 60_000, 10)).toBe(2);
      const left = await anyDb.selectFrom('webhook_deliveries').select('event_id').orderBy('event_id').execute();
      expect(left.map((row) => row.event_id)).toEqual(['d2', 'p1', 'p2']);

      expect((await migrator.migrateTo(before)).error).toBeUndefined();
      expect(await outboxIndexes(anyDb, kind)).toEqual({ webhook_deliveries_pending: pendingBefore });
    } finally {
      await db.destroy();
      await database.drop();
    }
  });
});
