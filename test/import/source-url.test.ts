import { describe, expect, it } from 'vitest';
import { databaseName, scrubbed, sourceDatabase, SourceUrlError } from '../../src/import/source-url.js';

/** What `sourceDatabase` refused with, or the URL as shown when it took it. */
function shown(value: string): string {
  try {
    return sourceDatabase(value).masked;
  } catch (error) {
    if (!(error instanceof SourceUrlError)) throw error;
    return `refused: ${error.message}`;
  }
}

describe('the source URL', () => {
  it('is a postgres:// or postgresql:// URL with a host, shown with its password masked', () => {
    expect(sourceDatabase('postgres://ann:s3cret@db.internal:5432/app')).toEqual({
      url: 'postgres://ann:s3cret@db.internal:5432/app',
      masked: 'postgres://ann:***@db.internal:5432/app',
      secrets: ['s3cret'],
    });
    expect(shown('postgresql://db/app')).toBe('postgresql://db/app');
    expect(shown('postgres://ann:p@ss@db/app')).toBe('postgres://ann:***@db/app');
    expect(shown('mysql://ann:s3cret@db/app')).toBe(
      'refused: must be a postgres:// or postgresql:// URL; what was given is not shown, as it may hold a password',
    );
    expect(shown('postgres://')).toBe('refused: names no host: postgres://user@host:5432/database');
    for (const other of ['sqlite:./data/app.db', 'db.internal/app', '']) expect(shown(other), other).toMatch(/^refused: /);
  });

  it('masks password query parameters too, which pg reads as the password', () => {
    const source = sourceDatabase('postgres://ann@db/app?password=hunter22&sslmode=require&sslpassword=key%20phrase');
    expect(source.masked).toBe('postgres://ann@db/app?password=***&sslmode=require&sslpassword=***');
    expect(scrubbed(`connect to ${source.url} failed: bad password hunter22, key phrase or key%20phrase`, source)).toBe(
      'connect to postgres://ann@db/app?password=***&sslmode=require&sslpassword=*** failed: bad password ***, *** or ***',
    );
  });

  it('never quotes text it cannot read, where a password cannot be told from the rest', () => {
    // A "/" ends the host early: "ann:p" is no host and port, and the password would be shown whole.
    for (const value of ['postgres://ann:p/ss@db/app', 'postgres://ann:p?ss@db/app', 'ann:hunter22@db/app']) {
      const message = shown(value);
      expect(message, value).toMatch(/^refused: /);
      expect(message, value).not.toMatch(/p\/ss|p\?ss|hunter22/);
    }
    // …or, where the start of the password reads as a port, ends it inside the password.
    expect(shown('postgres://ann:12/34@db/app')).toBe(
      'refused: has an "@" after its host (not shown, as it may hold a password): a password with "/", "?" or "#" must be percent-encoded ("%2F", "%3F", "%23"), or better, left out and given in PGPASSWORD or ~/.pgpass',
    );
    expect(shown('postgres://ann:p%2Fss@db/app')).toBe('postgres://ann:***@db/app');
  });

  it('names the source after its database, or its user as PostgreSQL does without one', () => {
    expect(databaseName(sourceDatabase('postgres://ann:x@db/my_app'))).toBe('my_app');
    expect(databaseName(sourceDatabase('postgres://ann:x@db'))).toBe('ann');
    expect(databaseName(sourceDatabase('postgres://db'))).toBe('postgres');
    expect(databaseName(sourceDatabase('postgres://db/100%'))).toBe('100%');
  });

  it('never lets the password through a message, even one that quotes it', () => {
    const source = sourceDatabase('postgres://ann:s3cret%21@db/app');
    expect(source.secrets).toEqual(['s3cret%21', 's3cret!']);
    expect(scrubbed('connect to postgres://ann:s3cret%21@db/app failed: bad password s3cret! (s3cret%21)', source)).toBe(
      'connect to postgres://ann:***@db/app failed: bad password *** (***)',
    );
    expect(sourceDatabase('postgres://ann:p%zz@db/app').secrets).toEqual(['p%zz']);
  });
});
