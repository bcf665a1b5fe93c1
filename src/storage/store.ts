import type { AccountTokenStore } from './ports/account-tokens.js';
import type { AddressCounterStore } from './ports/address-counters.js';
import type { StoreConnection } from './ports/connection.js';
import type { EventStore } from './ports/events.js';
import type { ImportStore } from './ports/imports.js';
import type { MailOutboxStore } from './ports/mail-outbox.js';
import type { OutboxStore } from './ports/outbox.js';
import type { SessionStore } from './ports/sessions.js';
import type { SignInCounterStore } from './ports/sign-in-counters.js';
import type { SignInReportStore } from './ports/sign-in-reports.js';
import type { SigningKeyStore } from './ports/signing-keys.js';
import type { UserStore } from './ports/users.js';

export type * from './ports/account-tokens.js';
export type * from './ports/address-counters.js';
export type * from './ports/connection.js';
export type * from './ports/events.js';
export type * from './ports/imports.js';
export type * from './ports/mail-outbox.js';
export type * from './ports/outbox.js';
export type * from './ports/sessions.js';
export type * from './ports/sign-in-counters.js';
export type * from './ports/sign-in-reports.js';
export type * from './ports/signing-keys.js';
export type * from './ports/users.js';

/**
 * Everything Gatehouse keeps, in the words of the domain: one port per area (src/storage/ports/),
 * and a consumer takes only the ports it uses (the key ring its signing keys, the webhook
 * deliverer its outbox). One implementation (Kysely) serves SQLite and PostgreSQL; the
 * conformance suites (test/storage/*.conformance.test.ts) hold both to every port. Every method
 * that changes more than one row does so in one transaction.
 */
export interface Store
  extends UserStore,
    SessionStore,
    EventStore,
    OutboxStore,
    MailOutboxStore,
    AccountTokenStore,
    SignInReportStore,
    SigningKeyStore,
    ImportStore,
    SignInCounterStore,
    AddressCounterStore,
    StoreConnection {}
