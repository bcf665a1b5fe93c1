import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { DatabaseLocation } from '../../../src/storage/kysely/connect.js';
import { createTestDatabase, DATABASES } from '../../helpers/databases.js';
import { startServer, type RunningServer } from '../../helpers/server-process.js';
import { registerAt } from '../helpers/ask.js';
import { integrityProblems } from '../helpers/integrity.js';
import { databaseUrl, killHard } from '../helpers/processes.js';
import { drive, newTally, random, verify, type Account } from './acknowledged.js';

/**
 * Issue 8, crashes: a real server process (dist/server.js) under load from four accounts at
 * once — sign-ins, refreshes, sign-outs, password changes, reads — is killed with SIGKILL at a
 * random moment, three times per database. The test records every action whose answer
 * arrived. While the server is down the database must pass the integrity checks
 * (test/hostile/helpers/integrity.ts); after each restart every acknowledged sign-in still has
 * its session, every acknowledged sign-out and password change is still in force, and of the
 * actions the kill cut off each either happened entirely or not at all.
 *
 * The refresh grace window is 300 s here instead of 10 s: a refresh whose answer the kill
 * swallowed is presented again after the restart, which on a loaded machine can take longer
 * than 10 s, and would then count as theft — the documented rule, but not what this test is about.
 */
const KILLS = 3;
const ACCOUNTS = 4;
/** The kill comes this long after the load starts: at least enough for every account to act. */
const KILL_AFTER_MS = { min: 400, max: 1600 };

describe.each(DATABASES)('a server process killed with SIGKILL under load on %s', (kind) => {
  it(`loses no acknowledged sign-in, sign-out or password change, and leaves the database intact, over ${KILLS} kills`, async () => {
    const seed = Number(process.env.HOSTILE_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const rnd = random(seed);
    const database = await createTestDatabase(kind);
    const cwd = mkdtempSync(join(tmpdir(), 'gatehouse-crash-'));
    const env = {
      DATABASE_URL: databaseUrl(database.location),
      GATEHOUSE_REPLACE_SAME_DEVICE_SESSIONS: 'false',
      GATEHOUSE_REFRESH_REUSE_GRACE: '300',
    };
    let server: RunningServer | undefined;
    const tally = newTally();
    const report: string[] = [];
    try {
      server = await startServer(cwd, env);
      const accounts: Account[] = [];
      for (let i = 0; i < ACCOUNTS; i++) {
        const email = `crash.${i}@example.com`;
        const password = `first password of ${email}`;
        accounts.push({
          email,
          userId: await registerAt(server.url, email, password),
          password,
          oldPassword: undefined,
          sessions: [],
          unheardOf: 0,
          unanswered: undefined,
        });
      }

      for (let kill = 1; kill <= KILLS; kill++) {
        const url = server.url;
        let stopped = false;
        const load = accounts.map((account) => drive(url, account, random(seed + kill * 100 + accounts.indexOf(account)), tally, () => stopped));
        const after = KILL_AFTER_MS.min + rnd() * (KILL_AFTER_MS.max - KILL_AFTER_MS.min);
        await sleep(after);
        await killHard(server);
        stopped = true;
        await Promise.all(load);
        const cutOff = accounts.map((a) => a.unanswered?.kind ?? 'none').join(', ');

        expect(await integrityProblems(database.location), `after kill ${kill} (seed ${seed})`).toEqual([]);

        const restarting = performance.now();
        server = await startServer(cwd, env);
        const restarted = performance.now() - restarting;
        await Promise.all(accounts.map((account) => verify(server!.url, account, () => sessionsOf(database.location, account.userId), tally)));
        expect(tally.violations, `after kill ${kill} (seed ${seed})`).toEqual([]);
        report.push(`kill ${kill} at ${after.toFixed(0)} ms, listening again after ${restarted.toFixed(0)} ms, cut off: ${cutOff}`);
      }
      const sessions = accounts.reduce((n, a) => n + a.sessions.length, 0);
      console.log(
        `SIGKILL on ${kind} (seed ${seed}): ${report.join('; ')}. Acknowledged: ${JSON.stringify(tally.acknowledged)}; ` +
          `${tally.unanswered} cut-off writes settled; ${sessions} sessions checked after every restart`,
      );
      expect(tally.acknowledged['sign-out']).toBeGreaterThan(0);
    } finally {
      await server?.stop();
      rmSync(cwd, { recursive: true, force: true });
      await database.drop();
    }
  }, 180_000);
});

/** The user's sessions in the database, read directly (the server holds it too): id → revoked? */
async function sessionsOf(location: DatabaseLocation, userId: string): Promise<Map<string, boolean>> {
  const rows = await query(location, 'SELECT id, revoked_at FROM sessions WHERE user_id = $1', [userId]);
  return new Map(rows.map((row) => [String(row.id), row.revoked_at !== null]));
}

async function query(location: DatabaseLocation, text: string, parameters: unknown[]): Promise<Array<Record<string, unknown>>> {
  if (location.kind === 'sqlite') {
    const db = new SQLite(location.path, { readonly: true });
    try {
      return db.prepare(text.replace(/\$\d+/g, '?')).all(...parameters) as Array<Record<string, unknown>>;
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: location.url });
  await client.connect();
  try {
    return (await client.query(text, parameters)).rows;
  } finally {
    await client.end();
  }
}
