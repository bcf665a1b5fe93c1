import pg from 'pg';
import { readSourceLayout, type SourceLayout } from './source-layout.js';
import type { SourceDatabase } from './source-url.js';

/** A row of the source's users table, as the import needs it. */
export interface SourceUser {
  /** The id as text: how `imported_rows` and the report name it. */
  id: string;
  /** The id as the driver gave it, for keyset paging and `= any(…)` in its own column type. */
  key: unknown;
  email: string | null;
  passwordHash: string | null;
  name: string | null;
  createdAt: Date | null;
  deleted: boolean;
}

/** A login that was neither ended nor too old by the numbers: a candidate to become a session. */
export interface SourceLogin {
  id: string;
  userId: string;
  tokenId: string | null;
  ip: string | null;
  userAgent: string | null;
  tokenExpired: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** A device (user agent and address) a user signed in from, and when they last did. */
export interface SourceDevice {
  userId: string;
  userAgent: string | null;
  ip: string | null;
  at: Date;
}

/** The logins of a batch of users: candidates, and how many were ended or too old. */
export interface LoginBatch {
  candidates: SourceLogin[];
  revoked: number;
  expired: number;
}

/**
 * Reads the source in one read-only, repeatable-read transaction: PostgreSQL refuses any write
 * in it (the import cannot change the old app's data, whatever goes wrong), and every query
 * sees the same snapshot, so keyset pages, logins and the blacklist agree with each other
 * while the old app keeps running. Users come in pages by id, never all at once.
 */
export class SourceReader {
  private constructor(
    private readonly client: pg.Client,
    readonly layout: SourceLayout,
  ) {}

  static async open(source: SourceDatabase, schema: string): Promise<SourceReader> {
    const client = new pg.Client({ connectionString: source.url, connectionTimeoutMillis: 10_000 });
    client.on('error', () => {});
    await client.connect();
    try {
      await client.query('begin isolation level repeatable read read only');
      return new SourceReader(client, await readSourceLayout(client, schema));
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.client.query('rollback').catch(() => {});
    await this.client.end().catch(() => {});
  }

  async countUsers(): Promise<number> {
    const { rows } = await this.client.query<{ n: string }>(`select count(*) as n from ${this.layout.users.sql}`);
    return Number(rows[0]?.n ?? 0);
  }

  /** Every user, `size` at a time, in id order. */
  async *users(size: number): AsyncGenerator<SourceUser[]> {
    const { sql: table, columns: c } = this.layout.users;
    const optional = (column: string | undefined, as: string) => `${column ?? 'null'} as ${as}`;
    const select = `select ${c.id} as id, ${c.email} as email, ${c.password} as password, ${optional(c.name, 'name')},
      ${optional(c.firstName, 'first_name')}, ${optional(c.lastName, 'last_name')}, ${optional(c.username, 'username')},
      ${c.createdAt} as created_at, ${c.deletedAt ? `${c.deletedAt} is not null` : 'false'} as deleted from ${table}`;
    for await (const rows of this.pages(select, c.id, size)) {
      yield rows.map((row) => ({
        id: String(row.id),
        key: row.id,
        email: text(row.email),
        passwordHash: text(row.password),
        name: displayName(row),
        createdAt: row.created_at instanceof Date ? row.created_at : null,
        deleted: row.deleted === true,
      }));
    }
  }

  /**
   * Every live user's email, `size` at a time: a first pass that finds addresses used twice. A
   * soft-deleted user's address is free again, as it was in the old app.
   */
  async *emails(size: number): AsyncGenerator<Array<string | null>> {
    const { sql: table, columns: c } = this.layout.users;
    const live = c.deletedAt ? `${c.deletedAt} is null` : 'true';
    for await (const rows of this.pages(`select ${c.id} as id, ${c.email} as email from ${table}`, c.id, size, live)) yield rows.map((row) => text(row.email));
  }

  /**
   * The logins of these users: those that could still be sessions (not deleted, logged out or
   * soft-deleted; signed in after `createdAfter` and active after `activeAfter`), and how many
   * of the others were ended or were too old.
   */
  async logins(userKeys: unknown[], createdAfter: Date, activeAfter: Date): Promise<LoginBatch> {
    const { sql: table, columns: c } = this.layout.logins;
    const ended = [`${c.tokenDeleted} is true`, c.loggedOut && `${c.loggedOut} is true`, c.deletedAt && `${c.deletedAt} is not null`]
      .filter(Boolean)
      .join(' or ');
    const recent = `coalesce(${c.createdAt} > $2 and ${c.updatedAt} > $3, false)`;
    const counts = await this.client.query<{ revoked: string; expired: string }>(
      `select count(*) filter (where ${ended}) as revoked, count(*) filter (where not (${ended}) and not ${recent}) as expired
       from ${table} where ${c.userId} = any($1)`,
      [userKeys, createdAfter, activeAfter],
    );
    const { rows } = await this.client.query(
      `select ${c.id} as id, ${c.userId} as user_id, ${c.tokenId} as token_id, ${c.ip} as ip, ${c.device} as user_agent,
        ${c.tokenExpired ? `${c.tokenExpired} is true` : 'false'} as token_expired, ${c.createdAt} as created_at, ${c.updatedAt} as updated_at
       from ${table} where ${c.userId} = any($1) and not (${ended}) and ${recent} order by ${c.userId}, ${c.id}`,
      [userKeys, createdAfter, activeAfter],
    );
    return {
      candidates: rows.map((row) => ({
        id: String(row.id),
        userId: String(row.user_id),
        tokenId: row.token_id === null ? null : String(row.token_id),
        ip: text(row.ip),
        userAgent: text(row.user_agent),
        tokenExpired: row.token_expired === true,
        createdAt: row.created_at as Date,
        updatedAt: row.updated_at as Date,
      })),
      revoked: Number(counts.rows[0]?.revoked ?? 0),
      expired: Number(counts.rows[0]?.expired ?? 0),
    };
  }

  /** The devices these users signed in from since `since`, however those logins ended. */
  async devices(userKeys: unknown[], since: Date): Promise<SourceDevice[]> {
    const { sql: table, columns: c } = this.layout.logins;
    const { rows } = await this.client.query(
      `select ${c.userId} as user_id, ${c.device} as user_agent, ${c.ip} as ip, max(${c.updatedAt}) as at
       from ${table} where ${c.userId} = any($1) and ${c.createdAt} > $2 group by 1, 2, 3`,
      [userKeys, since],
    );
    return rows
      .filter((row) => row.at instanceof Date)
      .map((row) => ({ userId: String(row.user_id), userAgent: text(row.user_agent), ip: text(row.ip), at: row.at as Date }));
  }

  /** The blacklist's tokens added since `since` (all of them when it has no creation time). */
  async *blacklist(since: Date, size: number): AsyncGenerator<string[]> {
    const { sql: table, columns: c } = this.layout.blacklist;
    const where = c.createdAt ? `${c.createdAt} > $1` : '$1::timestamptz is not null';
    for await (const rows of this.pages(`select ${c.id} as id, ${c.token} as token from ${table}`, c.id, size, where, [since])) {
      yield rows.map((row) => text(row.token)).filter((token): token is string => token !== null);
    }
  }

  /**
   * Keyset pages of `select` (which selects the key as `id`), in key order: each page starts
   * after the last key of the one before, so a page costs the same at the end of a large
   * table as at its start, and nothing is held but the page.
   */
  private async *pages(select: string, key: string, size: number, where = 'true', params: unknown[] = []): AsyncGenerator<Array<Record<string, unknown>>> {
    let after: unknown;
    for (;;) {
      const n = params.length;
      const keyset = after === undefined ? '' : ` and ${key} > $${n + 1}`;
      const { rows } = await this.client.query(
        `${select} where (${where})${keyset} order by ${key} limit ${size}`,
        after === undefined ? params : [...params, after],
      );
      if (rows.length > 0) yield rows;
      if (rows.length < size) return;
      after = rows.at(-1)!.id;
    }
  }
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : value === null || value === undefined ? null : String(value);
}

/** A name, a first and last name, or a user name, in that order of preference. */
function displayName(row: Record<string, unknown>): string | null {
  const parts = [text(row.first_name), text(row.last_name)].filter((p) => p !== null && p.trim() !== '');
  for (const candidate of [text(row.name), parts.length > 0 ? parts.join(' ') : null, text(row.username)]) {
    if (candidate !== null && candidate.trim() !== '') return candidate;
  }
  return null;
}
