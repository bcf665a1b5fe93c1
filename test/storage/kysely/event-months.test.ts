import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newEvent, type ActivityEvent } from '../../../src/core/activity.js';
import { eventMonths } from '../../../src/storage/kysely/event-months.js';
import { connect, type Connection } from '../../../src/storage/kysely/connect.js';
import { KyselyStore, openStore } from '../../../src/storage/kysely/kysely-store.js';
import { SqliteSync } from '../../../src/storage/kysely/sqlite-sync.js';
import { createTestDatabase, createTestStore, DATABASES, type TestDatabase } from '../../helpers/databases.js';
import { recordStatements } from '../../helpers/query-plans.js';

/**
 * Issue 16, item 4: history by month. On PostgreSQL `events` is partitioned by month (migration
 * 0013): these look at the partitions themselves; the events conformance suite holds both
 * databases to what a user sees. On both, a page deep in a long history reads what it returns.
 */

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g';
const DAY = 86_400_000;
const JUNE = Date.UTC(2026, 5, 1);
const JULY = Date.UTC(2026, 6, 1);

let store: KyselyStore;
let database: TestDatabase;
let close: () => Promise<void>;

async function aUser(id: string): Promise<string> {
  await store.createUser({ id, email: `${id}@example.com`, emailKey: `${id}@example.com`, name: null, passwordHash: HASH, role: 'user', createdAt: JUNE });
  return id;
}

const signIn = (userId: string, at: number): ActivityEvent => newEvent('signed_in', at, { userId, detail: { new_device: false } }, false);

describe.each(DATABASES)('a page deep in a long history on %s', (kind) => {
  let connection: Connection;

  beforeEach(async () => {
    database = await createTestDatabase(kind);
    connection = connect(database.location);
    store = new KyselyStore(connection.db, connection.dialect, connection.sqlite && new SqliteSync(connection.db, connection.sqlite));
  });
  afterEach(async () => {
    await store.close();
    await database.drop();
  });

  it('reads 40,000 events deep only the rows it returns, across months', async () => {
    const userId = await aUser('deep');
    await store.prepareEventMonths(JUNE);
    // 61,000 sign-ins two minutes apart from mid-June to September (a month not made: the
    // default partition), and a neighbour's. The page is 40,000 deep, in July, with 21,000 below it.
    const events = Array.from({ length: 61_000 }, (_, i) => signIn(userId, JUNE + 15 * DAY + i * 120_000));
    for (let i = 0; i < events.length; i += 1000) await store.recordEvents(events.slice(i, i + 1000));
    await store.recordEvents([signIn(await aUser('neighbour'), JULY)]);
    await sql`analyze`.execute(store.db);
    const deep = events.at(-40_000)!;

    const recording = recordStatements(connection);
    const page = await store.listUserEvents(userId, { limit: 50, before: { at: deep.at, id: deep.id } });
    recording.stop();
    expect(page.map((e) => e.id)).toEqual(
      events
        .slice(0, -40_000)
        .reverse()
        .slice(0, 50)
        .map((e) => e.id),
    );
    const [statement] = [...recording.statements.values()].filter((s) => /from "events"/.test(s.sql));
    expect(statement).toBeDefined();

    if (kind === 'sqlite') {
      const plan = connection.sqlite!.prepare(`explain query plan ${statement!.sql}`).all(...(statement!.parameters as never[])) as Array<{ detail: string }>;
      expect(plan.map((row) => row.detail)).toEqual(['SEARCH events USING INDEX events_user_at (user_id=? AND (at,id)<(?,?))']);
      return;
    }
    const client = new pg.Client({ connectionString: (database.location as { url: string }).url });
    await client.connect();
    try {
      const { rows } = await client.query(`explain (analyze, format json) ${statement!.sql}`, statement!.parameters);
      const scans = flatten(rows[0]['QUERY PLAN'][0].Plan).filter((node) => node['Node Type'].includes('Scan'));
      // Merge Append reads one row ahead in each month it merges: at most that over the page.
      const read = scans.reduce((sum, node) => sum + node['Actual Rows'], 0);
      expect(read).toBeLessThanOrEqual(50 + scans.length);
      // The months after the cursor are left out when the statement is planned.
      expect(scans.map((node) => node['Relation Name']).sort()).toEqual(['events_2026_06', 'events_2026_07', 'events_default']);
    } finally {
      await client.end();
    }
  });
});

describe('history by month on postgres', () => {
  beforeEach(async () => {
    ({ store, database, close } = await createTestStore('postgres'));
  });
  afterEach(() => close());

  const months = async () => (await eventMonths(store.db)).map((m) => m.name);
  const partitionOf = async (id: string) =>
    (await sql<{ partition: string }>`select tableoid::regclass::text as partition from events where id = ${id}`.execute(store.db)).rows[0]?.partition;

  it('makes the month of now and the next two, and moves into them what was written before they were', async () => {
    const userId = await aUser('ann');
    const early = signIn(userId, Date.UTC(2031, 4, 10));
    await store.recordEvents([early]);
    expect(await partitionOf(early.id)).toBe('events_default');
    await store.prepareEventMonths(Date.UTC(2031, 3, 30, 23, 59));
    expect(await months()).toEqual(expect.arrayContaining(['events_2031_04', 'events_2031_05', 'events_2031_06']));
    expect(await months()).not.toContain('events_2031_07');
    expect(await partitionOf(early.id)).toBe('events_2031_05');
    expect((await store.findEvent(early.id))?.at).toBe(early.at);
  });

  it('drops the months that ended before the cut-off, and keeps the one it falls in for the batches', async () => {
    const userId = await aUser('ann');
    await store.prepareEventMonths(JUNE);
    const june = [signIn(userId, JUNE), signIn(userId, JULY - 1)];
    const july = signIn(userId, JULY + DAY);
    await store.recordEvents([...june, july]);
    expect(await store.purgeEventMonths(JULY + 10 * DAY)).toBe(2);
    expect(await months()).not.toContain('events_2026_06');
    expect(await months()).toContain('events_2026_07');
    expect(await partitionOf(july.id)).toBe('events_2026_07');
    expect(await store.purgeEventMonths(JULY + 10 * DAY)).toBe(0);
  });

  it('one node drops the month the cut-off just left while another batch-deletes in it: neither fails', async () => {
    const other = await openStore(database.location);
    const client = new pg.Client({ connectionString: (database.location as { url: string }).url });
    await client.connect();
    try {
      const userId = await aUser('ann');
      await store.prepareEventMonths(JUNE);
      const june = newEvent('signed_in', JUNE + DAY, { userId, detail: { new_device: true } }, true);
      await store.recordEvents([june, signIn(userId, JULY - DAY)]);
      // A webhook delivery settling meanwhile holds its outbox row: the drop waits for it
      // between locking the month and dropping it, and the batch comes in that gap.
      await client.query('begin');
      await client.query('update webhook_deliveries set attempts = attempts where event_id = $1', [june.id]);
      const errors: unknown[] = [];
      const drop = store.purgeEventMonths(JULY + DAY).catch((error: unknown) => errors.push(error));
      await new Promise((resolve) => setTimeout(resolve, 300));
      const batch = other.purgeEvents(JULY - 2 * DAY, 500).catch((error: unknown) => errors.push(error));
      await new Promise((resolve) => setTimeout(resolve, 300));
      await client.query('commit');
      await Promise.all([drop, batch]);
      expect(errors).toEqual([]);
      expect(await months()).not.toContain('events_2026_06');
      expect(await store.listUserEvents(userId, { limit: 10 })).toEqual([]);
      expect((await store.webhookBacklog()).pending).toBe(0);
    } finally {
      await client.end();
      await other.close();
    }
  });
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Rows': number;
  Plans?: PlanNode[];
}

function flatten(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(flatten)];
}
