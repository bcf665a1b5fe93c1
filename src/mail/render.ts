import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MailKind } from '../core/mail.js';

/**
 * Messages from the templates beside this module (templates/<kind>.txt and .html, the HTML
 * inside layout.html). A `.txt` template's first line is `Subject: …`. `{{name}}` is replaced by
 * a value, HTML-escaped in the HTML part; `{{{body}}}` (the layout only) takes HTML as is. A
 * name the template uses and the values lack is an error, not an empty string: a message with
 * a hole in it must not go out. No remote images and no tracking: the templates have neither,
 * and nothing is added.
 */
export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export const TEMPLATES_DIR = fileURLToPath(new URL('./templates/', import.meta.url));

const FILE_NAMES: Readonly<Record<MailKind, string>> = {
  password_reset: 'password-reset',
  password_changed: 'password-changed',
  email_verification: 'email-verification',
  email_change: 'email-change',
  email_change_notice: 'email-change-notice',
  new_device_login: 'new-device-login',
  refresh_token_reused: 'refresh-token-reused',
  sessions_revoked: 'sessions-revoked',
  test: 'test',
};

const cache = new Map<string, string>();

function template(file: string): string {
  let text = cache.get(file);
  if (text === undefined) {
    text = readFileSync(`${TEMPLATES_DIR}${file}`, 'utf8');
    cache.set(file, text);
  }
  return text;
}

export function renderMail(kind: MailKind, values: Readonly<Record<string, string>>): RenderedMail {
  const name = FILE_NAMES[kind];
  const [first = '', ...rest] = template(`${name}.txt`).split('\n');
  const subjectLine = /^Subject: (.+)$/.exec(first);
  if (!subjectLine) throw new Error(`templates/${name}.txt must start with a Subject: line`);
  // One line whatever the values hold: a line break in a subject would start a new header.
  const subject = fill(subjectLine[1] as string, values, (v) => v).replace(/[\r\n]+/g, ' ');
  const text = `${fill(rest.join('\n'), values, (v) => v).trim()}\n`;
  const body = fill(template(`${name}.html`), values, escapeHtml);
  const [before = '', after = ''] = template('layout.html').split('{{{body}}}');
  const html = `${fill(before, { ...values, subject }, escapeHtml)}${body.trim()}${fill(after, values, escapeHtml)}`;
  return { subject, text, html };
}

function fill(text: string, values: Readonly<Record<string, string>>, encode: (value: string) => string): string {
  return text.replace(/\{\{([a-z_]+)\}\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`a mail template needs {{${key}}}`);
    return encode(value);
  });
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
