import { ADDRESS_WINDOW_MS, addressVerdict } from '../core/address-limits.js';
import { parseEmail } from '../core/email.js';
import { addressKey } from '../core/sign-in-limits.js';
import { GatehouseError } from '../core/errors.js';
import { acceptNewPassword } from '../core/password-policy.js';
import { newId } from '../core/random.js';
import { deviceKey } from '../core/activity.js';
import type { ClientInfo, UserRecord } from '../core/records.js';
import { event } from './activity.js';
import { verificationLink } from './email-verification.js';
import { mayMail } from './mail.js';
import type { ServiceContext } from './context.js';

export const MAX_NAME_LENGTH = 100;

export interface Registration {
  email: string;
  password: string;
  name?: string | null | undefined;
}

export async function register(ctx: ServiceContext, input: Registration, client: ClientInfo): Promise<UserRecord> {
  // Pointers name the request field, as schema errors do: `/body/email`.
  const email = parseEmail(input.email, '/body/email');
  const password = acceptNewPassword(input.password, ctx, '/body/password', email.address);
  const name = parseName(input.name);
  // An attempt the hasher has no room for is refused before it is counted: it must not use up
  // a person's attempts for work that was never done.
  if (ctx.hasher.saturated?.('registration')) throw new GatehouseError('unavailable', 'Too many passwords are being checked right now; try again shortly.');
  // After validation (a refused input costs nothing), before the hash (which is what a flood
  // of registrations would cost): every attempt from the address counts, taken or not.
  await countRegistration(ctx, client.ip);
  const id = newId();
  const now = ctx.clock.now();
  // The address gets its verification link with the account, unless mail is off or it has had
  // its hour's share of messages (someone registering a stranger's address again and again).
  const link = ctx.mail && (await mayMail(ctx, email.key)) ? verificationLink({ id, email: email.address }, now) : undefined;
  // The device the account was created on is one it has used: its first sign-in there is no news.
  const user = await ctx.store.createUser(
    {
      id,
      email: email.address,
      emailKey: email.key,
      name,
      passwordHash: await ctx.hasher.hash(password, 'registration'),
      role: 'user',
      createdAt: now,
    },
    { events: [event(ctx, 'account_created', { userId: id, actor: id, client })], device: deviceKey(client), ...(link ? { link } : {}) },
  );
  ctx.log({ event: 'user_registered', userId: user.id });
  if (link) ctx.mail?.queued();
  return user;
}

async function countRegistration(ctx: ServiceContext, ip: string): Promise<void> {
  if (ctx.registrationIpMax === 0) return;
  const now = ctx.clock.now();
  const counted = await ctx.store.countAddressAttempt('register', addressKey(ip), ADDRESS_WINDOW_MS, now);
  const verdict = addressVerdict(ctx.registrationIpMax, counted, now);
  if (verdict.allowed) return;
  ctx.log({ event: 'registration_refused', reason: 'rate_limited', ip, retryAfterSeconds: verdict.retryAfterSeconds });
  throw new GatehouseError('rate_limited', 'Too many accounts were tried from this address. Try again later.', undefined, {
    retryAfterSeconds: verdict.retryAfterSeconds,
  });
}

export function parseName(name: string | null | undefined): string | null {
  const trimmed = name?.trim().normalize('NFC') ?? '';
  // Control characters in a display name only ever serve to spoof other text in a UI or log.
  if (trimmed.length > MAX_NAME_LENGTH || /\p{Cc}/u.test(trimmed)) {
    throw new GatehouseError('validation_failed', 'The name is not valid.', [
      { pointer: '/body/name', detail: `must be at most ${MAX_NAME_LENGTH} characters, without control characters` },
    ]);
  }
  return trimmed === '' ? null : trimmed;
}
