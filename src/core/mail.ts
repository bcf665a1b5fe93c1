import { randomBytes } from 'node:crypto';
import { WEBHOOK_TYPES } from './activity.js';

/**
 * The messages Gatehouse sends. Each is written to the mail outbox in the transaction of what
 * caused it (a reset request, a reset) and sent later by any node (src/mail/deliverer.ts), so a
 * message is never lost to a crash nor sent for a change that was rolled back.
 */
export const MAIL_KINDS = [
  'password_reset',
  'password_changed',
  'email_verification',
  'email_change',
  'email_change_notice',
  // Alerts (GATEHOUSE_MAIL_ALERTS), queued with their events; `password_changed` is one too.
  'new_device_login',
  'refresh_token_reused',
  'sessions_revoked',
  'test',
] as const;

export type MailKind = (typeof MAIL_KINDS)[number];

/** What a message's template is filled with: names, devices, times and token ids, never a secret. */
export type MailData = Record<string, string | number | boolean | null>;

export interface NewMail {
  /** Random; the message's `Message-ID` is made from it, so every attempt sends the same one. */
  id: string;
  kind: MailKind;
  /** The address; null: the account's address when the message is sent (alerts follow a change of address). */
  recipient: string | null;
  userId: string | null;
  data: MailData;
  createdAt: number;
}

/** A claimed message, ready to be rendered and sent. */
export interface OutgoingMail extends NewMail {
  recipient: string;
  /**
   * The recipient is the account's address and the account proved it. Alerts go only to such an
   * address: whoever registers with someone else's address must not be able to send them mail.
   */
  addressProved: boolean;
  /** Attempts made before this one. */
  attempts: number;
  /** Until when this claim holds it. */
  claimedUntil: number;
}

/** The alerts among the kinds (the events' notifications), which go only to a proved address. */
export function isAlert(mail: Pick<NewMail, 'kind' | 'data'>): boolean {
  // The notifications' own kinds, but a reset's "your password was changed" (proved by the reset itself).
  return (WEBHOOK_TYPES as readonly string[]).includes(mail.kind) && mail.data.how !== 'reset';
}

export function newMail(kind: MailKind, at: number, fields: { recipient: string | null; userId: string | null; data?: MailData }): NewMail {
  return { id: randomBytes(16).toString('base64url'), kind, recipient: fields.recipient, userId: fields.userId, data: fields.data ?? {}, createdAt: at };
}
