import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newEvent } from '../../src/core/activity.js';
import type { DatabaseLocation } from '../../src/storage/kysely/connect.js';
import { openStore } from '../../src/storage/kysely/kysely-store.js';
import { fromNewSession } from '../../src/storage/kysely/rows.js';
import { runGatehouse } from '../helpers/cli.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../helpers/databases.js';
import { newSessionRecord } from '../helpers/records.js';
import { CLI } from '../helpers/server-process.js';

/**
 * `gatehouse purge`, run in-process (runCli, with its own environment and directory) on a
 * temporary database of each kind; the progress bar on a terminal is checked on the real binary.
 */

const cwd = mkdtempSync(join(tmpdir(), 'gatehouse-cli-purge-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

const DAY = 86_400_000;
const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g';

function databaseUrl(location: DatabaseLocation): string {
  return location.kind === 'sqlite' ? `sqlite:${location.path}` : location.url;
}

const hasScript = spawnSync('script', ['--version']).status === 0;

/** Runs `gatehouse …args` in-process in `cwd`, with only `env` set: stderr is no terminal. */
function gatehouse(args: string[], env: Record<string, string>) {
  return runGatehouse(args, { cwd, env });
}

describe('gatehouse purge --help', () => {
  it('says what it deletes, and where the progress and the counts go', async () => {
    const { code, stdout } = await gatehouse(['purge', '--help'], {});
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: gatehouse purge\n/);
    expect(stdout).toContain('GATEHOUSE_SESSION_RETENTION');
    expect(stdout).toContain('  0  purged (or nothing was due)\n');
  });
});

describe.each(DATABASES)('gatehouse purge on %s', (kind) => {
  let database: TestDatabase;
  let env: Record<string, string>;
  beforeEach(async () => {
    database = await createTestDatabase(kind);
    // Two days of session history and a day of login history: the least either can be set to.
    env = { DATABASE_URL: databaseUrl(database.location), GATEHOUSE_SESSION_RETENTION: String(2 * 86_400), GATEHOUSE_EVENT_RETENTION: String(86_400) };
  });
  afterEach(() => database.drop());

  /** An account with `ended` sessions that ended 10 days ago, `live` current ones, and old and new history. */
  const seed = async (ended: number, live: number, oldEvents: number, newEvents: number) => {
    const store = await openStore(database.location);
    try {
      const now = Date.now();
      await store.createUser({
        id: 'u1',
        email: 'ann@example.com',
        emailKey: 'ann@example.com',
        name: null,
        passwordHash: HASH,
        role: 'user',
        createdAt: now - 40 * DAY,
      });
      const sessions = [
        ...Array.from({ length: ended }, (_, i) => newSessionRecord(`ended-${i}`, 'u1', now - 40 * DAY)),
        ...Array.from({ length: live }, (_, i) => newSessionRecord(`live-${i}`, 'u1', now - 1000)),
      ];
      for (let i = 0; i < sessions.length; i += 200)
        await store.db
          .insertInto('sessions')
          .values(sessions.slice(i, i + 200).map(fromNewSession))
          .execute();
      const events = [
        ...Array.from({ length: oldEvents }, (_, i) => newEvent('signed_in', now - 10 * DAY + i, { userId: 'u1', sessionId: `ended-${i}` }, false)),
        ...Array.from({ length: newEvents }, (_, i) => newEvent('signed_in', now - 1000 + i, { userId: 'u1', sessionId: `live-${i}` }, false)),
      ];
      for (let i = 0; i < events.length; i += 200) await store.recordEvents(events.slice(i, i + 200));
    } finally {
      await store.close();
    }
  };
  const remaining = async () => {
    const store = await openStore(database.location);
    try {
      const sessions = await store.db.selectFrom('sessions').select('id').execute();
      const events = await store.db.selectFrom('events').select('id').execute();
      return { sessions: sessions.map((s) => s.id), events: events.length };
    } finally {
      await store.close();
    }
  };

  it('deletes what the hourly purge would, in batches, keeping what is within its retention', async () => {
    await seed(1203, 2, 510, 3);
    const { code, stdout, stderr } = await gatehouse(['purge'], env);
    expect(code, stderr).toBe(0);
    expect(stdout).toBe(
      'gatehouse: purged 1203 ended sessions, 0 sign-in failure counters, 0 registration counters, 0 settled webhook deliveries, 0 sent mail, 0 expired email links, 510 login history events\n',
    );
    // Not a terminal: plain lines a log can keep, never a redrawn bar.
    expect(stderr).not.toContain('\r');
    expect(stderr).toContain('purged ended sessions: 1203\n');
    expect(stderr).toContain('purged login history events: 510\n');
    const left = await remaining();
    expect(left.sessions.sort()).toEqual(['live-0', 'live-1']);
    expect(left.events).toBe(3);
  });

  // util-linux `script` gives the real binary a terminal; without it there is none to test on.
  // Spawned, not in-process with `terminal: true`: what is checked is what a terminal receives,
  // after its line discipline turned the final "\n" into "\r\n".
  it.runIf(kind === 'sqlite' && hasScript)('redraws one line per phase in place on a terminal', async () => {
    await seed(1203, 0, 0, 0);
    const command = [process.execPath, CLI, 'purge'].map((arg) => `'${arg}'`).join(' ');
    const result = spawnSync('script', ['-qec', command, '/dev/null'], {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(result.status, result.stdout).toBe(0);
    expect(result.stdout).toContain('\rpurging ended sessions 500\x1b[K');
    expect(result.stdout).toContain('\rpurged ended sessions: 1203\x1b[K\r\n');
  });

  it('does nothing, and says so, when nothing is due', async () => {
    await seed(0, 1, 0, 1);
    const { code, stdout } = await gatehouse(['purge'], env);
    expect(code).toBe(0);
    expect(stdout).toBe(
      'gatehouse: purged 0 ended sessions, 0 sign-in failure counters, 0 registration counters, 0 settled webhook deliveries, 0 sent mail, 0 expired email links, 0 login history events\n',
    );
    expect(await remaining()).toEqual({ sessions: ['live-0'], events: 1 });
  });
});
