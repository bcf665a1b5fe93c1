import { createRemoteJWKSet, customFetch, type CryptoKey, type FetchImplementation } from 'jose';
import { ACCESS_TOKEN_ALG, type VerificationKeys } from './access-token.js';
import { GatehouseError } from './errors.js';

export interface RemoteKeysOptions {
  url: string;
  /** The least time between two fetches prompted by an unknown `kid`. */
  cooldownMs: number;
  /** How long a fetched key set is used before it is fetched again (a retired key stops working then). */
  maxAgeMs: number;
  fetch: typeof fetch;
  /** Aborted when the verifier closes: cancels a fetch in flight. */
  signal: AbortSignal;
  /** Measures the pause after a failed fetch. */
  monotonic: () => number;
}

/** After a failed fetch, requests answer 503 at once for this long instead of each trying again. */
const RETRY_AFTER_FAILURE_MS = 1000;

/**
 * Gatehouse's public keys, from its JWKS, over jose's remote key set: fetched on first use,
 * again when a token names an unknown `kid` (a key rotated in; at most once per cooldown, so
 * forged kids cannot make us hammer Gatehouse), and again when the set is older than its max age
 * (so a retired key stops verifying).
 *
 * Call `prepare(kid)` before verifying: it does any fetch the token needs and turns a failure
 * into `unavailable`. A token we cannot check is not the client's fault, so it must not get the
 * 401 that would send the user back to sign in; and it is never accepted.
 */
export class RemoteKeys implements VerificationKeys {
  private readonly remote: ReturnType<typeof createRemoteJWKSet>;
  private kids = new Set<string>();
  private retryAt = -Infinity;
  private readonly monotonic: () => number;

  constructor(options: RemoteKeysOptions) {
    this.monotonic = options.monotonic;
    const fetchJwks: FetchImplementation = async (url, init) => {
      // Either jose's timeout or close() ends the fetch.
      const fetching = new AbortController();
      const abort = () => fetching.abort();
      init.signal.addEventListener('abort', abort, { once: true });
      options.signal.addEventListener('abort', abort, { once: true });
      try {
        return await options.fetch(url, { ...init, signal: fetching.signal });
      } finally {
        // The long-lived close signal must not collect one listener per fetch; jose's own
        // timeout still covers reading the body.
        options.signal.removeEventListener('abort', abort);
      }
    };
    this.remote = createRemoteJWKSet(new URL(options.url), {
      cooldownDuration: options.cooldownMs,
      cacheMaxAge: options.maxAgeMs,
      [customFetch]: fetchJwks,
    });
  }

  /** Makes sure the key set can answer for `kid`, fetching it if needed; throws `unavailable` if it cannot. */
  async prepare(kid: string): Promise<void> {
    const known = this.kids.has(kid);
    if (this.remote.fresh && (known || this.remote.coolingDown)) return;
    if (this.monotonic() < this.retryAt) throw unavailable();
    try {
      await this.remote.reload();
    } catch {
      this.retryAt = this.monotonic() + RETRY_AFTER_FAILURE_MS;
      throw unavailable();
    } finally {
      this.syncKids();
    }
  }

  /** Fetches the key set now (errors are left for the first request to meet). */
  warmUp(): void {
    this.remote
      .reload()
      .catch(() => {})
      .finally(() => this.syncKids());
  }

  async verificationKey(kid: string): Promise<CryptoKey | undefined> {
    try {
      return await this.remote({ alg: ACCESS_TOKEN_ALG, kid });
    } catch {
      // No such key (prepare() already met any fetch failure and answered unavailable).
      return undefined;
    } finally {
      this.syncKids();
    }
  }

  hasKey(kid: string): boolean {
    return this.remote.fresh && this.kids.has(kid);
  }

  private syncKids(): void {
    const kids = new Set<string>();
    for (const jwk of this.remote.jwks()?.keys ?? []) if (typeof jwk.kid === 'string') kids.add(jwk.kid);
    this.kids = kids;
  }
}

function unavailable(): GatehouseError {
  return new GatehouseError('unavailable', 'The signing keys of Gatehouse cannot be fetched right now; try again shortly.');
}
