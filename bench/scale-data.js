// The rows of bench/scale.js's databases: users, each with three sessions (two live, one ended)
// and about twenty history events, shaped exactly as Gatehouse writes them (src/storage/kysely/
// rows.ts, events.ts, known-devices.ts; ids, refresh hashes and event ids as src/core makes
// them), spread over two years so the retention purge has ended sessions and old history to
// delete. Rows are arrays in the column order of TABLES, ready for multi-row inserts.

import { randomFillSync } from 'node:crypto';

export const PASSWORD = 'scale-password-1234';
export const ADMIN_EMAIL = 'admin@scale.example';
export const HISTORY_EMAIL = 'history@scale.example';
/** The history user's events: enough for a page 40,000 deep, all younger than the retention. */
export const HISTORY_EVENTS = 50_000;
export const DEEP_PAGE_AT = 40_000;

const MINUTE = 60_000;
const DAY = 86_400_000;
/** Gatehouse's defaults (src/config.ts): idle and absolute lifetimes of a session. */
const IDLE_TTL = 14 * DAY;
const MAX_AGE = 90 * DAY;

/** Column names and PostgreSQL types, in row order (src/storage/kysely/tables.ts). */
export const TABLES = {
  users: [
    ['id', 'text'],
    ['email', 'text'],
    ['email_key', 'text'],
    ['name', 'text'],
    ['password_hash', 'text'],
    ['role', 'text'],
    ['disabled_at', 'bigint'],
    ['created_at', 'bigint'],
    ['updated_at', 'bigint'],
    ['password_changed_at', 'bigint'],
  ],
  sessions: [
    ['id', 'text'],
    ['user_id', 'text'],
    ['created_at', 'bigint'],
    ['authenticated_at', 'bigint'],
    ['last_active_at', 'bigint'],
    ['idle_expires_at', 'bigint'],
    ['expires_at', 'bigint'],
    ['revoked_at', 'bigint'],
    ['revoked_reason', 'text'],
    ['revoked_by', 'text'],
    ['ip', 'text'],
    ['user_agent', 'text'],
    ['browser', 'text'],
    ['os', 'text'],
    ['device_type', 'text'],
    ['device_label', 'text'],
    ['country', 'text'],
    ['refresh_hash', 'text'],
    ['refresh_key', 'text'],
    ['refresh_generation', 'integer'],
    ['refresh_rotated_at', 'bigint'],
    ['refresh_previous_rotated_at', 'bigint'],
    ['refresh_successor', 'text'],
    ['expiry_recorded_at', 'bigint'],
  ],
  events: [
    ['id', 'text'],
    ['user_id', 'text'],
    ['session_id', 'text'],
    ['type', 'text'],
    ['at', 'bigint'],
    ['actor', 'text'],
    ['ip', 'text'],
    ['user_agent', 'text'],
    ['browser', 'text'],
    ['os', 'text'],
    ['device_type', 'text'],
    ['device_label', 'text'],
    ['country', 'text'],
    ['detail', 'text'],
  ],
  known_devices: [
    ['user_id', 'text'],
    ['device_key', 'text'],
    ['first_seen_at', 'bigint'],
    ['last_seen_at', 'bigint'],
  ],
};

const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
  'Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
];
/** Public addresses in a few dozen networks (the bundled GeoIP database gives most a country). */
const ADDRESSES = Array.from(
  { length: 61 },
  (_, k) => `${[81, 94, 151, 185, 24, 73, 98, 2, 31, 62, 89][k % 11]}.${(k * 37 + 11) % 256}.${(k * 11 + 3) % 256}.${((k * 53 + 7) % 254) + 1}`,
);
/** Each user's three devices: the first is where the benchmark signs in from (replacing that session). */
const SLOTS = [
  { agent: 0, spread: 1, offset: 0 },
  { agent: 3, spread: 7, offset: 5 },
  { agent: 5, spread: 13, offset: 11 },
];

/** The user agent and address of user `index`'s device `slot` (0, 1 or 2). */
export function deviceOf(index, slot) {
  const s = SLOTS[slot];
  return { userAgent: USER_AGENTS[(index + s.agent) % USER_AGENTS.length], ip: ADDRESSES[(index * s.spread + s.offset) % ADDRESSES.length] };
}

export const emailOf = (index) => `u${String(index).padStart(7, '0')}@scale.example`;

/** What history mostly holds, by weight, after each account's `account_created`. */
const EVENT_MIX = [
  ['signed_in', 50],
  ['session_expired', 14],
  ['signed_out', 10],
  ['session_revoked', 8],
  ['sign_in_failed', 7],
  ['reauthenticated', 5],
  ['other_sessions_revoked', 3],
  ['password_changed', 2],
  ['refresh_token_reused', 1],
];

/**
 * Rows for users `from` to `to` (and the two special accounts), made with Gatehouse's own
 * `describeDevice`, locator and `deviceKey` (passed in from dist/) so every derived column is
 * what a sign-in would have stored. `now` is the time the data is made at.
 */
export function createGenerator({ now, passwordHash, emailKey, describeDevice, countryOf, deviceKey, seed = 16 }) {
  const random = mulberry32(seed);
  const bytes = new Entropy();
  const between = (from, to) => Math.floor(from + random() * (to - from));
  const clients = new Map();
  const clientOf = (index, slot) => {
    const { userAgent, ip } = deviceOf(index, slot);
    const key = `${userAgent}\u0000${ip}`;
    let client = clients.get(key);
    if (!client) {
      client = { ip, userAgent, device: describeDevice(userAgent), country: countryOf(ip) };
      client.deviceKey = deviceKey(client);
      clients.set(key, client);
    }
    return client;
  };
  const mix = EVENT_MIX.flatMap(([type, weight]) => Array(weight).fill(type));
  let sequence = 0;
  // src/core/activity.ts eventId: time in hex, a per-process counter, 80 random bits.
  const eventId = (at) => {
    sequence = (sequence + 1) % 0x1000000;
    return `${at.toString(16).padStart(12, '0')}${sequence.toString(16).padStart(6, '0')}${bytes.base64url(10)}`;
  };

  function user(index, { email = emailOf(index), role = 'user', createdAt }) {
    const id = bytes.base64url(16);
    return { id, index, createdAt, row: [id, email, emailKey(email), null, passwordHash, role, null, createdAt, createdAt, createdAt] };
  }

  /** A session as startSession stores it, then as rotation, activity and its end left it. */
  function session(owner, slot, times, end) {
    const client = clientOf(owner.index, slot);
    const generation = between(0, 400);
    const rotatedAt = generation > 0 ? times.lastActiveAt : null;
    const row = [
      bytes.base64url(16),
      owner.id,
      times.createdAt,
      times.createdAt,
      times.lastActiveAt,
      times.lastActiveAt + IDLE_TTL,
      times.createdAt + MAX_AGE,
      end?.revokedAt ?? null,
      end?.reason ?? null,
      end?.revokedAt ? owner.id : null,
      client.ip,
      client.userAgent,
      client.device.browser,
      client.device.os,
      client.device.type,
      client.device.label,
      client.country,
      bytes.base64url(32), // SHA-256 of the current secret, base64url (refresh-token.ts hashSecret)
      bytes.base64url(32), // the per-session MAC key (newRefreshKey)
      generation,
      rotatedAt,
      generation > 1 ? rotatedAt - between(MINUTE, 10 * MINUTE) : null,
      // sealSuccessor: iv . tag . AES-GCM of a 94-character token
      generation > 0 ? `${bytes.base64url(12)}.${bytes.base64url(16)}.${bytes.base64url(94)}` : null,
      end?.expiryRecordedAt ?? null,
    ];
    return { row, client, times };
  }

  /**
   * Two live sessions and one that ended. Most live ones were used in the last day (so the data
   * stays much the same for days); a fifth over the last two weeks, so some run out every minute.
   */
  function sessionsOf(owner) {
    const live = (slot) => {
      const createdAt = Math.max(owner.createdAt, now - between(0, MAX_AGE - DAY));
      const lastActiveAt = Math.max(createdAt, now - between(0, random() < 0.8 ? DAY : IDLE_TTL - MINUTE));
      return session(owner, slot, { createdAt, lastActiveAt });
    };
    // Ended up to 200 days ago: over half of them before the 90-day retention, so the purge has work.
    const endedAt = Math.max(owner.createdAt + IDLE_TTL + DAY, now - between(MINUTE * 30, 200 * DAY));
    const revoked = random() < 0.6;
    const lastActiveAt = revoked ? endedAt - between(0, DAY) : endedAt - IDLE_TTL;
    const createdAt = Math.max(owner.createdAt, lastActiveAt - between(0, 30 * DAY));
    const end = revoked
      ? { revokedAt: endedAt, reason: ['logout', 'remote_logout', 'replaced', 'password_changed'][between(0, 4)] }
      : { expiryRecordedAt: endedAt + between(0, MINUTE) };
    return [live(0), live(1), session(owner, 2, { createdAt, lastActiveAt: Math.min(lastActiveAt, endedAt) }, end)];
  }

  function event(owner, type, at) {
    const slot = between(0, 3);
    const client = type === 'session_expired' ? null : clientOf(owner.index, slot);
    // Registration and failed sign-ins happen outside any session.
    const sessionId = type === 'account_created' || type === 'sign_in_failed' ? null : bytes.base64url(16);
    return [
      eventId(at),
      owner.id,
      sessionId,
      type,
      at,
      type === 'session_expired' || type === 'refresh_token_reused' ? 'system' : owner.id,
      client?.ip ?? null,
      client?.userAgent ?? null,
      client?.device.browser ?? null,
      client?.device.os ?? null,
      client?.device.type ?? null,
      client?.device.label ?? null,
      client?.country ?? null,
      detailOf(type),
    ];
  }

  function detailOf(type) {
    switch (type) {
      case 'signed_in':
        return JSON.stringify({ new_device: random() < 0.1 });
      case 'session_expired':
        return JSON.stringify({ reason: random() < 0.9 ? 'idle' : 'max_age' });
      case 'sign_in_failed':
        return JSON.stringify({ reason: 'wrong_password' });
      case 'session_revoked':
      case 'other_sessions_revoked':
      case 'password_changed':
        return JSON.stringify({ session_ids: [bytes.base64url(16)] });
      default:
        return '{}';
    }
  }

  /** The account's history: created, then `count - 1` events at random times since. */
  function historyOf(owner, count, from) {
    const rows = [event(owner, 'account_created', owner.createdAt)];
    for (let k = 1; k < count; k++) rows.push(event(owner, mix[between(0, mix.length)], between(from, now)));
    return rows;
  }

  /** The devices of its sessions, as known_devices remembers them (first and last seen). */
  function devicesOf(owner, sessions) {
    const seen = new Map();
    for (const { client, times } of sessions) {
      const known = seen.get(client.deviceKey);
      seen.set(client.deviceKey, [
        owner.id,
        client.deviceKey,
        Math.min(times.createdAt, known?.[2] ?? Infinity),
        Math.max(times.lastActiveAt, known?.[3] ?? -Infinity),
      ]);
    }
    return [...seen.values()];
  }

  function account(owner, eventCount, eventsFrom, out) {
    const sessions = sessionsOf(owner);
    out.users.push(owner.row);
    for (const s of sessions) out.sessions.push(s.row);
    for (const e of historyOf(owner, eventCount, eventsFrom)) out.events.push(e);
    for (const k of devicesOf(owner, sessions)) out.known_devices.push(k);
    out.open += 2;
  }

  const empty = () => ({ users: [], sessions: [], events: [], known_devices: [], open: 0 });

  return {
    /** Users `from` (inclusive) to `to`: created 30 to 730 days ago, 10 to 30 events each. */
    batch(from, to) {
      const out = empty();
      for (let index = from; index < to; index++) {
        const owner = user(index, { createdAt: now - between(30 * DAY, 730 * DAY) });
        account(owner, between(10, 31), owner.createdAt, out);
        // Failed sign-ins for emails nobody has: no one's history, kept 7 days (all younger here).
        if (random() < 0.1) {
          const stray = event(owner, 'sign_in_failed', now - between(MINUTE, 6 * DAY));
          stray[1] = null; // user_id
          stray[5] = null; // actor
          stray[13] = JSON.stringify({ reason: 'unknown_email' });
          out.events.push(stray);
        }
      }
      return out;
    },

    /**
     * The administrator (for the admin search) and the user with a long history (for the deep
     * page), numbered after the others; with the cursor of the page after its DEEP_PAGE_AT-th
     * newest event (src/core/event-cursor.ts: base64url of `at.id`).
     */
    specials(size) {
      const out = empty();
      account(user(size, { email: ADMIN_EMAIL, role: 'admin', createdAt: now - 400 * DAY }), 20, now - 400 * DAY, out);
      const history = user(size + 1, { email: HISTORY_EMAIL, createdAt: now - 300 * DAY });
      account(history, HISTORY_EVENTS, history.createdAt, out);
      const mine = out.events.filter((e) => e[1] === history.id).sort((a, b) => b[4] - a[4] || (a[0] < b[0] ? 1 : -1));
      const last = mine[DEEP_PAGE_AT - 1];
      return { rows: out, deepCursor: Buffer.from(`${last[4]}.${last[0]}`).toString('base64url') };
    },
  };
}

/** Random bytes drawn from a large buffer refilled as needed: one system call per megabyte, not per id. */
class Entropy {
  #buffer = Buffer.alloc(1 << 20);
  #at = this.#buffer.length;

  base64url(n) {
    if (this.#at + n > this.#buffer.length) {
      randomFillSync(this.#buffer);
      this.#at = 0;
    }
    const text = this.#buffer.toString('base64url', this.#at, this.#at + n);
    this.#at += n;
    return text;
  }
}

/** A small seeded generator for times and choices, so each size's data has the same shape run after run. */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
