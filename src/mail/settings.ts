import { WEBHOOK_TYPES, type WebhookType } from '../core/activity.js';
import { ConfigError, fail, oneOf, present, text, withoutPassword, type Env } from '../config-values.js';

/**
 * Where messages go. `starttls`: `required` refuses a server that does not offer STARTTLS (the
 * default for any host but loopback: credentials and reset links must not cross a network in
 * clear), `opportunistic` uses it when offered, `off` never (a test server on loopback).
 */
export type MailSetting = { kind: 'smtp'; url: string; starttls: 'required' | 'opportunistic' | 'off' } | { kind: 'files'; dir: string } | { kind: 'off' };

/** Mail's part of the configuration (config.ts), read from `env`. */
export interface MailSettings {
  mail: MailSetting;
  mailFrom: string;
  productName: string;
  emailVerification: 'optional' | 'required';
  mailAlerts: WebhookType[];
}

export function mailSettings(env: Env, production: boolean, publicUrl: string): MailSettings {
  const productName = productNameOf(env);
  return {
    mail: mail(env, production),
    mailFrom: mailFrom(env, productName, publicUrl),
    productName,
    emailVerification: emailVerification(env),
    mailAlerts: mailAlerts(env),
  };
}

function mail(env: Env, production: boolean): MailSetting {
  const setting = present(env, 'GATEHOUSE_MAIL')?.toLowerCase();
  if (setting !== undefined && setting !== 'off') fail('GATEHOUSE_MAIL', 'off (or unset: send mail)', setting);
  const smtp = present(env, 'GATEHOUSE_SMTP_URL');
  if (setting === 'off') {
    if (smtp !== undefined) throw new ConfigError('GATEHOUSE_SMTP_URL is set but GATEHOUSE_MAIL=off: unset one of them');
    return { kind: 'off' };
  }
  if (smtp === undefined) {
    // Password reset is how people get back into their accounts: in production it must reach
    // them, not a directory on one node. Turning it off is a decision to write down.
    if (production) {
      throw new ConfigError(
        'GATEHOUSE_SMTP_URL must be set when NODE_ENV=production (smtp://user:password@host:587), or GATEHOUSE_MAIL=off to run without email',
      );
    }
    return { kind: 'files', dir: './data/mail' };
  }
  return smtpSetting(smtp);
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function smtpSetting(value: string): MailSetting {
  const shown = withoutPassword(value);
  if (!URL.canParse(value)) fail('GATEHOUSE_SMTP_URL', 'smtp://user:password@host:port or smtps://…', shown);
  const parsed = new URL(value);
  if (!['smtp:', 'smtps:'].includes(parsed.protocol) || parsed.hostname === '')
    fail('GATEHOUSE_SMTP_URL', 'smtp://user:password@host:port or smtps://…', shown);
  const unknown = [...parsed.searchParams.keys()].filter((key) => key !== 'starttls');
  if (unknown.length > 0) fail('GATEHOUSE_SMTP_URL', 'a URL whose only option is ?starttls=required|opportunistic|off', shown);
  const given = parsed.searchParams.get('starttls');
  if (given !== null && !['required', 'opportunistic', 'off'].includes(given))
    fail('GATEHOUSE_SMTP_URL', 'a URL with ?starttls=required, opportunistic or off', shown);
  const loopback = LOOPBACK_HOSTS.has(parsed.hostname) || /^127\./.test(parsed.hostname);
  const starttls = (given ?? (loopback ? 'opportunistic' : 'required')) as 'required' | 'opportunistic' | 'off';
  return { kind: 'smtp', url: value, starttls };
}

function productNameOf(env: Env): string {
  const name = text(env, 'GATEHOUSE_PRODUCT_NAME', 'Gatehouse');
  // It goes into subjects and a From header: one short line, nothing a header could be split on.
  if (name.length > 60 || /[\p{Cc}<>"]/u.test(name)) fail('GATEHOUSE_PRODUCT_NAME', 'at most 60 characters, without control characters, <, > or "', name);
  return name;
}

function mailFrom(env: Env, productName: string, publicUrl: string): string {
  const value = present(env, 'GATEHOUSE_MAIL_FROM');
  if (value === undefined) return `"${productName}" <no-reply@${new URL(publicUrl).hostname}>`;
  // A display name and an address, or an address: `"Gatehouse" <no-reply@example.com>`.
  const address = /^(?:"[^"\p{Cc}]{1,100}"\s*|[^"<>\p{Cc}]{1,100}\s*)?<([^<>\s@]+@[^<>\s@]+)>$|^([^<>\s@"]+@[^<>\s@"]+)$/u.exec(value);
  if (!address) fail('GATEHOUSE_MAIL_FROM', 'an address, or a name and an address: "Gatehouse" <no-reply@example.com>', value);
  return value;
}

function emailVerification(env: Env): 'optional' | 'required' {
  const value = oneOf(env, 'GATEHOUSE_EMAIL_VERIFICATION', 'optional', ['optional', 'required']) as 'optional' | 'required';
  // Nobody could ever prove an address: every new account would be shut out.
  if (value === 'required' && present(env, 'GATEHOUSE_MAIL')?.toLowerCase() === 'off') {
    throw new ConfigError('GATEHOUSE_EMAIL_VERIFICATION=required needs mail: it cannot be used with GATEHOUSE_MAIL=off');
  }
  return value;
}

function mailAlerts(env: Env): WebhookType[] {
  const value = present(env, 'GATEHOUSE_MAIL_ALERTS');
  if (value === undefined) return [...WEBHOOK_TYPES];
  if (value.toLowerCase() === 'none') return [];
  const chosen = [...new Set(value.split(',').map((v) => v.trim()))];
  const unknown = chosen.filter((v) => !(WEBHOOK_TYPES as readonly string[]).includes(v));
  if (unknown.length > 0 || chosen.length === 0) fail('GATEHOUSE_MAIL_ALERTS', `none, or a comma-separated list of ${WEBHOOK_TYPES.join(', ')}`, value);
  return chosen as WebhookType[];
}
