import { receiveRevocations, sendRevocations } from '../../revocation/cluster-relay.js';
import { cannotStart, failureLine } from '../failure.js';
import { configOf, processIo } from '../io.js';
import { serveOneProcess } from './one-process.js';

/*
 * What each worker of `gatehouse serve --workers N` runs (the primary forks this file): the
 * node `gatehouse serve` runs alone, plus the relay that tells sibling workers of its sign-outs
 * at once and applies theirs. node:cluster shares the listening port between the workers. The
 * primary has validated the configuration and migrated the database before forking.
 *
 * The primary stops a worker with a signal, and the worker stops as `gatehouse serve` does. A
 * primary killed outright takes its workers with it: node:cluster ends a worker at once when
 * its channel to the primary closes, so none is left holding the database.
 */

Promise.resolve()
  .then(() =>
    serveOneProcess(configOf(processIo()), {
      onRevoked: sendRevocations(),
      beforeListen: async (gatehouse) => {
        receiveRevocations(gatehouse.view);
        // Sign-outs committed after the view was loaded but before this worker heard its
        // siblings were relayed to no one here: read them now, not at the first catch-up.
        await gatehouse.sync.catchUp();
      },
    }),
  )
  .then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(failureLine(cannotStart(error)));
      process.exit(1);
    },
  );
