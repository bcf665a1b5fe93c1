import type { Config, MailSetting } from '../../config.js';
import { openMailTransport } from '../../mail/transport.js';
import type { Check } from './doctor-checks.js';

/** What `gatehouse doctor` and `gatehouse mail test` say of the way mail leaves. */

type Smtp = Extract<MailSetting, { kind: 'smtp' }>;

/** How long the doctor waits for the SMTP server's greeting, STARTTLS and login together. */
const VERIFY_TIMEOUT_MS = 10_000;

/**
 * The doctor's `mail` line. SMTP: a connection, STARTTLS as the setting asks and the login,
 * then QUIT; nothing is sent. Files: a warning, as nobody receives a reset link written to a
 * laptop's disk, and the directory is not made (the doctor changes nothing).
 */
export async function mailCheck(config: Readonly<Config>): Promise<Check> {
  const { mail } = config;
  if (mail.kind === 'off') return { name: 'mail', status: 'ok', detail: 'mail is off (GATEHOUSE_MAIL=off): no password reset' };
  if (mail.kind === 'files') {
    return {
      name: 'mail',
      status: 'warn',
      detail: `writes .eml files to ${mail.dir} (GATEHOUSE_SMTP_URL is not set): messages do not leave this machine`,
    };
  }
  const transport = openMailTransport(mail);
  if (!transport) throw new Error('unreachable: mail is on');
  try {
    return { name: 'mail', status: 'ok', detail: await withTimeout(transport.verify(), VERIFY_TIMEOUT_MS) };
  } catch (error) {
    return { name: 'mail', status: 'fail', detail: `cannot send through ${smtpPlace(mail)}: ${smtpFailure(error, mail)}` };
  } finally {
    transport.close();
  }
}

/** `smtp.example.com:587 (STARTTLS required)`: where mail goes and how it is protected, never the password. */
export function smtpPlace(setting: Smtp): string {
  const url = new URL(setting.url);
  const secure = url.protocol === 'smtps:';
  const tls = secure ? 'TLS' : setting.starttls === 'off' ? 'no TLS' : setting.starttls === 'required' ? 'STARTTLS required' : 'STARTTLS if offered';
  return `${url.hostname}:${url.port || (secure ? 465 : 587)} (${tls})`;
}

/**
 * Why the SMTP conversation failed, in one line: nodemailer's code, the server's reply code and
 * its message. Without the password of GATEHOUSE_SMTP_URL in any spelling: an operator pastes
 * this into tickets and chats.
 */
export function smtpFailure(thrown: unknown, setting: Smtp): string {
  if (thrown instanceof Error && thrown.name === 'TimeoutError') return `no answer within ${VERIFY_TIMEOUT_MS / 1000} s`;
  if (!(thrown instanceof Error)) return 'unknown error';
  const { code, responseCode } = thrown as Error & { code?: unknown; responseCode?: unknown };
  const parts = [typeof code === 'string' ? code : null, typeof responseCode === 'number' ? String(responseCode) : null, thrown.message];
  return withoutPassword(
    parts
      .filter(Boolean)
      .join(' ')
      .replace(/\s*\n\s*/g, ' '),
    setting,
  );
}

function withoutPassword(text: string, setting: Smtp): string {
  const raw = new URL(setting.url).password;
  let clean = text.replace(/\/\/[^@/\s]*@/g, '//***@');
  // Both spellings: the URL's (percent-encoded) and the one sent in AUTH (decoded).
  for (const secret of new Set([raw, decodeURIComponent(raw)])) if (secret !== '') clean = clean.split(secret).join('***');
  return clean;
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('timed out'), { name: 'TimeoutError' })), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
