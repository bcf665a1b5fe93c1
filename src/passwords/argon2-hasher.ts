import { hash, verify, type Algorithm } from '@node-rs/argon2';
import type { PasswordHasher } from '../core/password-hasher.js';

// OWASP Password Storage Cheat Sheet, first choice: argon2id, 19 MiB, 2 passes, 1 lane.
// (`Algorithm` is a const enum, which isolated modules cannot read: 2 is Argon2id.)
const OPTIONS = { algorithm: 2 as Algorithm, memoryCost: 19456, timeCost: 2, parallelism: 1 };

export function argon2Hasher(): PasswordHasher {
  // A real hash of a random password, made once, for `verifyNothing` to check against.
  let decoy: Promise<string> | undefined;
  return {
    hash: (password) => hash(password, OPTIONS),
    verify: (stored, password) => verify(stored, password),
    async verifyNothing(password) {
      decoy ??= hash(crypto.randomUUID(), OPTIONS);
      await verify(await decoy, password);
      return false;
    },
  };
}
