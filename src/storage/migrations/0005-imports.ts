import type { Kysely } from 'kysely';

// `gatehouse import` (src/import/): which rows of which source became which user or session.
// A rerun looks rows up here and brings only what is new, so importing twice changes nothing.
// No foreign key on `target_id`: a session ends and is purged, a user may be deleted, and the
// row must stay, or the next run would bring that login or that user back.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('imported_rows')
    // The source's name (`--source`, by default its database's name), so two apps whose ids
    // both start at 1 can be imported into one Gatehouse.
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('source_table', 'text', (c) => c.notNull())
    .addColumn('source_id', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('imported_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('imported_rows_pk', ['source', 'source_table', 'source_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('imported_rows').execute();
}
