import type SQLite from 'better-sqlite3';
import pg from 'pg';
import type { Connection, DatabaseLocation } from '../../src/storage/kysely/connect.js';
import { fillInstallation } from './postgres-installation.js';

/**
 * What the plan check (test/storage/query-plans.test.ts) asks of each database: the statements a
 * workload runs, and what is wrong with the plan of each. Wrong is reading rows of a big table
 * that the statement does not return: a scan, a whole index read, a search of an index by a
 * column it is not ordered by, or a sort of the table's rows.
 */

export interface Recorded {
  sql: string;
  /** The parameters of its last run: each database plans with the values it is given. */
  parameters: unknown[];
}

export interface Recording {
  statements: Map<string, Recorded>;
  /** Stops recording (what runs after it is not the workload's). */
  stop(): void;
}

export interface PlanReader {
  /**
   * What is wrong with `statement`'s plan, one line each; none when its cost is bounded by what
   * it returns. Rejects when the database cannot plan it. On PostgreSQL a month of history the
   * purge has dropped since is planned as the oldest month left, as it was when it ran.
   */
  problems(statement: Recorded): Promise<string[]>;
  close(): Promise<void>;
}

/** Records the statements Gatehouse runs on `connection`, SQLite's or PostgreSQL's. */
export function recordStatements(connection: Connection): Recording {
  return connection.sqlite ? recordSqlite(connection.sqlite) : recordPostgres();
}

export interface BigTables {
  /** Tables no statement may scan or sort. */
  read: string[];
  /** Tables no statement may count (a count of the pending outbox is bounded by what it counts). */
  counted: string[];
}

/** Reads plans from the database at `location` (`connection`'s), where the workload has run until `now`. */
export async function planReader(location: DatabaseLocation, connection: Connection, tables: BigTables, now: number): Promise<PlanReader> {
  return connection.sqlite ? sqlitePlans(connection.sqlite, tables) : postgresPlans(location, tables, now);
}

/** Every statement the connection prepares and runs (better-sqlite3 prepares each text once, connect.ts). */
function recordSqlite(sqlite: SQLite.Database): Recording {
  const statements = new Map<string, Recorded>();
  const wrapped = new WeakSet<object>();
  const original = sqlite.prepare;
  const prepare = original.bind(sqlite);
  let recording = true;
  sqlite.prepare = ((source: string) => {
    const statement = prepare(source) as unknown as Record<string, (...args: unknown[]) => unknown>;
    if (!wrapped.has(statement)) {
      wrapped.add(statement);
      for (const method of ['all', 'get', 'run', 'iterate']) {
        const run = statement[method]!.bind(statement);
        statement[method] = (...parameters: unknown[]) => {
          if (recording) statements.set(source, { sql: source, parameters });
          return run(...parameters);
        };
      }
    }
    return statement;
  }) as unknown as SQLite.Database['prepare'];
  return {
    statements,
    stop: () => {
      recording = false;
      sqlite.prepare = original;
    },
  };
}

/**
 * Every statement any pg client of this process sends (the store's pool gives no other way in:
 * connect.ts makes it), until `stop` puts pg's own method back.
 */
function recordPostgres(): Recording {
  const statements = new Map<string, Recorded>();
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const [config, values] = args as [string | { text?: string; values?: unknown[] } | undefined, unknown];
    const sql = typeof config === 'string' ? config : config?.text;
    if (typeof sql === 'string')
      statements.set(sql, { sql, parameters: Array.isArray(values) ? values : typeof config === 'object' ? (config.values ?? []) : [] });
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as unknown as typeof query;
  return {
    statements,
    stop: () => {
      pg.Client.prototype.query = query;
    },
  };
}

/** A count reads every row it counts, whatever index it takes: it is bounded by the table. */
function countsBigTable(sql: string, tables: BigTables): string[] {
  return new RegExp(`^select count\\(.*\\bfrom "(${tables.counted.join('|')})"`, 'i').test(sql) ? ['COUNT of a big table'] : [];
}

/**
 * SQLite's EXPLAIN QUERY PLAN: a SCAN or a temporary B-tree of a big table, or a search of it by
 * `revoked_at` alone, which for `revoked_at IS NULL` visits every live session. It plans the
 * statements that read and write rows only: of any other (VACUUM, CREATE INDEX, PRAGMA) it
 * shows an empty plan, which would pass for a clean one, so those are refused as PostgreSQL does.
 */
function sqlitePlans(sqlite: SQLite.Database, tables: BigTables): PlanReader {
  const bigTables = tables.read;
  const names = bigTables.join('|');
  return {
    problems: async (statement) => {
      if (!/^\s*(select|insert|update|delete|replace|with|values)\b/i.test(statement.sql)) throw new Error('SQLite plans no such statement');
      const plan = sqlite.prepare(`explain query plan ${statement.sql}`).all(...(statement.parameters as never[])) as Array<{ detail: string }>;
      const touchesBigTable = bigTables.some((table) => new RegExp(`\\b"?${table}"?\\b`).test(statement.sql));
      return plan
        .map((row) => row.detail)
        .filter(
          (detail) =>
            new RegExp(`^SCAN (${names})\\b`).test(detail) ||
            new RegExp(`^SEARCH (${names}) USING (COVERING )?INDEX \\w+ \\(revoked_at=\\?\\)`).test(detail) ||
            (touchesBigTable && /TEMP B-TREE/.test(detail)),
        )
        .concat(countsBigTable(statement.sql, tables));
    },
    close: async () => {},
  };
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

const INDEX_SCANS = ['Index Scan', 'Index Only Scan', 'Bitmap Index Scan'];
/** A month partition of `events` (event-months.ts), by the name of its table. */
const MONTH = /\bevents_\d{4}_(0[1-9]|1[0-2])\b/g;

/**
 * PostgreSQL's EXPLAIN, planned with the statement's parameters. PostgreSQL plans by statistics,
 * and on the workload's few rows a scan is the cheapest plan of anything, so the database gets
 * the rows of a running installation first (postgres-installation.ts) and is analysed; sequential scans are then
 * priced out, so a plan that still reads a table whole has no index to take instead. An index
 * read with no condition on its first column reads it whole too.
 */
async function postgresPlans(location: DatabaseLocation, tables: BigTables, now: number): Promise<PlanReader> {
  if (location.kind !== 'postgres') throw new Error('a PostgreSQL plan reader needs a PostgreSQL database');
  const bigTables = tables.read;
  const client = new pg.Client({ connectionString: location.url });
  await client.connect();
  await fillInstallation(client, now);
  // Statistics of every row, not of a sample: the same plans at every run.
  await client.query('set default_statistics_target = 200');
  await client.query(`analyze ${bigTables.join(', ')}`);
  // What reads a table whole is priced out: a sequential scan, and a hash or merge join, which
  // reads both sides whole where a nested loop looks the inner rows up by an index. On a copy of
  // a million users the planner would not take them either; on this one it might, as reading
  // all of a few thousand rows costs about as much as a batch of 500 lookups.
  await client.query('set enable_seqscan = off; set enable_hashjoin = off; set enable_mergejoin = off');
  // Which big table each relation is, its partitions included, and the first column of each of
  // their indexes (the first name in it, for an expression).
  const relations = await client.query<{ relation: string; parent: string }>(
    `select t.relname as relation, coalesce(p.relname, t.relname) as parent
       from pg_class t left join pg_inherits h on h.inhrelid = t.oid left join pg_class p on p.oid = h.inhparent
      where coalesce(p.relname, t.relname) = any($1)`,
    [bigTables],
  );
  const bigTableOf = new Map(relations.rows.map((row) => [row.relation, row.parent]));
  const indexes = await client.query<{ index: string; first: string }>(
    `select c.relname as index, pg_get_indexdef(i.indexrelid, 1, true) as first
       from pg_index i join pg_class c on c.oid = i.indexrelid join pg_class t on t.oid = i.indrelid
      where t.relname = any($1)`,
    [[...bigTableOf.keys()]],
  );
  const firstColumn = new Map(indexes.rows.map((row) => [row.index, /\w+/.exec(row.first)?.[0] ?? row.first]));
  // The months of history left, oldest first (names sort by month).
  const months = (
    await client.query<{ name: string }>(
      `select c.relname as name from pg_inherits h join pg_class c on c.oid = h.inhrelid where h.inhparent = 'events'::regclass order by 1`,
    )
  ).rows
    .map((row) => row.name)
    .filter((name) => new RegExp(`^${MONTH.source}$`).test(name));
  // A month older than every month left is one the purge dropped after the statement ran (a
  // month never made, or a name mistyped, is not): its stand-in is the oldest month left.
  const standIn = (statement: Recorded): { statement: Recorded; note?: string } => {
    const dropped = [...new Set(statement.sql.match(MONTH))].filter((name) => months[0] !== undefined && name < months[0]);
    if (dropped.length === 0) return { statement };
    const sql = statement.sql.replace(MONTH, (name) => (dropped.includes(name) ? months[0]! : name));
    return { statement: { ...statement, sql }, note: `planned on ${months[0]}, as ${dropped.join(', ')} is dropped` };
  };

  const readsBigTable = (node: PlanNode): string | undefined =>
    bigTableOf.get(node['Relation Name'] ?? '') ?? (node.Plans ?? []).map(readsBigTable).find((table) => table !== undefined);
  const scans = (node: PlanNode, table?: string): string[] => {
    const type = node['Node Type'];
    const relation = node['Relation Name'] ?? table;
    const big = bigTableOf.has(relation ?? '');
    const here: string[] = [];
    if (big && type === 'Seq Scan') here.push(`Seq Scan on ${relation}`);
    if (big && INDEX_SCANS.includes(type)) {
      const index = node['Index Name'] ?? '?';
      const condition = node['Index Cond'];
      const first = firstColumn.get(index);
      if (condition === undefined) here.push(`${type} of all of ${index} on ${relation}`);
      else if (first !== undefined && !new RegExp(`\\b${first}\\b`).test(condition))
        here.push(`${type} of all of ${index} on ${relation}, for ${condition} (not on its first column, ${first})`);
    }
    // The index scans under a bitmap heap scan (and its BitmapAnd, BitmapOr) read its table.
    const below = type.startsWith('Bitmap') ? relation : undefined;
    return here.concat((node.Plans ?? []).flatMap((child) => scans(child, below)));
  };
  const sorts = (node: PlanNode): string[] => {
    const sorted = node['Node Type'].endsWith('Sort') ? readsBigTable(node) : undefined;
    return (sorted ? [`${node['Node Type']} of rows of ${sorted}`] : []).concat((node.Plans ?? []).flatMap(sorts));
  };
  const plan = async (statement: Recorded) =>
    (await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`explain (format json) ${statement.sql}`, statement.parameters)).rows[0]!['QUERY PLAN'][0]!
      .Plan;

  return {
    problems: async (recorded) => {
      const { statement, note } = standIn(recorded);
      const found = scans(await plan(statement));
      // Sorting a handful of rows is cheaper than reading an index in order, and the planner
      // knows when it is a handful: a sort it keeps when sorts are priced out has no index to
      // read in that order instead (a second plan, for its sorts only).
      await client.query('set enable_sort = off; set enable_incremental_sort = off');
      found.push(...sorts(await plan(statement)));
      await client.query('reset enable_sort; reset enable_incremental_sort');
      return found.concat(countsBigTable(statement.sql, tables)).map((problem) => (note === undefined ? problem : `${problem} (${note})`));
    },
    close: () => client.end(),
  };
}
