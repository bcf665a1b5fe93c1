import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './0001-initial.js';
import * as signInLimits from './0002-sign-in-limits.js';
import * as activity from './0003-activity.js';
import * as signingKeyRotation from './0004-signing-key-rotation.js';
import * as imports from './0005-imports.js';
import * as userEmailSearch from './0006-user-email-search.js';
import * as addressAttempts from './0007-address-attempts.js';
import * as asciiEmailDomains from './0008-ascii-email-domains.js';
import * as revokedSessionsIndex from './0009-revoked-sessions-index.js';
import * as liveSessionExpiries from './0010-live-session-expiries.js';
import * as openSessionCount from './0011-open-session-count.js';
import * as settledWebhookDeliveries from './0012-settled-webhook-deliveries.js';
import * as eventsByMonth from './0013-events-by-month.js';
import * as mail from './0014-mail.js';

/**
 * Every migration, in order. Names sort lexically (Kysely applies them in that order), so they
 * are numbered with four digits. A migration, once released, is never edited: add a new one.
 */
const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-sign-in-limits': signInLimits,
  '0003-activity': activity,
  '0004-signing-key-rotation': signingKeyRotation,
  '0005-imports': imports,
  '0006-user-email-search': userEmailSearch,
  '0007-address-attempts': addressAttempts,
  '0008-ascii-email-domains': asciiEmailDomains,
  '0009-revoked-sessions-index': revokedSessionsIndex,
  '0010-live-session-expiries': liveSessionExpiries,
  '0011-open-session-count': openSessionCount,
  '0012-settled-webhook-deliveries': settledWebhookDeliveries,
  '0013-events-by-month': eventsByMonth,
  '0014-mail': mail,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
