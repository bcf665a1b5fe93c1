/**
 * bcrypt hashes, as an Express + Sequelize app stores them (src/import): `$2b$` (bcrypt and
 * bcryptjs today), `$2a$` (their older releases; the same algorithm for every password such an
 * app could have hashed) and `$2y$` (PHP's name for `$2b$`), each with its two-digit cost and
 * 53 characters of salt and digest. Gatehouse never makes one: it only verifies them until
 * their owner's next sign-in replaces them with argon2id.
 */
const BCRYPT = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

export function isBcryptHash(hash: string): boolean {
  return BCRYPT.test(hash);
}

/** The cost (log2 of the rounds) a bcrypt hash was made with; verifying it costs 2^cost rounds. */
export function bcryptCost(hash: string): number {
  return Number(hash.slice(4, 6));
}

/**
 * The dearest bcrypt hash Gatehouse verifies, and so the dearest `gatehouse import` brings:
 * cost 12 takes about 0.3 s to verify here (10: 70 ms), and each step up doubles it (14:
 * 1.5 s, 31: days). Each sign-in attempt on an account holds a hashing worker for that long,
 * and anyone may make attempts, so a costlier hash would let a handful of them occupy every
 * worker. Apps use 10 to 12.
 */
export const MAX_BCRYPT_COST = 12;

/** A bcrypt hash of a cost Gatehouse verifies. */
export function isVerifiableBcryptHash(hash: string): boolean {
  return isBcryptHash(hash) && bcryptCost(hash) <= MAX_BCRYPT_COST;
}
