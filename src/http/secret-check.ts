import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Whether a presented secret (a service key, the metrics token) is one of `secrets`, in the same
 * time whatever it is. Both sides are hashed to SHA-256 first, so timingSafeEqual compares equal
 * lengths and neither the length nor a right prefix shows in the time taken; and every secret is
 * compared every time, so which one matched does not show either.
 */
export function secretChecker(secrets: readonly string[]): (presented: string) => boolean {
  const known = secrets.map(digest);
  return (presented) => {
    const candidate = digest(presented);
    let matched = false;
    for (const key of known) matched = timingSafeEqual(key, candidate) || matched;
    return matched;
  };
}
