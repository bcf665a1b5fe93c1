import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/storage/kysely/kysely-store.js';
import { fromNewSession } from '../../src/storage/kysely/rows.js';
import { runGatehouse } from '../helpers/cli.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../helpers/databases.js';
import { newSessionRecord, T0 } from '../helpers/records.js';

/** `gatehouse migrate` in-process; applying the migrations is in test/server-process-flows.ts. */

const cwd = mkdtempSync(join(tmpdir(), 'gatehouse-cli-migrate-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g';

describe.each(DATABASES)('gatehouse migrate on %s', (kind) => {
  let database: TestDatabase;
  let env: Record<string, string>;
  beforeEach(async () => {
    database = await createTestDatabase(kind);
    env = { DATABASE_URL: database.location.kind === 'sqlite' ? `sqlite:${database.location.path}` : database.location.url };
  });
  afterEach(() => database.drop());

  it('recounts the open sessions that a node of an older version opened or closed without counting, and says so once', async () => {
    const store = await openStore(database.location);
    try {
      await store.createUser({ id: 'u1', email: 'ann@example.com', emailKey: 'ann@example.com', name: null, passwordHash: HASH, role: 'user', createdAt: T0 });
      await store.startSession(newSessionRecord('counted', 'u1'), { replaceSameDevice: false, maxSessions: 0, passwordHash: HASH });
      // As a node of the version before migration 0011 writes them: two sessions, no ledger.
      await store.db
        .insertInto('sessions')
        .values(['old-1', 'old-2'].map((id) => fromNewSession(newSessionRecord(id, 'u1'))))
        .execute();
      expect(await store.countOpenSessions()).toBe(1);
    } finally {
      await store.close();
    }

    const first = await runGatehouse(['migrate'], { cwd, env });
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toBe('gatehouse: schema is up to date\ngatehouse: open sessions recounted (the count was off by -2)\n');
    const second = await runGatehouse(['migrate'], { cwd, env });
    expect(second.stdout).toBe('gatehouse: schema is up to date\n');

    const after = await openStore(database.location);
    try {
      expect(await after.countOpenSessions()).toBe(3);
    } finally {
      await after.close();
    }
  });
});
