import SQLite from 'better-sqlite3';
import pg from 'pg';
import type { DatabaseLocation } from '../../../src/storage/kysely/connect.js';

type Row = Record<string, unknown>;

/**
 * Everything wrong with a Gatehouse database, as sentences; none means it is intact. Run while
 * no server has it open, on the state a crash left.
 *
 * - The engine's own checks. SQLite: `PRAGMA integrity_check` and `foreign_key_check`.
 *   PostgreSQL: amcheck on every table (`verify_heapam`) and B-tree index (`bt_index_check`
 *   with every heap tuple looked up), and no constraint left unvalidated.
 * - References, checked again by query on both: no session, event or known device of a user
 *   who does not exist, no outbox row or report of an event that does not exist, no email twice.
 * - Nothing half-written, which only the application can tell: every user has its
 *   `account_created`, every session its `signed_in`, and every ended session the event of
 *   what ended it — each is written in the transaction of its change. (And every `signed_in`
 *   its session: true while nothing has been purged, as in these tests.)
 */
export async function integrityProblems(location: DatabaseLocation): Promise<string[]> {
  return location.kind === 'sqlite' ? sqliteProblems(location.path) : postgresProblems(location.url);
}

function sqliteProblems(path: string): string[] {
  // Opened for writing, as the next server would: that is what replays the WAL.
  const db = new SQLite(path);
  try {
    const query = (text: string) => db.prepare(text).all() as Row[];
    const problems: string[] = [];
    const integrity = query('PRAGMA integrity_check');
    if (integrity.length !== 1 || integrity[0]!.integrity_check !== 'ok') problems.push(`integrity_check: ${JSON.stringify(integrity)}`);
    for (const row of query('PRAGMA foreign_key_check')) problems.push(`foreign_key_check: ${JSON.stringify(row)}`);
    return [...problems, ...applicationProblems(query)];
  } finally {
    db.close();
  }
}

async function postgresProblems(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const rows: Record<string, Row[]> = {};
    const problems: string[] = [];
    await client.query('CREATE EXTENSION IF NOT EXISTS amcheck');
    const tables = await client.query(`SELECT c.oid, c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'`);
    for (const table of tables.rows) {
      const corrupt = await client.query('SELECT * FROM verify_heapam($1)', [table.oid]);
      for (const row of corrupt.rows) problems.push(`verify_heapam ${table.relname}: ${JSON.stringify(row)}`);
    }
    // A partitioned table's index (relkind 'I', events') holds nothing itself: each partition's is checked.
    const indexes = await client.query(
      `SELECT c.oid, c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
       WHERE c.relnamespace = 'public'::regnamespace AND a.amname = 'btree' AND c.relkind = 'i'`,
    );
    for (const index of indexes.rows) {
      await client
        .query('SELECT bt_index_check($1, true)', [index.oid])
        .catch((error: Error) => problems.push(`bt_index_check ${index.relname}: ${error.message}`));
    }
    const unvalidated = await client.query(`SELECT conname FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND NOT convalidated`);
    for (const row of unvalidated.rows) problems.push(`constraint not validated: ${row.conname}`);
    for (const text of APPLICATION_QUERIES) rows[text] = (await client.query(text)).rows as Row[];
    return [...problems, ...applicationProblems((text) => rows[text]!)];
  } finally {
    await client.end();
  }
}

const USERS = 'SELECT id, email_key FROM users';
const SESSIONS = 'SELECT id, user_id, revoked_at, revoked_reason FROM sessions';
const EVENTS = 'SELECT id, user_id, session_id, type, detail FROM events';
const DEVICES = 'SELECT user_id FROM known_devices';
const DELIVERIES = 'SELECT event_id FROM webhook_deliveries';
const REPORTS = 'SELECT event_id FROM sign_in_reports';
const APPLICATION_QUERIES = [USERS, SESSIONS, EVENTS, DEVICES, DELIVERIES, REPORTS];

/** For each way a session ends, the event that says so and how it names the session. */
const ENDED_BY: Record<string, { type: string; names: 'session_id' | 'session_ids' | 'replaced_session_ids' }> = {
  logout: { type: 'signed_out', names: 'session_id' },
  remote_logout: { type: 'session_revoked', names: 'session_ids' },
  logout_others: { type: 'other_sessions_revoked', names: 'session_ids' },
  logout_all: { type: 'all_sessions_revoked', names: 'session_ids' },
  password_changed: { type: 'password_changed', names: 'session_ids' },
  session_limit: { type: 'sessions_evicted', names: 'session_ids' },
  refresh_token_reused: { type: 'refresh_token_reused', names: 'session_id' },
  replaced: { type: 'signed_in', names: 'replaced_session_ids' },
  admin: { type: 'signed_out_by_admin', names: 'session_ids' },
  account_disabled: { type: 'account_disabled', names: 'session_ids' },
};

function applicationProblems(query: (text: string) => Row[]): string[] {
  const problems: string[] = [];
  const users = query(USERS);
  const userIds = new Set(users.map((u) => u.id));
  const eventIds = new Set<unknown>();
  const emailKeys = new Map<unknown, number>();
  for (const user of users) emailKeys.set(user.email_key, (emailKeys.get(user.email_key) ?? 0) + 1);
  for (const [key, n] of emailKeys) if (n > 1) problems.push(`email key ${String(key)} belongs to ${n} users`);

  // What each event says happened, by type and session.
  const named = new Map<string, Set<unknown>>();
  const note = (type: unknown, how: string, id: unknown) => {
    const key = `${String(type)}/${how}`;
    if (!named.has(key)) named.set(key, new Set());
    named.get(key)!.add(id);
  };
  const created = new Set<unknown>();
  for (const event of query(EVENTS)) {
    eventIds.add(event.id);
    if (event.user_id !== null && !userIds.has(event.user_id)) problems.push(`event ${String(event.id)} of a missing user ${String(event.user_id)}`);
    if (event.type === 'account_created') created.add(event.user_id);
    if (event.session_id !== null) note(event.type, 'session_id', event.session_id);
    const detail = JSON.parse(String(event.detail)) as Record<string, unknown>;
    for (const how of ['session_ids', 'replaced_session_ids']) {
      if (Array.isArray(detail[how])) for (const id of detail[how] as unknown[]) note(event.type, how, id);
    }
  }
  for (const user of users) if (!created.has(user.id)) problems.push(`user ${String(user.id)} has no account_created event`);

  const sessionIds = new Set<unknown>();
  for (const session of query(SESSIONS)) {
    sessionIds.add(session.id);
    const what = `session ${String(session.id)}`;
    if (!userIds.has(session.user_id)) problems.push(`${what} of a missing user ${String(session.user_id)}`);
    if (!named.get('signed_in/session_id')?.has(session.id)) problems.push(`${what} has no signed_in event`);
    if ((session.revoked_at === null) !== (session.revoked_reason === null)) problems.push(`${what} is half revoked: ${JSON.stringify(session)}`);
    const endedBy = session.revoked_reason === null ? undefined : ENDED_BY[String(session.revoked_reason)];
    if (endedBy && !named.get(`${endedBy.type}/${endedBy.names}`)?.has(session.id)) {
      problems.push(`${what} ended (${String(session.revoked_reason)}) without its ${endedBy.type} event`);
    }
  }
  for (const id of named.get('signed_in/session_id') ?? []) if (!sessionIds.has(id)) problems.push(`signed_in event of a missing session ${String(id)}`);
  for (const device of query(DEVICES)) if (!userIds.has(device.user_id)) problems.push(`known device of a missing user ${String(device.user_id)}`);
  for (const table of [DELIVERIES, REPORTS]) {
    for (const row of query(table)) if (!eventIds.has(row.event_id)) problems.push(`${table}: row of a missing event ${String(row.event_id)}`);
  }
  return problems;
}
