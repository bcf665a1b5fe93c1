import { ACTION_WINDOW_MS, addressVerdict, type AddressAction } from '../core/address-limits.js';
import { addressKey } from '../core/sign-in-limits.js';
import { GatehouseError } from '../core/errors.js';
import type { MailData } from '../core/mail.js';
import type { ClientInfo } from '../core/records.js';
import type { MailContext, ServiceContext } from './context.js';

/**
 * Messages a stranger can make Gatehouse send to one address per hour (resets, verifications):
 * enough for a person who mistypes, too few to flood an inbox. Past it a request is answered
 * as always, and nothing is sent.
 */
export const MAIL_PER_RECIPIENT = 5;

/** Mail's part of the context; `not_found` when mail is off (the routes are not even there then). */
export function mailOn(ctx: ServiceContext): MailContext {
  if (!ctx.mail) throw new GatehouseError('not_found', 'Email is turned off on this server.');
  return ctx.mail;
}

/**
 * Counts one more message for the address of email key `key` and says whether it may go. It
 * counts whether or not the address has an account, so the work (and the time) of a request
 * is the same either way.
 */
export async function mayMail(ctx: ServiceContext, key: string): Promise<boolean> {
  const sent = await ctx.store.countAddressAttempt('mail', key, ACTION_WINDOW_MS.mail, ctx.clock.now());
  return sent.count <= MAIL_PER_RECIPIENT;
}

/** The requesting client, as a message describes it ("Firefox 121 on Windows · Brazil · 203.0.113.7"). */
export function clientData(client: ClientInfo): MailData {
  return { device: client.device.label, country: client.country, ip: client.ip };
}

/**
 * Requests from one client address that may mail (resets, new verification links): at most
 * GATEHOUSE_PASSWORD_RESET_IP_MAX per 15 minutes each, or `rate_limited`. The same for any
 * address asked about, so the refusal tells nothing about accounts.
 */
export async function limitRequestsFrom(
  ctx: ServiceContext,
  action: Extract<AddressAction, 'password-reset' | 'email-verification'>,
  ip: string,
  refusal: string,
): Promise<void> {
  const max = mailOn(ctx).resetIpMax;
  if (max === 0) return;
  const now = ctx.clock.now();
  const counted = await ctx.store.countAddressAttempt(action, addressKey(ip), ACTION_WINDOW_MS[action], now);
  const verdict = addressVerdict(max, counted, now, ACTION_WINDOW_MS[action]);
  if (verdict.allowed) return;
  ctx.log({ event: 'password_reset_refused', reason: 'rate_limited', ip, retryAfterSeconds: verdict.retryAfterSeconds });
  throw new GatehouseError('rate_limited', refusal, undefined, { retryAfterSeconds: verdict.retryAfterSeconds });
}
