import type pg from 'pg';

/**
 * The Express + Sequelize layout `gatehouse import` reads, and the names it accepts for each
 * part (README, "Moving from Express + Sequelize"): Sequelize's defaults first (quoted PascalCase
 * tables, camelCase timestamps), then `underscored: true` and other common spellings. The first
 * name found wins. A required part that is missing stops the import, naming it and the names
 * looked for: guessing a column wrong would import wrong accounts. Columns named otherwise can be
 * renamed by views in a schema of their own (`--schema`).
 */
const TABLES = {
  users: ['Users', 'users'],
  logins: ['User_Logins', 'UserLogins', 'user_logins'],
  blacklist: ['BlacklistTokens', 'BlacklistToken', 'blacklist_tokens'],
} as const;

interface ColumnSpec {
  names: readonly string[];
  /** What it holds, for the message that says it is missing. */
  what: string;
  required: boolean;
}

const CREATED_AT = ['createdAt', 'created_at'];
const UPDATED_AT = ['updatedAt', 'updated_at'];
/** Sequelize's `paranoid` tables soft-delete: a row with a deletion time is gone. */
const DELETED_AT = ['deletedAt', 'deleted_at'];

const COLUMNS = {
  users: {
    id: { names: ['id'], what: 'the user id', required: true },
    email: { names: ['email', 'email_address', 'emailAddress'], what: 'the email address', required: true },
    password: { names: ['password', 'password_hash', 'passwordHash', 'hashed_password'], what: 'the bcrypt password hash', required: true },
    name: { names: ['name', 'full_name', 'fullName', 'display_name', 'displayName'], what: 'the name', required: false },
    firstName: { names: ['first_name', 'firstName', 'firstname'], what: 'the first name', required: false },
    lastName: { names: ['last_name', 'lastName', 'lastname'], what: 'the last name', required: false },
    username: { names: ['username', 'user_name', 'userName'], what: 'the user name', required: false },
    createdAt: { names: CREATED_AT, what: 'the creation time', required: true },
    deletedAt: { names: DELETED_AT, what: 'the deletion time', required: false },
  },
  logins: {
    id: { names: ['id'], what: 'the login id', required: true },
    userId: { names: ['user_id', 'userId', 'UserId'], what: "the user's id", required: true },
    tokenId: { names: ['token_id', 'tokenId'], what: "the token's id", required: true },
    tokenDeleted: { names: ['token_deleted', 'tokenDeleted'], what: 'whether the token was deleted', required: true },
    ip: { names: ['ip_address', 'ipAddress', 'ip'], what: 'the IP address', required: true },
    device: { names: ['device', 'user_agent', 'userAgent'], what: 'the user agent', required: true },
    loggedOut: { names: ['logged_out', 'loggedOut'], what: 'whether it logged out', required: false },
    tokenExpired: { names: ['token_expired', 'tokenExpired'], what: 'whether the token expired', required: false },
    createdAt: { names: CREATED_AT, what: 'the sign-in time', required: true },
    updatedAt: { names: UPDATED_AT, what: 'the last update', required: true },
    deletedAt: { names: DELETED_AT, what: 'the deletion time', required: false },
  },
  blacklist: {
    id: { names: ['id'], what: 'the row id', required: true },
    token: { names: ['token'], what: 'the token or its id', required: true },
    createdAt: { names: CREATED_AT, what: 'the time it was added', required: false },
  },
} as const satisfies Record<keyof typeof TABLES, Record<string, ColumnSpec>>;

type Part = keyof typeof TABLES;
/** Each column part's name in the source, quoted for SQL; undefined when an optional one is absent. */
export type Columns<P extends Part> = { [K in keyof (typeof COLUMNS)[P]]: (typeof COLUMNS)[P][K] extends { required: true } ? string : string | undefined };

export interface Table<P extends Part> {
  /** The table's name as it is in the source, for the report and `imported_rows`. */
  name: string;
  /** `"schema"."Table"`, quoted for SQL. */
  sql: string;
  columns: Columns<P>;
  /** Which source column each part was read from: the report says so. */
  mapping: Record<string, string>;
}

export interface SourceLayout {
  schema: string;
  users: Table<'users'>;
  logins: Table<'logins'>;
  blacklist: Table<'blacklist'>;
}

/** The source lacks something the import needs: exit code 1, with every missing part named. */
export class SourceLayoutError extends Error {
  override name = 'SourceLayoutError';
}

/** A PostgreSQL identifier, quoted: names come from the catalog, and may hold any character. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Reads the source's tables and columns from information_schema and maps them to the layout. */
export async function readSourceLayout(client: pg.ClientBase, schema: string): Promise<SourceLayout> {
  const candidates = Object.values(TABLES).flat();
  const { rows } = await client.query<{ table_name: string; column_name: string }>(
    'select table_name, column_name from information_schema.columns where table_schema = $1 and table_name = any($2)',
    [schema, candidates],
  );
  const columnsOf = new Map<string, Set<string>>();
  for (const row of rows) {
    if (!columnsOf.has(row.table_name)) columnsOf.set(row.table_name, new Set());
    columnsOf.get(row.table_name)!.add(row.column_name);
  }
  const problems: string[] = [];
  const table = <P extends Part>(part: P): Table<P> | undefined => {
    const name = TABLES[part].find((n) => columnsOf.has(n));
    if (name === undefined) {
      problems.push(`no table ${TABLES[part].map((n) => JSON.stringify(n)).join(' or ')} in schema ${JSON.stringify(schema)}`);
      return undefined;
    }
    const present = columnsOf.get(name)!;
    const columns: Record<string, string | undefined> = {};
    const mapping: Record<string, string> = {};
    for (const [key, spec] of Object.entries(COLUMNS[part]) as Array<[string, ColumnSpec]>) {
      const found = spec.names.find((n) => present.has(n));
      if (found !== undefined) {
        columns[key] = quoteIdentifier(found);
        mapping[key] = found;
      } else if (spec.required) {
        problems.push(`table ${JSON.stringify(name)} has no column for ${spec.what} (looked for ${spec.names.join(', ')})`);
      }
    }
    return { name, sql: `${quoteIdentifier(schema)}.${quoteIdentifier(name)}`, columns: columns as Columns<P>, mapping };
  };
  const users = table('users');
  const logins = table('logins');
  const blacklist = table('blacklist');
  if (problems.length > 0 || !users || !logins || !blacklist) {
    throw new SourceLayoutError(`the source does not have the Express + Sequelize layout: ${problems.join('; ')}`);
  }
  return { schema, users, logins, blacklist };
}
