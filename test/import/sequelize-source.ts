import { hashSync } from '@node-rs/bcrypt';
import pg from 'pg';
import { createTestDatabase } from '../helpers/databases.js';

/**
 * A real PostgreSQL database with the layout of the Express + Sequelize app Gatehouse grew
 * from, as Sequelize's migrations create it (quoted PascalCase tables, camelCase timestamps),
 * with a few rows helpers to fill it. Hashes are real bcrypt, of a low cost (4) to keep tests
 * fast unless a test asks for more: the cost is in the hash, and verification reads it there.
 */
export interface SequelizeSource {
  url: string;
  query(text: string, params?: unknown[]): Promise<pg.QueryResult>;
  addUser(user: { email: string; password?: string | null; name?: string | null; createdAt?: Date; cost?: number; passwordHash?: string }): Promise<number>;
  addLogin(login: {
    userId: number;
    tokenId?: string;
    ip?: string | null;
    device?: string | null;
    createdAt: Date;
    updatedAt?: Date;
    tokenDeleted?: boolean;
    loggedOut?: boolean;
    tokenExpired?: boolean;
  }): Promise<number>;
  blacklist(token: string, createdAt: Date): Promise<void>;
  drop(): Promise<void>;
}

export const SEQUELIZE_LAYOUT = `
  CREATE TABLE "Users" (
    "id" SERIAL PRIMARY KEY,
    "name" VARCHAR(255),
    "email" VARCHAR(255) NOT NULL UNIQUE,
    "password" VARCHAR(255),
    "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL,
    "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL
  );
  CREATE TABLE "User_Logins" (
    "id" SERIAL PRIMARY KEY,
    "user_id" INTEGER NOT NULL REFERENCES "Users" ("id") ON DELETE CASCADE,
    "token_id" VARCHAR(255) NOT NULL,
    "token_secret" VARCHAR(255),
    "token_deleted" BOOLEAN DEFAULT false,
    "ip_address" VARCHAR(255),
    "device" VARCHAR(255),
    "logged_out" BOOLEAN DEFAULT false,
    "token_expired" BOOLEAN DEFAULT false,
    "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL,
    "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL
  );
  CREATE TABLE "BlacklistTokens" (
    "id" SERIAL PRIMARY KEY,
    "token" TEXT NOT NULL,
    "expiresAt" TIMESTAMP WITH TIME ZONE,
    "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL,
    "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL
  );`;

let tokens = 0;

export async function createSequelizeSource(layout = SEQUELIZE_LAYOUT): Promise<SequelizeSource> {
  const database = await createTestDatabase('postgres', { empty: true });
  if (database.location.kind !== 'postgres') throw new Error('unreachable');
  const url = database.location.url;
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  await pool.query(layout);
  const query = (text: string, params?: unknown[]) => pool.query(text, params);
  return {
    url,
    query,
    async addUser(user) {
      const createdAt = user.createdAt ?? new Date('2025-01-15T10:00:00Z');
      const hash = user.passwordHash ?? (user.password === null ? null : hashSync(user.password ?? 'correct horse battery staple', user.cost ?? 4));
      const { rows } = await query('INSERT INTO "Users" ("name", "email", "password", "createdAt", "updatedAt") VALUES ($1, $2, $3, $4, $4) RETURNING "id"', [
        user.name ?? null,
        user.email,
        hash,
        createdAt,
      ]);
      return rows[0].id as number;
    },
    async addLogin(login) {
      const { rows } = await query(
        `INSERT INTO "User_Logins" ("user_id", "token_id", "token_secret", "token_deleted", "ip_address", "device", "logged_out", "token_expired", "createdAt", "updatedAt")
         VALUES ($1, $2, 'secret', $3, $4, $5, $6, $7, $8, $9) RETURNING "id"`,
        [
          login.userId,
          login.tokenId ?? `00000000-0000-4000-8000-${String(++tokens).padStart(12, '0')}`,
          login.tokenDeleted ?? false,
          login.ip === undefined ? '::ffff:203.0.113.7' : login.ip,
          login.device === undefined ? 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0' : login.device,
          login.loggedOut ?? false,
          login.tokenExpired ?? false,
          login.createdAt,
          login.updatedAt ?? login.createdAt,
        ],
      );
      return rows[0].id as number;
    },
    async blacklist(token, createdAt) {
      await query('INSERT INTO "BlacklistTokens" ("token", "expiresAt", "createdAt", "updatedAt") VALUES ($1, $2, $2, $2)', [token, createdAt]);
    },
    async drop() {
      await pool.end();
      await database.drop();
    },
  };
}

/** A JWT as the old app signed it: its payload names the login by `token_id` (the signature is not checked, so any will do). */
export function oldAppJwt(claims: Record<string, unknown>): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}.c2lnbmF0dXJl`;
}
