import type { SourceDatabase } from '../../import/source-url.js';
import type { Store } from '../../storage/store.js';
import { UsageError } from '../args.js';
import { command } from '../command.js';
import { configOf } from '../io.js';
import { progress } from '../progress.js';
import { withStore } from '../with-store.js';

/** Source names: what `imported_rows` files the rows under, and what `--source` accepts. */
const SOURCE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

export const importCommand = command({
  name: 'import',
  summary: 'bring users and their sign-ins from an Express + Sequelize app',
  usage: 'gatehouse import --from postgres://… [--source NAME] [--schema NAME] [--emails-verified] [--dry-run] [--json]',
  description: `Reads the users, logins and token blacklist of the app Gatehouse grew from (tables
"Users", "User_Logins", "BlacklistTokens" in PostgreSQL; README, "Moving from Express +
Sequelize") and brings them into the database at DATABASE_URL: each user with a bcrypt
hash (verified at their next sign-in, then rehashed to argon2id), and each login still
alive as a session they see in their device list. The old app's tokens stop working:
people sign in again. Each user comes with its sessions in one transaction. Nothing in
the source is written. Run it again at any time: it brings only what is new, and never
overwrites an account. A progress bar (or plain lines) goes to stderr, the report to
stdout.`,
  success: 'done (users it could not import are counted in the report, by reason)',
  options: {
    from: {
      value: 'URL',
      description: `the source database: postgres://user@host:5432/database, its password
in PGPASSWORD or ~/.pgpass (a password in the URL shows in the process list)`,
    },
    source: {
      value: 'NAME',
      description: `the name imported rows are filed under (default: the source
database's name); reruns must use the same one`,
    },
    schema: { value: 'NAME', description: 'the schema holding the tables (default: public)' },
    'dry-run': { description: 'read and check everything, write nothing, print the same report' },
    'emails-verified': {
      description: `the old app proved its users' addresses: import them as verified (by
default they are not, until the owner follows a verification link or resets the password)`,
    },
    json: { description: 'print the report as JSON' },
  },
  async run(options, io) {
    const { from } = options;
    // PGPASSWORD and ~/.pgpass are read by the pg driver from the process's own environment, as
    // libpq reads them: they are the driver's conventions, not Gatehouse configuration.
    if (from === undefined) throw new UsageError('--from is required: --from postgres://user@host:5432/database, the password in PGPASSWORD or ~/.pgpass');
    // Loaded here, not at the top: `gatehouse --help` should not wait for the import's modules.
    const { databaseName, scrubbed, sourceDatabase, SourceUrlError } = await import('../../import/source-url.js');
    let source: SourceDatabase;
    try {
      source = sourceDatabase(from);
    } catch (error) {
      throw error instanceof SourceUrlError ? new UsageError(`--from ${error.message}`) : error;
    }
    const name = options.source ?? databaseName(source);
    if (!SOURCE_NAME.test(name)) {
      throw new UsageError(
        `${options.source !== undefined ? '--source' : "the source database's name, the default --source,"} must be 1 to 64 letters, digits, ".", "_" or "-"; got ${JSON.stringify(name)}`,
      );
    }
    const schema = options.schema ?? 'public';
    if (!SCHEMA_NAME.test(schema)) throw new UsageError(`--schema must be a schema name such as public; got ${JSON.stringify(schema)}`);
    const dryRun = options['dry-run'] === true;
    const config = configOf(io);

    const { SourceReader } = await import('../../import/source-reader.js');
    const { SourceLayoutError } = await import('../../import/source-layout.js');
    const { runImport } = await import('../../import/run-import.js');
    const { reportJson, reportText } = await import('../../import/report.js');
    const { openDryRunTarget } = await import('../../import/dry-run-target.js');
    const { openLocator } = await import('../../geo/open-locator.js');

    const locator = await openLocator(config.geoipDatabase, () => {});
    const reader = await SourceReader.open(source, schema).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(
        error instanceof SourceLayoutError ? `${source.masked}: ${message}` : `cannot read the source database ${source.masked}: ${scrubbed(message, source)}`,
        { cause: error },
      );
    });
    try {
      const total = await reader.countUsers();
      const work = async (store: Store) => {
        const bar = progress(dryRun ? 'checking users (dry run)' : 'importing users', total, io.stderr, () => io.clock.now());
        const report = await runImport({
          reader,
          store,
          source: name,
          dryRun,
          emailsVerified: options['emails-verified'] === true,
          policy: { idleTtlSeconds: config.sessionIdleTtlSeconds, maxAgeSeconds: config.sessionMaxAgeSeconds, maxSessions: config.maxSessions },
          locator,
          now: io.clock.now(),
          onUser: () => bar.advance(),
        });
        bar.done(`${dryRun ? 'checked' : 'imported'} ${total} users from ${name}`);
        return report;
      };
      const report = dryRun ? await withDryRunTarget(await openDryRunTarget(config.database), work) : await withStore(config, work);
      io.stdout.write(options.json ? reportJson(report) : reportText(report));
      return 0;
    } catch (error) {
      // A failure on the source's connection (it went away mid-run) must not show its password.
      if (error instanceof Error) error.message = scrubbed(error.message, source);
      throw error;
    } finally {
      await reader.close();
    }
  },
});

/** As withStore does for the real run: the store is closed when the work is done or failed. */
async function withDryRunTarget<T>(store: Store, work: (store: Store) => Promise<T>): Promise<T> {
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}
