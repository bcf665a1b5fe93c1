import { accountToken, type AccountTokenPurpose } from '../core/account-tokens.js';
import type { MailData, OutgoingMail } from '../core/mail.js';
import { notMeLink, type NotMeLinks } from '../core/not-me-link.js';
import { renderMail, type RenderedMail } from './render.js';

/** What every message needs besides its row: who sends it, the links' address and key. */
export interface MailSettings {
  /** GATEHOUSE_MAIL_FROM. */
  from: string;
  productName: string;
  /** GATEHOUSE_PUBLIC_URL, without a trailing slash: every link is on it. */
  publicUrl: string;
  /** Keys the links' tokens (core/account-tokens.ts). */
  tokenKey: Buffer;
  /** The "this wasn't me" links of new-device alerts (core/not-me-link.ts). */
  notMeLinks: NotMeLinks;
}

/** A message as it goes to the transport (nodemailer's message fields). */
export interface ComposedMail extends RenderedMail {
  from: string;
  to: string;
  /** `<outbox id@public host>`: the same on every attempt, so a receiver can drop a repeat. */
  messageId: string;
  date: Date;
  headers: Record<string, string>;
}

/** The page's paths that emailed links open, each with its token in the fragment. */
export const RESET_PAGE = '/reset-password';
export const VERIFY_PAGE = '/verify-email';
export const EMAIL_CHANGE_PAGE = '/confirm-email-change';
export const EMAIL_CHANGE_CANCEL_PAGE = '/cancel-email-change';

export function composeMail(mail: OutgoingMail, settings: MailSettings): ComposedMail {
  // No display name in a greeting: anyone can register with someone else's address and a name
  // of their choosing ("Hi, your bank here: call …"), and the mail would carry it from us.
  const values = { product: settings.productName, recipient: mail.recipient, greeting: 'Hello,', ...valuesOf(mail, settings) };
  return {
    ...renderMail(mail.kind, values),
    from: settings.from,
    to: mail.recipient,
    messageId: `<${mail.id}@${new URL(settings.publicUrl).hostname}>`,
    date: new Date(mail.createdAt),
    // RFC 3834: no out-of-office replies to a machine.
    headers: { 'Auto-Submitted': 'auto-generated' },
  };
}

function valuesOf(mail: OutgoingMail, settings: MailSettings): Record<string, string> {
  const { data } = mail;
  switch (mail.kind) {
    case 'password_reset': {
      const byAdmin = data.requested_by === 'admin';
      return {
        ...linkValues(mail, settings, 'password_reset', RESET_PAGE),
        who: byAdmin ? `An administrator of ${settings.productName}` : 'Someone',
        requested_from: byAdmin ? 'through the administration of your account' : clientDescription(data),
        requested_at: when(mail.createdAt),
      };
    }
    case 'email_verification':
      return linkValues(mail, settings, 'email_verification', VERIFY_PAGE);
    case 'email_change':
      return { ...linkValues(mail, settings, 'email_change', EMAIL_CHANGE_PAGE), requested_from: clientDescription(data), requested_at: when(mail.createdAt) };
    case 'email_change_notice':
      return {
        ...linkValues(mail, settings, 'email_change_cancel', EMAIL_CHANGE_CANCEL_PAGE),
        new_email: text(data, 'new_email'),
        requested_from: clientDescription(data),
        requested_at: when(mail.createdAt),
      };
    case 'password_changed':
      return {
        how: data.how === 'reset' ? 'with a reset link sent to this address' : 'from a signed-in device',
        changed_from: clientDescription(data),
        changed_at: when(mail.createdAt),
        sessions_ended: sessionsEnded(Number(data.sessions_ended ?? 0), data.how === 'reset'),
        reset_link: `${settings.publicUrl}${RESET_PAGE}`,
        account_link: `${settings.publicUrl}/`,
      };
    case 'new_device_login':
      return {
        signed_in_from: clientDescription(data),
        signed_in_at: when(mail.createdAt),
        not_me_link: notMeLink(settings.notMeLinks, text(data, 'event_id'), mail.createdAt).url,
        account_link: `${settings.publicUrl}/`,
      };
    case 'refresh_token_reused':
      return { seen_from: clientDescription(data), seen_at: when(mail.createdAt), account_link: `${settings.publicUrl}/` };
    case 'sessions_revoked':
      return {
        what: SIGNED_OUT_BY[String(data.event_type)] ?? 'Devices were signed out of your account',
        sessions_ended: Number(data.sessions_ended) === 1 ? '1 session ended.' : `${Number(data.sessions_ended)} sessions ended.`,
        done_from: data.device === null ? 'not from a device' : clientDescription(data),
        done_at: when(mail.createdAt),
        account_link: `${settings.publicUrl}/`,
      };
    case 'test':
      return { sent_at: when(mail.createdAt), public_url: settings.publicUrl };
  }
}

/** A link to `page` with the token of the message's `token_id` (in the fragment: browsers send it to no server log and in no Referer), and how long it works. */
function linkValues(mail: OutgoingMail, settings: MailSettings, purpose: AccountTokenPurpose, page: string): { link: string; expires_in: string } {
  const token = accountToken(settings.tokenKey, purpose, text(mail.data, 'token_id'));
  return { link: `${settings.publicUrl}${page}#token=${token}`, expires_in: duration(Number(mail.data.expires_at) - mail.createdAt) };
}

/** What ended the sessions, by the event that did, as the first words of the message. */
const SIGNED_OUT_BY: Readonly<Record<string, string>> = {
  session_revoked: 'A device was signed out of your account from another of your devices',
  other_sessions_revoked: 'Every other device was signed out of your account',
  all_sessions_revoked: 'Every device was signed out of your account',
  sessions_evicted: 'A sign-in ended your oldest sessions, beyond the most your account may have',
  sign_in_reported: 'A sign-in was reported as not yours, and signed out',
  signed_out_by_admin: 'An administrator signed devices out of your account',
  account_disabled: 'Your account was disabled, and every device signed out',
  email_change_cancelled: 'A change of your email address was cancelled, and every device signed out',
};

function text(data: MailData, key: string): string {
  const value = data[key];
  if (typeof value !== 'string') throw new Error(`a queued message lacks ${key}`);
  return value;
}

const regions = new Intl.DisplayNames(['en'], { type: 'region' });

/** "Firefox 121 on Windows · Brazil · 203.0.113.7", from what the request's client was. */
export function clientDescription(data: MailData): string {
  if (typeof data.device !== 'string') return 'an unknown device';
  const country = typeof data.country === 'string' ? (regions.of(data.country) ?? data.country) : null;
  return [data.device, country, typeof data.ip === 'string' ? data.ip : null].filter((part) => part !== null).join(' · ');
}

const times = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' });

function when(at: number): string {
  return `on ${times.format(at)} UTC`;
}

function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 120) return `${minutes} minutes`;
  const hours = Math.round(minutes / 60);
  return hours <= 48 ? `${hours} hours` : `${Math.round(hours / 24)} days`;
}

function sessionsEnded(count: number, all: boolean): string {
  if (count === 0) return all ? 'Your account was not signed in anywhere.' : 'No other device was signed in.';
  const devices = count === 1 ? '1 session' : `${count} sessions`;
  return all ? `Every device was signed out (${devices}).` : `Every other device was signed out (${devices}).`;
}
