import type { Algorithm } from '@node-rs/argon2';
import type { PasswordHasher, PasswordWork } from '../core/password-hasher.js';
import { Argon2Pool } from './argon2-pool.js';
import { isBcryptHash, isVerifiableBcryptHash } from './bcrypt.js';

// OWASP Password Storage Cheat Sheet, first choice: argon2id, 19 MiB, 2 passes, 1 lane.
// (`Algorithm` is a const enum, which isolated modules cannot read: 2 is Argon2id.)
const OPTIONS = { algorithm: 2 as Algorithm, memoryCost: 19456, timeCost: 2, parallelism: 1 };

// A hash Gatehouse makes is a PHC string, `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<digest>`:
// algorithm, version and parameters first, in a fixed order (the argon2 encoding). A hash is
// rehashed at the next sign-in when it is weaker than today's: another variant or version, less
// memory or fewer passes, or another algorithm (a bcrypt hash brought by `gatehouse import`). A
// stronger one (an operator who raised the cost before) is kept: replacing it would lower its cost.
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

/**
 * An imported bcrypt hash was made by the old app from the password as typed; Gatehouse
 * compares NFKC forms. As typed first: that is what the old app accepted. Then, only when it
 * differs, the NFKC form: the owner who typed the same passphrase composed differently (a
 * decomposed "é" pasted from macOS) is the same person, and Gatehouse treats both forms as one
 * password from here on. The second check costs one more bcrypt only for input that is not in
 * NFKC form, which tells whoever typed it nothing they did not know.
 */
async function verifyBcrypt(stored: string, normalized: string, work: PasswordWork, typed: string | undefined): Promise<boolean> {
  if (await pool().verifyBcrypt(stored, typed ?? normalized, work)) return true;
  return typed !== undefined && typed !== normalized && pool().verifyBcrypt(stored, normalized, work);
}

export function argon2Hasher(): PasswordHasher {
  // A real hash of a random password, made once, for `verifyNothing` to check against.
  let decoy: Promise<string> | undefined;
  async function verifyNothing(password: string, work: PasswordWork): Promise<false> {
    // A decoy that failed to be made (the pool was full) is forgotten, not kept: a cached
    // failure would answer every unknown email with 503 and every real one with 401.
    decoy ??= pool().hash(crypto.randomUUID(), OPTIONS, work);
    const made = decoy;
    const hash = await made.catch((error: unknown) => {
      if (decoy === made) decoy = undefined;
      throw error;
    });
    await pool().verify(hash, password, work);
    return false;
  }
  return {
    hash: (password, work) => pool().hash(password, OPTIONS, work),
    verify(stored, password, work, typed) {
      if (!isBcryptHash(stored)) return pool().verify(stored, password, work);
      // `gatehouse import` brings no costlier bcrypt hash (bcrypt.ts), but one may reach the
      // database some other way (by hand, a restored backup). Verifying it would hold a worker
      // for seconds to days at every attempt, for anyone who asks: it fails instead, at the
      // cost of the decoy, so it neither ties up the pool nor answers faster than a wrong password.
      return isVerifiableBcryptHash(stored) ? verifyBcrypt(stored, password, work, typed) : verifyNothing(password, work);
    },
    verifyNothing,
    needsRehash: weakerThanToday,
    saturated: (work) => shared?.full(work) ?? false,
  };
}
