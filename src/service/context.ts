import type { AccessTokenKeys, AccessTokenSettings } from '../core/access-token.js';
import type { WebhookType } from '../core/activity.js';
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
  /** "This wasn't me" links in new-device notifications (webhooks and mail); undefined: none are made or accepted. */
  notMeLinks: NotMeLinks | undefined;
  /** The alerts mailed to the account's address as well (GATEHOUSE_MAIL_ALERTS); empty when mail is off. */
  mailAlerts: ReadonlySet<WebhookType>;
  /** Email (src/mail/); undefined when GATEHOUSE_MAIL=off, and then nothing queues a message. */
  mail: MailContext | undefined;
  /** `required`: a correct password on an unverified account answers `email_not_verified`, and no session starts. */
  emailVerification: 'optional' | 'required';
}

export interface MailContext {
  /** Wakes this node's mail deliverer after a transaction queued `count` messages (1 by default), and counts them. */
  queued(count?: number): void;
  /** Password-reset requests one client address may make per 15 minutes; 0: no limit. */
  resetIpMax: number;
  /** Keys the tokens of emailed links (core/account-tokens.ts). */
  tokenKey: Buffer;
}

/** The signed-in caller of a Bearer route, as the authentication plugin established it. */
export interface Caller {
  userId: string;
  sessionId: string;
}
