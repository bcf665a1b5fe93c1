import { deviceKey } from '../core/activity.js';
import { GatehouseError } from '../core/errors.js';
import { readNotMeToken } from '../core/not-me-link.js';
import { isSessionActive, type ClientInfo } from '../core/records.js';
import { event } from './activity.js';
import type { ServiceContext } from './context.js';
import { announce, revocation } from './sessions.js';

/**
 * "This wasn't me": the one-click link of a new-device notification (core/not-me-link.ts).
 * Whoever holds the link may end that one session, and nothing else: the link is the
 * credential, like a password-reset link, so there is no sign-in and no CSRF token here.
 */

/** A sign-in a link names, as the confirmation page shows it. */
export interface ReportableSignIn {
  eventId: string;
  userId: string;
  sessionId: string;
  at: number;
  client: ClientInfo | null;
  /** The session is still signed in (the report would end it). */
  sessionActive: boolean;
}

export interface SignInReport {
  sessionId: string;
  /** False when nothing was left to end: the report still counts as the link's one use. */
  revoked: boolean;
}

/** For `GET`: checks the link as a report would, and changes nothing (mail scanners prefetch links). */
export async function inspectReport(ctx: ServiceContext, token: string): Promise<ReportableSignIn> {
  const signIn = await linkedSignIn(ctx, token);
  if (await ctx.store.isSignInReported(signIn.eventId)) throw used();
  const session = await ctx.store.findSession(signIn.sessionId);
  return { ...signIn, sessionActive: session !== undefined && isSessionActive(session, ctx.clock.now()) };
}

/**
 * For `POST`: ends the linked session, once. The store marks the sign-in reported and revokes
 * in one transaction, so of racing clicks exactly one gets through, and a report whose
 * session had already ended still uses the link up.
 */
export async function reportSignIn(ctx: ServiceContext, token: string, client: ClientInfo): Promise<SignInReport> {
  const signIn = await linkedSignIn(ctx, token);
  const { userId, sessionId, eventId } = signIn;
  // Whoever signed in from that device may have signed in there again since (a second session,
  // or one that replaced the first): those go too, and the device stops counting as the
  // owner's, so a further sign-in from it is flagged again. Found before the store's
  // transaction: a session started in between is caught by that next flag.
  const device = signIn.client === null ? undefined : deviceKey(signIn.client);
  const sameDevice =
    device === undefined
      ? undefined
      : {
          deviceKey: device,
          sessionIds: (await ctx.store.listUserSessions(userId, ctx.clock.now()))
            .filter((s) => s.id !== sessionId && s.createdAt >= signIn.at && deviceKey(s.client) === device)
            .map((s) => s.id),
        };
  // The user's own link, so the user is the one who ends the session (and the actor in history).
  const outcome = await ctx.store.reportSignIn({
    eventId,
    userId,
    sessionId,
    ...(sameDevice ? { sameDevice } : {}),
    revocation: revocation(ctx, 'reported', userId),
    events: (revoked) => [
      event(ctx, 'sign_in_reported', {
        userId,
        actor: userId,
        client,
        detail: { session_ids: revoked.map((s) => s.id), reported_event_id: eventId },
      }),
    ],
  });
  if (!outcome.reported) throw used();
  // Into this node's revocation view at once: the sessions' access tokens die on their next use.
  announce(ctx, userId, 'reported', userId, outcome.revoked);
  return { sessionId, revoked: outcome.revoked.length > 0 };
}

/**
 * The sign-in a link names. Checks in a fixed order: the signature first (a forged link learns
 * nothing, not even whether it would have expired), then the expiry (answered without a
 * database read), then that it names a sign-in. Whether it was used is the caller's last check.
 */
async function linkedSignIn(ctx: ServiceContext, token: string): Promise<Omit<ReportableSignIn, 'sessionActive'>> {
  const links = ctx.notMeLinks;
  const read = links === undefined ? ({ valid: false } as const) : readNotMeToken(links.key, token, ctx.clock.now());
  if (!read.valid) throw notFound();
  if (read.expired) throw new GatehouseError('link_expired', 'This link has expired. Sign in and review your sessions instead.');
  const found = await ctx.store.findEvent(read.eventId);
  // Only a sign-in has a session to end; Gatehouse signs no other links, but a key shared
  // with an older version, or a purged event, must not turn into a 500.
  if (found?.type !== 'signed_in' || found.userId === null || found.sessionId === null) throw notFound();
  return { eventId: found.id, userId: found.userId, sessionId: found.sessionId, at: found.at, client: found.client };
}

// One answer for every link that is not Gatehouse's, so probing learns nothing.
const notFound = () => new GatehouseError('not_found', 'This link is not valid. Check that it was copied completely.');
const used = () => new GatehouseError('link_used', 'This link has already been used: that sign-in was reported.');
