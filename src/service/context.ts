import type { AccessTokenKeys, AccessTokenSettings } from '../core/access-token.js';
import type { Clock } from '../core/clock.js';
import type { NotMeLinks } from '../core/not-me-link.js';
import type { PasswordHasher } from '../core/password-hasher.js';
import type { WordList } from '../core/password-blocklist.js';
import type { SessionPolicy } from '../core/session-policy.js';
import type { SignInLimitPolicy } from '../core/sign-in-limits.js';
import type { Locator } from '../geo/locator.js';
import type { RevocationSink } from '../revocation/revocation-view.js';
import type { Store } from '../storage/store.js';
import type { SecurityLog } from './security-log.js';

/**
 * Everything a use case needs, passed in: tests build one with a fake clock and a real store.
 * The use cases in this folder are where the store, the rules of core/ and the revocation
 * view meet; HTTP routes only translate requests to these calls and results to responses.
 */
export interface ServiceContext {
  store: Store;
  clock: Clock;
  hasher: PasswordHasher;
  keys: AccessTokenKeys;
  revocations: RevocationSink;
  log: SecurityLog;
  tokens: AccessTokenSettings;
  sessions: SessionPolicy;
  minPasswordLength: number;
  /** The common passwords no one may choose (core/password-blocklist.ts), loaded once per process. */
  commonPasswords: WordList;
  /** Brute-force limits on sign-in (src/core/sign-in-limits.ts). */
  signInLimits: SignInLimitPolicy;
  /** Accounts one address may try to create per 15 minutes (src/core/address-limits.ts); 0: no limit. */
  registrationIpMax: number;
  /** Client address → country, for sessions and whatever else records where a client was. */
  locator: Locator;
  /** A webhook receiver is configured: events that notify are written with an outbox row. */
  webhooks: boolean;
  /** "This wasn't me" links in new-device notifications; undefined without webhooks. */
  notMeLinks: NotMeLinks | undefined;
}

/** The signed-in caller of a Bearer route, as the authentication plugin established it. */
export interface Caller {
  userId: string;
  sessionId: string;
}
