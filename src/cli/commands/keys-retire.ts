import type { Config } from '../../config.js';
import { iso, KEY_RELOAD_INTERVAL_MS, retirableAt } from '../../keys/key-schedule.js';
import { retireExpiredKeys, retireSigningKey } from '../../keys/rotation.js';
import { UsageError } from '../args.js';
import { command } from '../command.js';
import { complain, configOf, say, type CliIo } from '../io.js';
import { withStore } from '../with-store.js';

const RELOAD_S = KEY_RELOAD_INTERVAL_MS / 1000;
const FORCE_COST = 'its tokens are refused at once, so their holders must refresh (an app that cannot is signed out)';

export const keysRetire = command({
  name: 'retire',
  summary: 'stop publishing a key whose tokens have all expired',
  usage: 'gatehouse keys retire (--kid KID | --expired) [--force]',
  description: `Retires a signing key: it leaves the JWKS of every node within ${RELOAD_S} s, and tokens
it signed are refused from then on. A key is retired only when that signs nobody out:
it no longer signs (a newer key has taken over) and every token it signed has expired
(the token lifetime, GATEHOUSE_ACCESS_TOKEN_TTL, and the clock tolerance after that,
plus a minute). gatehouse keys list shows from when. A key that has not started
signing yet can be retired at any time: that calls its rotation off.

When a private key has leaked, rotate, then retire the leaked key at once with --force:
${FORCE_COST}. A new key that is not published everywhere yet then signs early (a
resource server fetches it when it first meets it). The last key is never retired.`,
  success: 'retired (or retired already; with --expired, also when none was due)',
  options: {
    kid: { value: 'KID', description: 'the key to retire (see gatehouse keys list)' },
    expired: { description: 'retire every key whose tokens have all expired' },
    force: { description: `with --kid: retire it even if it signs or its tokens may be\nalive (${FORCE_COST})` },
  },
  async run(options, io) {
    const { kid } = options;
    const force = options.force === true;
    if ((kid === undefined) === (options.expired === undefined)) throw new UsageError('give either --kid KID or --expired');
    if (force && kid === undefined) throw new UsageError('--force goes with --kid: --expired retires only keys that are safe to retire');
    const config = configOf(io);
    if (kid === undefined) return retireExpired(config, io);

    const result = await withStore(config, (store) => retireSigningKey(store, io.clock, kid, { lifetime: config, force }));
    switch (result.outcome) {
      case 'unknown':
        complain(io, `gatehouse: there is no signing key ${kid} (see: gatehouse keys list)`);
        return 1;
      case 'already-retired':
        say(io, `gatehouse: key ${kid} was retired already, at ${iso(result.key.retiredAt as number)}`);
        return 0;
      case 'refused':
        complain(
          io,
          `gatehouse: key ${kid} was not retired: ${result.reason}${result.forceable ? `; retire it once that is over, or now with --force: ${FORCE_COST}` : ''}`,
        );
        return 1;
      case 'retired':
        say(io, `gatehouse: retired key ${kid}; every node stops accepting its tokens within ${RELOAD_S} s`);
        if (result.forced) complain(io, `gatehouse: warning: retired by force although ${result.forced}: ${FORCE_COST}`);
        return 0;
    }
  },
});

async function retireExpired(config: Readonly<Config>, io: CliIo): Promise<number> {
  const { retired, keys } = await withStore(config, async (store) => ({
    retired: await retireExpiredKeys(store, io.clock, config),
    keys: await store.listSigningKeys(),
  }));
  for (const key of retired) say(io, `gatehouse: retired key ${key.kid}`);
  if (retired.length > 0) say(io, `gatehouse: every node stops accepting their tokens within ${RELOAD_S} s`);
  const now = io.clock.now();
  // Keys on their way out whose tokens may still be alive: when to come back.
  for (const key of keys.filter((k) => k.retiredAt === null)) {
    const from = retirableAt(key, keys, config);
    if (from !== undefined && from > now) say(io, `gatehouse: key ${key.kid} can be retired from ${iso(from)}`);
  }
  if (retired.length === 0) say(io, 'gatehouse: no key was due for retirement');
  return 0;
}
