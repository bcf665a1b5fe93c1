import { integerValue } from '../args.js';
import { command } from '../command.js';
import { cannotStart } from '../failure.js';
import { configOf } from '../io.js';

/** Far more than the cores of any machine this runs on; a typo like 200 is refused, not forked. */
export const MAX_WORKERS = 64;

export const serve = command({
  name: 'serve',
  summary: 'run the server (what `npm start` runs)',
  usage: 'gatehouse serve [--workers N]',
  description: `Serves the Gatehouse API on HOST:PORT (default 127.0.0.1:3000) with the database at
DATABASE_URL (default: SQLite at ./data/gatehouse.db), applying pending migrations
first.

SIGTERM or SIGINT stops it cleanly. At once, new connections are refused and
/readyz answers 503. Every request already read is answered as usual, with
Connection: close; a kept-alive connection with no request in flight gets 1 s to
send one more, then is closed. Then the last-activity times it holds are written,
webhook deliveries in flight get 3 s to finish (the rest go back to the outbox for
any node), and the database is closed: exit code 0. Every change that was answered
had been committed before its answer. A stop that takes longer than
GATEHOUSE_SHUTDOWN_TIMEOUT (default 10 s) ends with exit code 1 and an error line.
With --workers, SIGTERM to this process stops every worker this way.`,
  success: 'stopped cleanly by SIGTERM or SIGINT',
  options: {
    workers: {
      value: 'N',
      description: `run N worker processes (1 to ${MAX_WORKERS}) on the one port, with
node:cluster: a sign-out reaches every worker at once, and a
worker that dies is restarted. Even 1 runs as a worker under a
supervising process. Without --workers, one process serves.`,
    },
  },
  async run(options, io) {
    const workers = options.workers === undefined ? undefined : integerValue('workers', options.workers, 1, MAX_WORKERS);
    const config = configOf(io);
    try {
      // Loaded here, not at the top: `gatehouse --help` should not wait for Fastify and the
      // database drivers, and the primary of `--workers` never needs the server itself.
      if (workers === undefined) return await (await import('../serve/one-process.js')).serveOneProcess(config);
      return await (await import('../serve/primary.js')).servePrimary(config, workers);
    } catch (error) {
      throw cannotStart(error);
    }
  },
});
