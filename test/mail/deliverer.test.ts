import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { newMail } from '../../src/core/mail.js';
import { createGatehouse, type Gatehouse } from '../../src/gatehouse.js';
import { openStore, type KyselyStore } from '../../src/storage/kysely/kysely-store.js';
import type { Config } from '../../src/config.js';
import { testConfig } from '../helpers/app.js';
import { testClock } from '../helpers/clock.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../helpers/databases.js';
import { instantHasher } from '../helpers/hashers.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';

/**
 * The mail deliverer (src/mail/deliverer.ts) with a real SMTP server: what it refuses is tried
 * again later, what it accepts never again, and a node that stops and another that starts on
 * the same database lose nothing and send nothing twice. On every database: the outbox is
 * shared between nodes, so its claims are the store's.
 */

const clock = testClock();

async function node(config: Config, logs?: object[]): Promise<Gatehouse> {
  const store = await openStore(config.database);
  const logger = logs ? { level: 'info', stream: { write: (line: string) => logs.push(JSON.parse(line)) } } : false;
  return createGatehouse(config, { clock, store, logger, hasher: instantHasher() });
}

/** How many attempts each queued message has had, oldest first. */
async function attempts(gatehouse: Gatehouse): Promise<number[]> {
  const rows = await (gatehouse.store as KyselyStore).db.selectFrom('mail_outbox').select('attempts').orderBy('created_at').execute();
  return rows.map((r) => Number(r.attempts));
}

describe.each(DATABASES)('mail delivery on %s', (kind) => {
  let smtp: TestSmtpServer;
  let database: TestDatabase;
  const open: Gatehouse[] = [];

  beforeAll(async () => {
    smtp = await startSmtpServer({ credentials: { user: 'gatehouse', pass: 'p@ss:word/1' } });
  });
  afterAll(() => smtp.close());
  afterEach(async () => {
    for (const gatehouse of open.splice(0)) await gatehouse.close();
    await database.drop();
    smtp.received.length = 0;
    smtp.refuse(false);
  });

  async function started(): Promise<Gatehouse> {
    const gatehouse = await node(testConfig({ database: database.location, mail: { kind: 'smtp', url: smtp.url, starttls: 'off' } }));
    open.push(gatehouse);
    return gatehouse;
  }

  it('retries what the server refuses, across a restart, and delivers every message exactly once', async () => {
    database = await createTestDatabase(kind);
    smtp.refuse(true);
    const first = await started();
    const messages = ['ann@example.com', 'bob@example.com', 'cy@example.com'].map((to, i) => newMail('test', clock.now() - i, { recipient: to, userId: null }));
    await first.store.queueMail(messages);
    // The node's own timer may take some of them first: either way, each is tried once and refused.
    await first.mail!.sendDue();
    await expect.poll(() => attempts(first), { timeout: 5_000 }).toEqual([1, 1, 1]);
    expect(await first.store.mailBacklog()).toMatchObject({ pending: 3 });

    await first.close();
    open.splice(open.indexOf(first), 1);
    smtp.refuse(false);
    const second = await started();
    // Not before the backoff's time: the server said "later".
    expect(await second.mail!.sendDue()).toEqual({ sent: 0, failed: 0 });
    clock.advance(2);
    await second.mail!.sendDue();
    await smtp.waitFor(3);
    clock.advance(3600);
    expect(await second.mail!.sendDue()).toEqual({ sent: 0, failed: 0 });
    expect(smtp.received).toHaveLength(3);

    expect(smtp.received.map((m) => m.to[0]).sort()).toEqual(['ann@example.com', 'bob@example.com', 'cy@example.com']);
    const ids = smtp.received.map((m) => m.parsed.messageId);
    expect(new Set(ids).size).toBe(3);
    expect(ids).toEqual(expect.arrayContaining(messages.map((m) => `<${m.id}@localhost>`)));
    expect(await second.store.mailBacklog()).toEqual({ pending: 0, oldestCreatedAt: null });
  });

  it('gives up at once on a message the server refuses for good (5xx), and keeps trying one it refuses for now (4xx)', async () => {
    database = await createTestDatabase(kind);
    const gatehouse = await started();
    smtp.refuse(true, 550);
    await gatehouse.store.queueMail([newMail('test', clock.now(), { recipient: 'gone@example.com', userId: null })]);
    await gatehouse.mail!.sendDue();
    await expect.poll(() => gatehouse.store.mailBacklog(), { timeout: 5_000 }).toEqual({ pending: 0, oldestCreatedAt: null });
    const [row] = await (gatehouse.store as KyselyStore).db.selectFrom('mail_outbox').select(['attempts', 'gave_up_at', 'last_error']).execute();
    expect(row).toMatchObject({ attempts: 1, gave_up_at: expect.anything(), last_error: expect.stringContaining('550') });
  });

  it('sends each message from one of two nodes only, whichever claims it', async () => {
    database = await createTestDatabase(kind);
    const [a, b] = [await started(), await started()];
    const messages = Array.from({ length: 12 }, (_, i) => newMail('test', clock.now() - i, { recipient: `user${i}@example.com`, userId: null }));
    await a.store.queueMail(messages);
    await Promise.all([a.mail!.sendDue(), b.mail!.sendDue(), a.mail!.sendDue(), b.mail!.sendDue()]);
    await smtp.waitFor(12);
    await expect.poll(() => a.store.mailBacklog(), { timeout: 5_000 }).toEqual({ pending: 0, oldestCreatedAt: null });
    expect(smtp.received).toHaveLength(12);
    expect(new Set(smtp.received.map((m) => m.parsed.messageId)).size).toBe(12);
  });
});

describe('mail without an SMTP server (outside production)', () => {
  let dir: string;
  let database: TestDatabase;
  let gatehouse: Gatehouse | undefined;

  afterEach(async () => {
    await gatehouse?.close();
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes each message as an .eml file only its owner can read, and the log line names the file', async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'gatehouse-mail-')), 'mail');
    database = await createTestDatabase('sqlite');
    const logs: object[] = [];
    gatehouse = await node(testConfig({ database: database.location, mail: { kind: 'files', dir } }), logs);
    await gatehouse.store.queueMail([newMail('test', clock.now(), { recipient: 'ann@example.com', userId: null })]);
    expect(await gatehouse.mail!.sendDue()).toEqual({ sent: 1, failed: 0 });
    const [file] = readdirSync(dir);
    expect(file).toMatch(/\.eml$/);
    const path = join(dir, file!);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const parsed = await simpleParser(readFileSync(path));
    expect(parsed.subject).toBe('A test message from Gatehouse');
    expect(parsed.to && !Array.isArray(parsed.to) ? parsed.to.text : '').toBe('ann@example.com');
    expect(logs).toContainEqual(expect.objectContaining({ component: 'mail', file: path, msg: `mail written to ${path}` }));
  });
});
