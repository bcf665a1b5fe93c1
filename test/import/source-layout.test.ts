import { hashSync } from '@node-rs/bcrypt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noLocation } from '../../src/geo/locator.js';
import { readSourceLayout, SourceLayoutError } from '../../src/import/source-layout.js';
import { runImport } from '../../src/import/run-import.js';
import { SourceReader } from '../../src/import/source-reader.js';
import { sourceDatabase } from '../../src/import/source-url.js';
import { createTestDatabase, createTestStore, type TestDatabase } from '../helpers/databases.js';
import { T0 } from '../helpers/records.js';

/**
 * The source's layout is read from its catalog: Sequelize's defaults, `underscored: true` and
 * other spellings are mapped, and whatever is missing is named, in one message, before anything
 * is read or written.
 */

const DAY = 86_400_000;

describe('the source layout', () => {
  let database: TestDatabase;
  let client: pg.Client;

  beforeAll(async () => {
    database = await createTestDatabase('postgres', { empty: true });
    client = new pg.Client({ connectionString: (database.location as { url: string }).url });
    await client.connect();
    // `underscored: true`, uuid ids, first and last names, soft deletion, in a schema of its own.
    await client.query(`
      CREATE SCHEMA legacy;
      CREATE TABLE legacy.users (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), first_name text, last_name text, email_address text NOT NULL,
        password_hash text, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, deleted_at timestamptz);
      CREATE TABLE legacy.user_logins (id bigserial PRIMARY KEY, "UserId" uuid NOT NULL REFERENCES legacy.users, "tokenId" text, "tokenDeleted" boolean,
        "ipAddress" text, "userAgent" text, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
      CREATE TABLE legacy.blacklist_tokens (id bigserial PRIMARY KEY, token text NOT NULL);
      CREATE SCHEMA broken;
      CREATE TABLE broken."Users" (id serial PRIMARY KEY, email text, "createdAt" timestamptz);
    `);
  });
  afterAll(async () => {
    await client.end();
    await database.drop();
  });

  it('maps the spellings it knows, and reports which column each part came from', async () => {
    const layout = await readSourceLayout(client, 'legacy');
    expect(layout.users).toMatchObject({ name: 'users', sql: '"legacy"."users"' });
    expect(layout.users.mapping).toEqual({
      id: 'id',
      email: 'email_address',
      password: 'password_hash',
      firstName: 'first_name',
      lastName: 'last_name',
      createdAt: 'created_at',
      deletedAt: 'deleted_at',
    });
    expect(layout.logins.mapping).toEqual({
      id: 'id',
      userId: 'UserId',
      tokenId: 'tokenId',
      tokenDeleted: 'tokenDeleted',
      ip: 'ipAddress',
      device: 'userAgent',
      createdAt: 'created_at',
      updatedAt: 'updated_at',
    });
    expect(layout.blacklist.mapping).toEqual({ id: 'id', token: 'token' });
  });

  it('imports from it as from the default layout, paging by uuid', async () => {
    const hash = hashSync('correct horse battery staple', 4);
    for (const [first, last, email] of [
      ['Ann', 'Lee', 'ann@example.com'],
      ['Bob', null, 'bob@example.com'],
      [null, null, 'cy@example.com'],
    ]) {
      await client.query(
        'INSERT INTO legacy.users (first_name, last_name, email_address, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, now(), now())',
        [first, last, email, hash],
      );
    }
    const { rows } = await client.query("SELECT id FROM legacy.users WHERE email_address = 'ann@example.com'");
    await client.query(
      `INSERT INTO legacy.user_logins ("UserId", "tokenId", "tokenDeleted", "ipAddress", "userAgent", created_at, updated_at) VALUES ($1, 't1', null, '198.51.100.1', 'curl/8.5.0', $2, $2)`,
      [rows[0].id, new Date(T0 - DAY)],
    );
    const { store, close } = await createTestStore('sqlite');
    const reader = await SourceReader.open(sourceDatabase((database.location as { url: string }).url)!, 'legacy');
    try {
      const report = await runImport({
        reader,
        store,
        source: 'legacy',
        dryRun: false,
        policy: { idleTtlSeconds: 14 * 86_400, maxAgeSeconds: 90 * 86_400, maxSessions: 0 },
        locator: noLocation,
        now: T0,
        batchSize: 1,
      });
      expect(report.users.imported).toBe(3);
      expect(report.sessions.imported).toBe(1);
      expect((await store.findUserByEmail('ann@example.com'))!.name).toBe('Ann Lee');
      expect((await store.findUserByEmail('bob@example.com'))!.name).toBe('Bob');
      expect((await store.findUserByEmail('cy@example.com'))!.name).toBeNull();
    } finally {
      await reader.close();
      await close();
    }
  });

  it('names every part it is missing, in one message', async () => {
    const error = await readSourceLayout(client, 'broken').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceLayoutError);
    expect((error as Error).message).toBe(
      'the source does not have the Express + Sequelize layout: table "Users" has no column for the bcrypt password hash (looked for password, password_hash, passwordHash, hashed_password); ' +
        'no table "User_Logins" or "UserLogins" or "user_logins" in schema "broken"; no table "BlacklistTokens" or "BlacklistToken" or "blacklist_tokens" in schema "broken"',
    );
    await expect(readSourceLayout(client, 'nowhere')).rejects.toThrow(/no table "Users" or "users" in schema "nowhere"/);
  });
});
