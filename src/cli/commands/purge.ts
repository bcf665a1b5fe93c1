import type { Store } from '../../storage/store.js';
import { command } from '../command.js';
import { configOf, say } from '../io.js';
import { progress, type Progress } from '../progress.js';
import { withStore } from '../with-store.js';

export const purge = command({
  name: 'purge',
  summary: 'delete now what is past its retention (every node does it hourly)',
  usage: 'gatehouse purge',
  description: `Runs the retention purge every server runs each hour, now: sessions that ended longer
ago than GATEHOUSE_SESSION_RETENTION (but never sign-outs younger than the revocation
horizon), brute-force and mail counters that limit nothing any more, webhook deliveries
and mail settled over a week ago, emailed links a day past their expiry, and login history older than GATEHOUSE_EVENT_RETENTION (on PostgreSQL,
whole months of it at once, and the months ahead are made). Rows go in small batches, so
servers running beside it are not held up. Shows a progress bar per phase on a
terminal, and plain lines otherwise (on stderr); the counts go to stdout.`,
  success: 'purged (or nothing was due)',
  options: {},
  async run(_options, io) {
    const config = configOf(io);
    // Loaded here, not at the top: `gatehouse --help` should not wait for the server's modules.
    const { purgePhases } = await import('../../gatehouse.js');
    const counts = await withStore(config, async (store) => {
      const done: string[] = [];
      for (const phase of purgePhases(config)) {
        const bar = progress(`purging ${phase.name}`, undefined, io.stderr, () => io.clock.now());
        const deleted = await phase.run({ store: reportingBatches(store, bar), clock: io.clock });
        bar.done(`purged ${phase.name}: ${deleted}`);
        done.push(`${deleted} ${phase.name}`);
      }
      return done;
    });
    say(io, `gatehouse: purged ${counts.join(', ')}`);
    return 0;
  },
});

/**
 * The store as the phases use it, but each purge batch moves the bar by the rows it deleted:
 * the phases are the server's own, so the command can never purge other than the server does.
 */
function reportingBatches(store: Store, bar: Progress): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string' || !property.startsWith('purge')) return value;
      return async (...args: unknown[]) => {
        const deleted = (await (value as (...a: unknown[]) => Promise<number>).apply(target, args)) as number;
        bar.advance(deleted);
        return deleted;
      };
    },
  });
}
