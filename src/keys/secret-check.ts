import type { SigningKeyRecord } from '../core/records.js';
import { isSealed, openPrivateKey } from './private-key-encryption.js';

/**
 * Run before any key material is written (a rotation, by hand or on schedule; sealing plain
 * keys): throws unless what would be written fits the keys already there. Every node signs
 * with whichever key is due and reloads all of them or none, so one bad key written now
 * breaks every node later:
 * - without a secret beside sealed keys, the new key would be plain, and a copy of the
 *   database could sign tokens with it;
 * - with a secret that does not open the sealed keys, the nodes could not open what is written
 *   with it, and once the old keys are retired no node could start.
 * Opening one unretired sealed key proves the secret is the deployment's.
 */
export function checkSecretFits(keys: SigningKeyRecord[], secret: string | undefined): void {
  const sealed = keys.filter((k) => isSealed(k.privateJwk));
  if (sealed.length === 0) return;
  if (secret === undefined) {
    throw new Error(
      'the signing keys are sealed: set GATEHOUSE_SECRET to the secret the servers use; nothing was written (a key in plain text would let a copy of the database sign tokens)',
    );
  }
  const probe = sealed.find((k) => k.retiredAt === null);
  if (!probe) return;
  try {
    openPrivateKey(probe.privateJwk, secret, probe.kid);
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}; nothing was written`, { cause: error });
  }
}
