import type { SessionRecord } from '../../core/records.js';
import { presentSession } from '../../http/present.js';
import { command } from '../command.js';
import { configOf, say, sayTable } from '../io.js';
import { administer, EMAIL_OPTION, emailOption, printable } from './user-context.js';

export const sessionsList = command({
  name: 'list',
  summary: "an account's active sessions: device, address, location, times",
  usage: 'gatehouse sessions list --email EMAIL [--json]',
  description: `Lists the account's active sessions, most recently active first: the session id (for
\`gatehouse sessions revoke --session\`), the device, IP address, country, when it was
last active and when it signed in (UTC). With --json, an object {"sessions": [...]}
whose entries are the API's Session (GET /v1/me/sessions) without "current".
Exits 1 when no account has the email.`,
  success: 'listed (also when there are none)',
  options: {
    email: EMAIL_OPTION,
    json: { description: 'print JSON instead of a table (times in ISO 8601)' },
  },
  async run(options, io) {
    const email = emailOption(options);
    const config = configOf(io);
    const { userByEmail } = await import('../../service/admin-users.js');
    const { sessionsOf } = await import('../../service/admin-sessions.js');
    const sessions = await administer(config, io.clock, async (ctx) => sessionsOf(ctx, (await userByEmail(ctx, email)).id));
    if (options.json) {
      say(io, asciiJson({ sessions: sessions.map(sessionJson) }));
      return 0;
    }
    if (sessions.length === 0) {
      say(io, `gatehouse: ${email} has no active sessions`);
      return 0;
    }
    const table = [
      ['ID', 'DEVICE', 'IP', 'LOCATION', 'LAST ACTIVE', 'SIGNED IN'],
      ...sessions.map((s) => [s.id, printable(s.client.device.label), s.client.ip, s.client.country ?? '-', minute(s.lastActiveAt), minute(s.createdAt)]),
    ];
    sayTable(io, table);
    return 0;
  },
});

/** `2026-11-27 09:01 UTC`: what a person reads in a table. */
const minute = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** The API's Session shape (src/http/present.ts), without `current`: the CLI has no session of its own. */
function sessionJson(session: SessionRecord) {
  const { current: _, ...json } = presentSession(session, '');
  return json;
}

/**
 * JSON.stringify leaves DEL and the C1 controls as they are, and a user agent may hold them
 * (anyone who signs in chooses theirs): escaped, the output is safe on a terminal too.
 */
function asciiJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
