import type { Algorithm } from '@node-rs/argon2';
import type { PasswordHasher } from '../core/password-hasher.js';
import { Argon2Pool } from './argon2-pool.js';

// OWASP Password Storage Cheat Sheet, first choice: argon2id, 19 MiB, 2 passes, 1 lane.
// (`Algorithm` is a const enum, which isolated modules cannot read: 2 is Argon2id.)
const OPTIONS = { algorithm: 2 as Algorithm, memoryCost: 19456, timeCost: 2, parallelism: 1 };

// A hash is a PHC string, `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<digest>`: algorithm, version
// and parameters first, in a fixed order (the argon2 encoding). A hash is rehashed at the next
// sign-in when it is weaker than today's: another variant or version, less memory or fewer
// passes. A stronger one (an operator who raised the cost before) is kept: replacing it would
// lower its cost.
const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/;

function weakerThanToday(stored: string): boolean {
  const match = PHC.exec(stored);
  if (!match) return true;
  const [memory, passes] = [Number(match[1]), Number(match[2])];
  return memory < OPTIONS.memoryCost || passes < OPTIONS.timeCost;
}

// One pool for the process, made at the first hash: every hasher (and every node of a test run)
// shares the same one-per-core workers, so together they never run more hashes than there are
// cores. Sized then, so a process pinned to fewer cores after it started gets fewer workers.
let shared: Argon2Pool | undefined;
const pool = () => (shared ??= new Argon2Pool());

export function argon2Hasher(): PasswordHasher {
  // A real hash of a random password, made once, for `verifyNothing` to check against.
  let decoy: Promise<string> | undefined;
  return {
    hash: (password) => pool().hash(password, OPTIONS),
    verify: (stored, password) => pool().verify(stored, password),
    async verifyNothing(password) {
      // A decoy that failed to be made (the pool was full) is forgotten, not kept: a cached
      // failure would answer every unknown email with 503 and every real one with 401.
      const made = (decoy ??= pool().hash(crypto.randomUUID(), OPTIONS));
      const hash = await made.catch((error: unknown) => {
        if (decoy === made) decoy = undefined;
        throw error;
      });
      await pool().verify(hash, password);
      return false;
    },
    needsRehash: weakerThanToday,
    saturated: () => shared !== undefined && shared.load.waiting >= shared.maxWaiting,
  };
}
