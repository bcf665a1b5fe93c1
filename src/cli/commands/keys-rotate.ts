import { iso, KEY_RELOAD_INTERVAL_MS, PUBLICATION_DELAY_MS, retirableAt } from '../../keys/key-schedule.js';
import { resolveKeySecret } from '../../keys/local-secret.js';
import { rotateSigningKey, sealPlainKeys } from '../../keys/rotation.js';
import { command } from '../command.js';
import { configOf, say } from '../io.js';
import { withStore } from '../with-store.js';

export const keysRotate = command({
  name: 'rotate',
  summary: 'add a new signing key; nodes switch to it once it is published everywhere',
  usage: 'gatehouse keys rotate',
  description: `Adds a new Ed25519 signing key. Every node publishes it in its JWKS within
${KEY_RELOAD_INTERVAL_MS / 1000} s, and all of them start signing with it ${PUBLICATION_DELAY_MS / 60_000} minutes from now, when every
resource server has fetched it too: no signed-in user notices. The keys before it keep
verifying the tokens they signed; retire them once those have expired (gatehouse keys
retire --expired; GATEHOUSE_KEY_ROTATION_DAYS does both on a schedule).

The new private key is stored sealed with GATEHOUSE_SECRET or, where it is not set, with
the local secret the server keeps beside the database (gatehouse.secret), and keys stored
in plain text before are sealed now (a server does this at start too). Use the secret the
servers use: a rotation with one that does not open the sealed keys is refused and changes
nothing.`,
  success: 'the key was added',
  options: {},
  async run(_options, io) {
    const config = configOf(io);
    const now = io.clock.now();
    const { key, keys, sealed } = await withStore(config, async (store) => {
      const secret = await resolveKeySecret(config.secret, config.database, () => store.listSigningKeys(), { mayCreate: 'beside-sqlite', cwd: io.cwd });
      const added = await rotateSigningKey(store, io.clock, secret.value);
      const count = await sealPlainKeys(store, secret.value);
      return { key: added, keys: await store.listSigningKeys(), sealed: count };
    });
    say(io, `gatehouse: added signing key ${key.kid}; every node signs with it from ${iso(key.activatesAt)}`);
    const previous = keys.filter((k) => k.retiredAt === null && k.kid !== key.kid && k.activatesAt <= now);
    for (const old of previous) {
      const from = retirableAt(old, keys, config);
      if (from !== undefined) say(io, `gatehouse: key ${old.kid} keeps verifying; retire it from ${iso(from)} (gatehouse keys retire --expired)`);
    }
    if (sealed > 0) say(io, `gatehouse: sealed ${sealed} private ${sealed === 1 ? 'key' : 'keys'} stored in plain text`);
    return 0;
  },
});
