import type { SigningKeyRecord } from '../../core/records.js';
import { iso, keyState, retirableAt, type TokenLifetime } from '../../keys/key-schedule.js';
import { isSealed } from '../../keys/private-key-encryption.js';
import { command } from '../command.js';
import { configOf, say, sayTable } from '../io.js';
import { withStore } from '../with-store.js';

export const keysList = command({
  name: 'list',
  summary: 'the signing keys, what each is doing, and when it can go',
  usage: 'gatehouse keys list [--json]',
  description: `Lists every signing key, oldest first: its kid, algorithm, when it was created and
when nodes sign with it from, its state, whether its private key is sealed (encrypted
with GATEHOUSE_SECRET) or stored in plain text, and from when it can be retired
without signing anybody out. States:
  next            published, verifying; nodes sign with it from ACTIVATES
  signing         every node signs new tokens with it
  verifying-only  published, verifying tokens it signed until they expire
  retired         no longer published; its tokens are refused`,
  success: 'listed',
  options: {
    json: { description: 'print a JSON array instead of a table (times in ISO 8601)' },
  },
  async run(options, io) {
    const config = configOf(io);
    const keys = await withStore(config, (store) => store.listSigningKeys());
    const rows = describeKeys(keys, io.clock.now(), config);
    if (options.json) {
      say(io, JSON.stringify(rows, null, 2));
      return 0;
    }
    if (rows.length === 0) {
      say(io, 'gatehouse: no signing key yet (the server creates one at its first start)');
      return 0;
    }
    const table = [
      ['KID', 'ALG', 'CREATED', 'ACTIVATES', 'STATE', 'PRIVATE', 'RETIRABLE FROM'],
      ...rows.map((r) => [
        r.kid,
        r.alg,
        r.created_at,
        r.activates_at,
        r.state,
        r.private_key,
        r.state === 'retired' ? `retired ${r.retired_at}` : (r.retirable_from ?? '-'),
      ]),
    ];
    sayTable(io, table);
    return 0;
  },
});

/** One key as `keys list` shows it. */
export interface KeyDescription {
  kid: string;
  alg: string;
  state: ReturnType<typeof keyState>;
  created_at: string;
  activates_at: string;
  retired_at: string | null;
  /** From when retiring it signs nobody out; null while no later key takes over, or once retired. */
  retirable_from: string | null;
  private_key: 'sealed' | 'plain';
}

export function describeKeys(keys: SigningKeyRecord[], now: number, lifetime: TokenLifetime): KeyDescription[] {
  return keys.map((key) => {
    const state = keyState(key, keys, now);
    // A key that has not signed yet can go at any time (that calls its rotation off).
    const retirable = state === 'signing' || state === 'verifying-only' ? retirableAt(key, keys, lifetime) : undefined;
    return {
      kid: key.kid,
      alg: key.alg,
      state,
      created_at: iso(key.createdAt),
      activates_at: iso(key.activatesAt),
      retired_at: key.retiredAt === null ? null : iso(key.retiredAt),
      retirable_from: retirable === undefined ? null : iso(retirable),
      private_key: isSealed(key.privateJwk) ? 'sealed' : 'plain',
    };
  });
}
