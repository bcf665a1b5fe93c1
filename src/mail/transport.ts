import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { MailSetting } from '../config.js';
import type { ComposedMail } from './compose.js';

/** Where messages leave Gatehouse: an SMTP server, or `.eml` files on a laptop. */
export interface MailTransport {
  readonly kind: 'smtp' | 'files';
  /** Hands a message over; resolves with what took it (the server's answer, or the file's path). */
  send(message: ComposedMail): Promise<string>;
  /** Checks the way out without sending (the SMTP greeting, login and STARTTLS); resolves with what it found. */
  verify(): Promise<string>;
  close(): void;
}

const SECOND = 1000;

export function openMailTransport(setting: MailSetting): MailTransport | undefined {
  if (setting.kind === 'off') return undefined;
  return setting.kind === 'smtp' ? smtpTransport(setting) : fileTransport(setting.dir);
}

function smtpTransport(setting: Extract<MailSetting, { kind: 'smtp' }>): MailTransport {
  const url = new URL(setting.url);
  const secure = url.protocol === 'smtps:';
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: 2,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? (secure ? 465 : 587) : Number(url.port),
    secure,
    ...(url.username === '' ? {} : { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }),
    // Without STARTTLS, a password and every reset link would cross the network in clear.
    requireTLS: setting.starttls === 'required',
    ignoreTLS: setting.starttls === 'off',
    connectionTimeout: 10 * SECOND,
    greetingTimeout: 10 * SECOND,
    socketTimeout: 30 * SECOND,
    // Messages are made of our own text: nothing in them may make nodemailer read a file or a URL.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return {
    kind: 'smtp',
    async send(message) {
      const info = await transport.sendMail(message);
      if (info.rejected.length > 0) throw new Error(`the server refused the recipient: ${String(info.response ?? '')}`.trim());
      return String(info.response ?? 'accepted');
    },
    async verify() {
      await transport.verify();
      return `${url.hostname}:${url.port || (secure ? 465 : 587)} accepts mail (${secure ? 'TLS' : setting.starttls === 'off' ? 'no TLS' : `STARTTLS ${setting.starttls}`})`;
    },
    close: () => transport.close(),
  };
}

/**
 * Outside production without SMTP: each message becomes a file the developer can open, named
 * in the log. Private to the user (0600 in a 0700 directory): a reset link in it opens the account.
 */
function fileTransport(dir: string): MailTransport {
  const builder = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix', disableFileAccess: true, disableUrlAccess: true });
  return {
    kind: 'files',
    async send(message) {
      const info = await builder.sendMail(message);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const stamp = message.date.toISOString().replace(/[:.]/g, '-');
      const id = message.messageId.replace(/^<|@.*$/g, '');
      const path = join(dir, `${stamp}-${id}.eml`);
      writeFileSync(path, info.message as Buffer, { mode: 0o600 });
      chmodSync(path, 0o600);
      return path;
    },
    async verify() {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      return `messages are written to ${dir} (GATEHOUSE_SMTP_URL is not set)`;
    },
    close: () => {},
  };
}
