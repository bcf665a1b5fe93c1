import type { Kysely } from 'kysely';
import { asciiDomain, emailKey } from '../../core/email.js';

const BATCH = 500;

// Emails are stored and compared with the domain in its IDNA ASCII form (src/core/email.ts), so
// `ann@bücher.example` and `ann@xn--bcher-kva.example` are one account. Accounts made before
// keep working: their email and key are rewritten to that form, a batch of users at a time.
//
// - Rows whose domain has no ASCII form (one registration would refuse today) keep what they
//   have: sign-in's key for such an address falls back to the old one, so they still sign in.
// - When the new key is already another account's (two accounts for two spellings of one
//   address), the row is left as it was: the account already holding the ASCII spelling keeps
//   it, and the other one no longer signs in by email; an administrator finds it by id.
// - sign_in_failures is not rewritten: its counters last an hour at most, and an address with
//   a non-ASCII domain only starts counting under its new key from here.
export async function up(db: Kysely<any>): Promise<void> {
  let after = '';
  for (;;) {
    const users: Array<{ id: string; email: string; email_key: string }> = await db
      .selectFrom('users')
      .select(['id', 'email', 'email_key'])
      .where('id', '>', after)
      .orderBy('id')
      .limit(BATCH)
      .execute();
    for (const user of users) {
      const email = asciiEmail(user.email);
      if (email === undefined) continue;
      const key = emailKey(email);
      // In one statement, so a key some other row holds (or takes meanwhile) is never reused.
      await db
        .updateTable('users')
        .set({ email, email_key: key })
        .where('id', '=', user.id)
        .where('email_key', '=', user.email_key)
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom('users as other').select('other.id').where('other.email_key', '=', key))))
        .execute();
    }
    if (users.length < BATCH) return;
    after = users[users.length - 1]!.id;
  }
}

/** The email with its domain in ASCII form, when its domain is not ASCII already and has one. */
function asciiEmail(email: string): string | undefined {
  const at = email.lastIndexOf('@');
  const domain = email.slice(at + 1);
  if (at < 0 || !/[^ -~]/.test(domain)) return undefined;
  const ascii = asciiDomain(domain);
  return ascii === undefined ? undefined : `${email.slice(0, at)}@${ascii}`;
}

// The Unicode spelling is not kept anywhere, so there is nothing to go back to; and the ASCII
// form is an address that mail reaches all the same.
export async function down(): Promise<void> {}
