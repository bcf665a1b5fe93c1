import { existsSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { postgresBinaries } from './postgres-binaries.js';

async function query(url: string, text: string): Promise<Array<Record<string, unknown>>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

describe('a PostgreSQL server of a test of its own', () => {
  it('keeps PostgreSQL’s durable settings when asked, so a commit survives a crash of the server, and starts again on its data', async () => {
    const server = await startEmbeddedPostgres({ name: 'gatehouse-helper-pg', durable: true });
    const url = server.url('postgres');
    let directory = '';
    try {
      expect(await query(url, "select setting from pg_settings where name in ('fsync', 'synchronous_commit', 'full_page_writes')")).toEqual([
        { setting: 'on' },
        { setting: 'on' },
        { setting: 'on' },
      ]);
      directory = String((await query(url, 'show data_directory'))[0]!.data_directory);
      await query(url, 'create table kept (n int); insert into kept values (1)');

      // An immediate shutdown, as a crash: no checkpoint, recovery from the WAL at the next start.
      process.kill(Number(readFileSync(join(directory, 'postmaster.pid'), 'utf8').split('\n')[0]), 'SIGQUIT');
      await server.start();
      await query(url, 'insert into kept values (2)');
      await server.stop();
      await server.start();
      expect(await query(url, 'select n from kept order by n')).toEqual([{ n: 1 }, { n: 2 }]);
    } finally {
      await server.remove();
    }
    expect(existsSync(dirname(directory))).toBe(false);
  }, 60_000);

  it.runIf(process.getuid?.() === 0)('runs, as root, binaries from a copy under the temp dir that every user may read and only root may change', async () => {
    const { initdb, postgres } = await postgresBinaries();
    for (const program of [initdb, postgres]) {
      expect(program.startsWith(tmpdir())).toBe(true);
      const { uid, mode } = statSync(program);
      expect({ uid, others: mode & 0o007 }).toEqual({ uid: 0, others: 0o005 });
    }
  });
});
