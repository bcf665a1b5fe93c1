import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { ConfigError, fail, integer, oneOf, present, text, url, withoutPassword, boolean, type Env } from './config-values.js';
import type { WebhookType } from './core/activity.js';
import type { GeoipDatabase } from './geo/open-locator.js';
import { mailSettings, type MailSetting } from './mail/settings.js';
import type { DatabaseLocation } from './storage/kysely/connect.js';

export { ConfigError } from './config-values.js';
export type { MailSetting } from './mail/settings.js';

/** Everything configurable, read once at start, validated, frozen (design §7). */
export interface Config {
  port: number;
  host: string;
  database: DatabaseLocation;
  issuer: string;
  audience: string;
  accessTokenTtlSeconds: number;
  clockToleranceSeconds: number;
  sessionIdleTtlSeconds: number;
  sessionMaxAgeSeconds: number;
  reauthWindowSeconds: number;
  /** How long a spent refresh token may be presented again without counting as theft. */
  refreshReuseGraceSeconds: number;
  /** Most active sessions one user may have; 0 means no limit. */
  maxSessions: number;
  /** How long ended sessions stay in the database as history before they are purged. */
  sessionRetentionSeconds: number;
  /** How old the revocation view's last confirmation may be before it is no longer trusted. */
  revocationMaxStalenessSeconds: number;
  replaceSameDeviceSessions: boolean;
  minPasswordLength: number;
  /** Consecutive failed sign-ins of one email before the progressive delay (NIST 800-63B: at most 100). */
  signInMaxConsecutiveFailures: number;
  /** Failed sign-ins of one email per hour. */
  signInMaxFailuresPerHour: number;
  /** Failed sign-ins from one address per 15 minutes, over any emails; 0: no address limit. */
  signInIpMaxFailures: number;
  /** Registrations tried from one address per 15 minutes; 0: no limit. */
  registrationIpMax: number;
  /** Password-reset requests from one address per 15 minutes; 0: no limit. */
  passwordResetIpMax: number;
  /** false: the socket address is the client; otherwise which proxies may set X-Forwarded-For. */
  trustProxy: boolean | number | string[];
  secret: string | undefined;
  /** NODE_ENV=production: what a development default would weaken (a missing secret) is refused. */
  production: boolean;
  /** Rotate the signing key when the newest is this many days old, and retire expired keys; 0: never. */
  keyRotationDays: number;
  /** Credentials of other services (revocation feed, introspection); empty: those routes refuse all. */
  serviceKeys: string[];
  /** The Bearer token /metrics requires; undefined: /metrics is open to whoever can reach it. */
  metricsToken: string | undefined;
  /** Where sign-in locations come from; the file is opened at start, not here. */
  geoipDatabase: GeoipDatabase;
  /** How long login history (the events table) is kept. */
  eventRetentionSeconds: number;
  /** Where notifications are POSTed; undefined: no webhooks (and no outbox rows are written). */
  webhookUrl: string | undefined;
  /** Signs every webhook (HMAC-SHA256) and keys the "this wasn't me" links; set with webhookUrl. */
  webhookSecret: string | undefined;
  /** The address people reach Gatehouse at, for links in notifications: GATEHOUSE_PUBLIC_URL, else the issuer. */
  publicUrl: string;
  /** How long a "this wasn't me" link works. */
  notMeLinkTtlSeconds: number;
  /** How mail leaves: an SMTP server, `.eml` files (outside production, without SMTP), or not at all. */
  mail: MailSetting;
  /** The From of every message (GATEHOUSE_MAIL_FROM). */
  mailFrom: string;
  /** The name messages and the page call the product (GATEHOUSE_PRODUCT_NAME). */
  productName: string;
  /** The alerts also mailed to the account's address (GATEHOUSE_MAIL_ALERTS); by default all four. */
  mailAlerts: WebhookType[];
  /** `required`: an account signs in only once its address is proved (GATEHOUSE_EMAIL_VERIFICATION). */
  emailVerification: 'optional' | 'required';
  /** How long a node may take to stop after SIGTERM or SIGINT before it exits anyway, with code 1. */
  shutdownTimeoutSeconds: number;
  logLevel: string;
}

const DAY = 86_400;
const TEN_YEARS = 3650 * DAY;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Reads the process environment, under which a `.env` file in the working directory fills in
 * what is not set. This and the CLI's `processIo` are the only places that read `process.env`.
 */
export function loadConfig(env: Env = environmentIn(process.cwd(), process.env)): Readonly<Config> {
  const port = integer(env, 'PORT', 3000, 0, 65535);
  const production = present(env, 'NODE_ENV') === 'production';
  // Every duration goes down to 1 second, so demos and black-box tests can watch sessions end.
  const accessTokenTtlSeconds = integer(env, 'GATEHOUSE_ACCESS_TOKEN_TTL', 600, 1, DAY);
  const sessionIdleTtlSeconds = integer(env, 'GATEHOUSE_SESSION_IDLE_TTL', 14 * DAY, 1, TEN_YEARS);
  const sessionMaxAgeSeconds = integer(env, 'GATEHOUSE_SESSION_MAX_AGE', 90 * DAY, 1, TEN_YEARS);
  if (sessionIdleTtlSeconds > sessionMaxAgeSeconds) {
    throw new ConfigError(`GATEHOUSE_SESSION_IDLE_TTL (${sessionIdleTtlSeconds}) must not be longer than GATEHOUSE_SESSION_MAX_AGE (${sessionMaxAgeSeconds})`);
  }
  const publicUrl = url(env, 'GATEHOUSE_PUBLIC_URL', url(env, 'GATEHOUSE_ISSUER', `http://localhost:${port}`)).replace(/\/+$/, '');
  const config: Config = {
    port,
    host: text(env, 'HOST', '127.0.0.1'),
    database: database(env.DATABASE_URL),
    issuer: url(env, 'GATEHOUSE_ISSUER', `http://localhost:${port}`),
    audience: text(env, 'GATEHOUSE_AUDIENCE', 'gatehouse'),
    accessTokenTtlSeconds,
    clockToleranceSeconds: integer(env, 'GATEHOUSE_CLOCK_TOLERANCE', 5, 0, 300),
    sessionIdleTtlSeconds,
    sessionMaxAgeSeconds,
    reauthWindowSeconds: integer(env, 'GATEHOUSE_REAUTH_WINDOW', 600, 1, DAY),
    refreshReuseGraceSeconds: integer(env, 'GATEHOUSE_REFRESH_REUSE_GRACE', 10, 1, 3600),
    maxSessions: integer(env, 'GATEHOUSE_MAX_SESSIONS', 0, 0, 100_000),
    sessionRetentionSeconds: integer(env, 'GATEHOUSE_SESSION_RETENTION', 90 * DAY, 1, TEN_YEARS),
    // The catch-up query runs every second, so anything below 2 s would flap on a slow query.
    revocationMaxStalenessSeconds: integer(env, 'GATEHOUSE_REVOCATION_MAX_STALENESS', 5, 2, 3600),
    replaceSameDeviceSessions: boolean(env, 'GATEHOUSE_REPLACE_SAME_DEVICE_SESSIONS', true),
    minPasswordLength: integer(env, 'GATEHOUSE_PASSWORD_MIN_LENGTH', 8, 1, 128),
    // Account limits cannot be turned off: NIST 800-63B 5.2.2 requires one, at most 100 failures.
    signInMaxConsecutiveFailures: integer(env, 'GATEHOUSE_SIGNIN_MAX_CONSECUTIVE_FAILURES', 10, 1, 100),
    signInMaxFailuresPerHour: integer(env, 'GATEHOUSE_SIGNIN_MAX_FAILURES_PER_HOUR', 100, 1, 100_000),
    // 100 per 15 min: far above what one household or office mistypes, far below a spraying run.
    // 0 turns it off, for a proxy setup where every client shares one address (or fix TRUST_PROXY).
    signInIpMaxFailures: integer(env, 'GATEHOUSE_SIGNIN_IP_MAX_FAILURES', 100, 0, 1_000_000),
    // 30 per 15 min: a family or a class signing up together fits, a flood of argon2 work does not.
    registrationIpMax: integer(env, 'GATEHOUSE_REGISTER_IP_MAX', 30, 0, 1_000_000),
    // 20 per 15 min: a household's forgotten passwords fit; a run through a list of addresses does not.
    passwordResetIpMax: integer(env, 'GATEHOUSE_PASSWORD_RESET_IP_MAX', 20, 0, 1_000_000),
    trustProxy: trustProxy(env.GATEHOUSE_TRUST_PROXY),
    secret: secret(env.GATEHOUSE_SECRET, production),
    production,
    keyRotationDays: integer(env, 'GATEHOUSE_KEY_ROTATION_DAYS', 0, 0, 3650),
    serviceKeys: serviceKeys(env.GATEHOUSE_SERVICE_KEYS),
    metricsToken: metricsToken(env.GATEHOUSE_METRICS_TOKEN),
    geoipDatabase: geoipDatabase(env.GATEHOUSE_GEOIP_DATABASE),
    eventRetentionSeconds: integer(env, 'GATEHOUSE_EVENT_RETENTION', 365 * DAY, DAY, TEN_YEARS),
    ...webhooks(env),
    publicUrl,
    ...mailSettings(env, production, publicUrl),
    notMeLinkTtlSeconds: integer(env, 'GATEHOUSE_NOT_ME_LINK_TTL', 7 * DAY, 60, 90 * DAY),
    // At least the 1 s idle-connection grace and the 3 s webhook grace, with room for requests.
    shutdownTimeoutSeconds: integer(env, 'GATEHOUSE_SHUTDOWN_TIMEOUT', 10, 5, 3600),
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', LOG_LEVELS),
  };
  return Object.freeze(config);
}

/**
 * The configuration of a command run in `cwd` with `env` (the CLI's io): a `.env` file in
 * `cwd` fills in what `env` does not set, and relative file paths (the SQLite database, the
 * GeoIP file) are taken from `cwd`, as a process started there would take them.
 */
export function loadConfigIn(cwd: string, env: Env): Readonly<Config> {
  const config = loadConfig(environmentIn(cwd, env));
  const { database, geoipDatabase, mail } = config;
  return Object.freeze({
    ...config,
    mail: mail.kind === 'files' ? { ...mail, dir: resolve(cwd, mail.dir) } : mail,
    database: database.kind === 'sqlite' && database.path !== ':memory:' ? { ...database, path: resolve(cwd, database.path) } : database,
    geoipDatabase: geoipDatabase.kind === 'file' ? { ...geoipDatabase, path: resolve(cwd, geoipDatabase.path) } : geoipDatabase,
  });
}

function environmentIn(cwd: string, env: Env): Env {
  const file = join(cwd, '.env');
  const fromFile = existsSync(file) ? parseEnv(readFileSync(file, 'utf8')) : {};
  return { ...fromFile, ...env };
}

function database(value: string | undefined): DatabaseLocation {
  const v = value?.trim();
  if (!v) return { kind: 'sqlite', path: './data/gatehouse.db' };
  if (/^postgres(ql)?:\/\//.test(v) && URL.canParse(v)) return { kind: 'postgres', url: v };
  const path = /^sqlite:(?:\/\/)?(.+)$/.exec(v)?.[1];
  if (path) return { kind: 'sqlite', path };
  return fail('DATABASE_URL', 'sqlite:<path> or postgres://user:password@host/database', withoutPassword(v));
}

function trustProxy(value: string | undefined): Config['trustProxy'] {
  const v = value?.trim().toLowerCase();
  if (!v || ['false', '0', 'no', 'off'].includes(v)) return false;
  if (['true', 'yes', 'on'].includes(v)) return true;
  if (/^\d+$/.test(v) && Number(v) <= 10) return Number(v);
  const addresses = v.split(',').map((a) => a.trim());
  const valid = addresses.every((a) => {
    const [ip = '', bits, extra] = a.split('/');
    return isIP(ip) !== 0 && extra === undefined && (bits === undefined || /^\d{1,3}$/.test(bits));
  });
  if (!valid) fail('GATEHOUSE_TRUST_PROXY', 'false, true, a hop count, or comma-separated proxy addresses/CIDRs', v);
  return addresses;
}

function secret(value: string | undefined, production: boolean): string | undefined {
  if (value === undefined || value === '') {
    // Without it, a copy of the database (a backup, a replica) holds keys that mint tokens.
    if (production)
      throw new ConfigError('GATEHOUSE_SECRET must be set when NODE_ENV=production: it encrypts the signing keys at rest (try: openssl rand -base64 32)');
    return undefined;
  }
  // The secret keys AES-256 through HKDF; a short one would be the weak link.
  if (value.length < 32) throw new ConfigError('GATEHOUSE_SECRET must be at least 32 characters (try: openssl rand -base64 32)');
  return value;
}

function serviceKeys(value: string | undefined): string[] {
  const keys = (value ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
  // A service key is a bearer secret that reads every sign-out: it must not be guessable, and
  // it travels in an Authorization header, so it must be header-safe (b64token characters).
  for (const key of keys) {
    if (key.length < 32 || !/^[A-Za-z0-9\-._~+/]+=*$/.test(key)) {
      throw new ConfigError(
        'GATEHOUSE_SERVICE_KEYS must be comma-separated keys of at least 32 characters from A-Z a-z 0-9 - . _ ~ + / (try: openssl rand -base64 32)',
      );
    }
  }
  return keys;
}

function metricsToken(value: string | undefined): string | undefined {
  const token = value?.trim();
  if (!token) return undefined;
  // Like a service key: a bearer secret that must not be guessable and travels in an
  // Authorization header, so at least 32 header-safe (b64token) characters.
  if (token.length < 32 || !/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) {
    throw new ConfigError('GATEHOUSE_METRICS_TOKEN must be at least 32 characters from A-Z a-z 0-9 - . _ ~ + / (try: openssl rand -base64 32)');
  }
  return token;
}

function webhooks(env: Env): Pick<Config, 'webhookUrl' | 'webhookSecret'> {
  const target = present(env, 'GATEHOUSE_WEBHOOK_URL');
  const secret = present(env, 'GATEHOUSE_WEBHOOK_SECRET');
  if (target === undefined) {
    if (secret !== undefined) throw new ConfigError('GATEHOUSE_WEBHOOK_SECRET is set but GATEHOUSE_WEBHOOK_URL is not: set both, or neither');
    return { webhookUrl: undefined, webhookSecret: undefined };
  }
  const webhookUrl = url(env, 'GATEHOUSE_WEBHOOK_URL', target);
  // Unsigned notifications would let anyone who finds the receiver forge "new sign-in" alerts,
  // and the secret also keys the "this wasn't me" links: no webhooks without a strong one.
  if (secret === undefined || secret.length < 32) {
    throw new ConfigError('GATEHOUSE_WEBHOOK_SECRET must be set with GATEHOUSE_WEBHOOK_URL, at least 32 characters (try: openssl rand -base64 32)');
  }
  // A Standard Webhooks secret's key is its base64 part, decoded (src/webhooks/signature.ts). A
  // typo there would not fail: the lenient decoder would just sign with other bytes than the
  // receiver's library, and every delivery would be refused. Their libraries want 24 to 64 bytes.
  if (secret.startsWith('whsec_')) {
    const encoded = secret.slice('whsec_'.length);
    const bytes = Buffer.from(encoded, 'base64').length;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0 || bytes < 24 || bytes > 64) {
      throw new ConfigError('GATEHOUSE_WEBHOOK_SECRET starting with whsec_ must continue with 24 to 64 bytes in base64 (a Standard Webhooks secret)');
    }
  }
  return { webhookUrl, webhookSecret: secret };
}

function geoipDatabase(value: string | undefined): GeoipDatabase {
  const v = value?.trim();
  if (!v) return { kind: 'bundled' };
  if (['false', '0', 'no', 'off'].includes(v.toLowerCase())) return { kind: 'off' };
  // Location is on by default, so a "switch it on" value is a misunderstanding, not a file name.
  if (['true', '1', 'yes', 'on'].includes(v.toLowerCase())) {
    fail('GATEHOUSE_GEOIP_DATABASE', 'a path to a GeoIP2/GeoLite2 Country or City .mmdb file, or off (unset: the bundled database)', v);
  }
  return { kind: 'file', path: v };
}
