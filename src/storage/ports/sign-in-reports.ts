import type { EventsFor } from '../../core/activity.js';
import type { Revocation, RevokedSession } from '../../core/records.js';

/**
 * "This wasn't me": sign-ins reported through the link of their alert.
 * One port of the store (src/storage/store.ts), implemented on SQLite and PostgreSQL by the Kysely store.
 */
export interface SignInReportStore {
  /**
   * "This wasn't me": marks the sign-in event reported (once: a second report of the same event
   * changes nothing and returns `reported: false`), revokes its session if it is still live,
   * and with `sameDevice`, also those sessions of the user (the intruder's later sign-ins from
   * the device) and forgets the device, so its next sign-in is flagged again; with `events`,
   * told what was revoked, all in one transaction.
   */
  reportSignIn(report: {
    eventId: string;
    userId: string;
    sessionId: string;
    sameDevice?: { sessionIds: string[]; deviceKey: string };
    revocation: Revocation;
    events: EventsFor<RevokedSession[]>;
  }): Promise<{ reported: boolean; revoked: RevokedSession[] }>;
  /** Whether the sign-in event was reported through its link already. */
  isSignInReported(eventId: string): Promise<boolean>;
}
