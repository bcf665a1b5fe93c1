import { createHash } from 'node:crypto';
import { emailKey } from '../core/email.js';

/**
 * Email keys (core/email.ts: trimmed, NFC, lower case) that more than one source user has. The
 * old app may have told `Ann@example.com` from `ann@example.com`; Gatehouse cannot, and
 * choosing one of them would hand the account to whoever signs in first, so every user sharing
 * a key is skipped and reported.
 *
 * Two passes over the emails, not a set of them all: the first keeps 48 bits of each key's
 * SHA-256 (a number, about 40 bytes a user however long the address), the second the exact
 * keys behind the few numbers seen twice, so a chance collision of two numbers costs nothing.
 */
export async function duplicateEmailKeys(passes: () => AsyncIterable<Array<string | null>>): Promise<Set<string>> {
  const seen = new Set<number>();
  const twice = new Set<number>();
  for await (const emails of passes()) {
    for (const email of emails) {
      if (email === null) continue;
      const n = fingerprint(emailKey(email));
      if (seen.has(n)) twice.add(n);
      else seen.add(n);
    }
  }
  seen.clear();
  if (twice.size === 0) return new Set();
  const counts = new Map<string, number>();
  for await (const emails of passes()) {
    for (const email of emails) {
      if (email === null) continue;
      const key = emailKey(email);
      if (twice.has(fingerprint(key))) counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return new Set([...counts].filter(([, n]) => n > 1).map(([key]) => key));
}

function fingerprint(key: string): number {
  return createHash('sha256').update(key).digest().readUIntBE(0, 6);
}
