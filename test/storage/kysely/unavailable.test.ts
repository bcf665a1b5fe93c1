import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { isGatehouseError } from '../../../src/core/errors.js';
import { connect } from '../../../src/storage/kysely/connect.js';
import { KyselyStore } from '../../../src/storage/kysely/kysely-store.js';
import { isDatabaseUnavailable, reportingUnavailable } from '../../../src/storage/kysely/unavailable.js';

/** A TCP port nothing listens on: connecting to it is refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('a database that cannot serve us', () => {
  it.each([
    withCode('ECONNREFUSED'),
    withCode('57P01', 'terminating connection due to administrator command'),
    withCode('57P03', 'the database system is starting up'),
    withCode('08006'),
    withCode('SQLITE_BUSY', 'database is locked'),
    withCode('55P03', 'canceling statement due to lock timeout'),
    withCode('25006', 'cannot execute UPDATE in a read-only transaction'),
    withCode('40P01', 'deadlock detected'),
    withCode('40001', 'could not serialize access due to concurrent update'),
    withCode('53100', 'could not extend file: No space left on device'),
    new Error('Query read timeout'),
    withCode('SQLITE_IOERR_FSYNC'),
    new Error('Connection terminated unexpectedly'),
    new Error('timeout exceeded when trying to connect'),
  ])('is recognised from %s', (error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    withCode('23505', 'duplicate key value violates unique constraint'),
    withCode('42P01', 'relation "sessions" does not exist'),
    withCode('SQLITE_CONSTRAINT_UNIQUE'),
    new TypeError('Cannot read properties of undefined'),
    'not even an error',
  ])('is not confused with a bug or a conflict: %s', (error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });

  it('makes every store method fail with `unavailable` when PostgreSQL refuses connections', async () => {
    const { db, dialect } = connect({ kind: 'postgres', url: `postgres://gatehouse:secret@127.0.0.1:${await closedPort()}/gatehouse` });
    const store = reportingUnavailable(new KyselyStore(db, dialect));
    try {
      for (const attempt of [store.findSession('some-session'), store.listRevokedSince(0), store.ping()]) {
        const error = await attempt.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isGatehouseError(error, 'unavailable')).toBe(true);
        expect((error as Error).cause).toMatchObject({ code: 'ECONNREFUSED' });
      }
    } finally {
      await store.close();
    }
  });

  it('lets other errors through unchanged', async () => {
    const failing = reportingUnavailable({
      conflict: () => Promise.reject(withCode('23505')),
      bug: () => {
        throw new TypeError('bug');
      },
    });
    await expect(failing.conflict()).rejects.toMatchObject({ code: '23505' });
    expect(() => failing.bug()).toThrow(TypeError);
  });
});
