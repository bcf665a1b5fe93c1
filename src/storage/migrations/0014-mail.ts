import { sql, type Kysely } from 'kysely';

// Issue 17: email. `mail_outbox` holds every message from the transaction that caused it until
// an SMTP server accepted it (or it was given up), as `webhook_deliveries` holds notifications:
// with the same partial indexes for claiming and for the purge (migration 0012). A message
// keeps no secret: its links are rebuilt from `account_tokens` ids when it is sent
// (src/core/account-tokens.ts). `users.email_verified_at` says whether the address was proved;
// accounts from before are unverified.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('mail_outbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    // Null for alerts: they go to the account's address at the time of sending.
    .addColumn('recipient', 'text')
    .addColumn('user_id', 'text')
    // JSON: what the template needs (names, devices, token ids), never a secret.
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('claimed_until', 'bigint')
    .addColumn('sent_at', 'bigint')
    .addColumn('gave_up_at', 'bigint')
    .addColumn('last_error', 'text')
    .execute();
  await db.schema
    .createIndex('mail_outbox_pending')
    .on('mail_outbox')
    .columns(['next_attempt_at', 'id'])
    .where(sql.ref('sent_at'), 'is', null)
    .where(sql.ref('gave_up_at'), 'is', null)
    .execute();
  for (const column of ['sent_at', 'gave_up_at']) {
    await db.schema.createIndex(`mail_outbox_${column}`).on('mail_outbox').column(column).where(sql.ref(column), 'is not', null).execute();
  }

  await db.schema
    .createTable('account_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('purpose', 'text', (c) => c.notNull())
    // The address the link proves: the account's at the time, or the new one of a change.
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .addColumn('voided_at', 'bigint')
    .execute();
  // What a newer link, a sign-in or a password change voids: the user's open links of a purpose.
  await db.schema
    .createIndex('account_tokens_open')
    .on('account_tokens')
    .columns(['user_id', 'purpose'])
    .where(sql.ref('used_at'), 'is', null)
    .where(sql.ref('voided_at'), 'is', null)
    .execute();
  // The purge: links that can no longer be used, oldest first.
  await db.schema.createIndex('account_tokens_expires_at').on('account_tokens').column('expires_at').execute();

  await db.schema.alterTable('users').addColumn('email_verified_at', 'bigint').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('email_verified_at').execute();
  await db.schema.dropTable('account_tokens').execute();
  await db.schema.dropTable('mail_outbox').execute();
}
