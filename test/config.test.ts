import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('configuration', () => {
  it('works with nothing set: SQLite under ./data, port 3000 on loopback, 10-minute tokens', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      database: { kind: 'sqlite', path: './data/gatehouse.db' },
      issuer: 'http://localhost:3000',
      audience: 'gatehouse',
      accessTokenTtlSeconds: 600,
      reauthWindowSeconds: 600,
      sessionIdleTtlSeconds: 14 * 86_400,
      sessionMaxAgeSeconds: 90 * 86_400,
      refreshReuseGraceSeconds: 10,
      maxSessions: 0,
      sessionRetentionSeconds: 90 * 86_400,
      revocationMaxStalenessSeconds: 5,
      replaceSameDeviceSessions: true,
      minPasswordLength: 8,
      signInMaxConsecutiveFailures: 10,
      signInMaxFailuresPerHour: 100,
      signInIpMaxFailures: 100,
      registrationIpMax: 30,
      trustProxy: false,
      secret: undefined,
      serviceKeys: [],
      geoipDatabase: { kind: 'bundled' },
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads every variable of design §7', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgres://gh:pw@db.internal:5432/gatehouse',
      GATEHOUSE_ISSUER: 'https://auth.example.com',
      GATEHOUSE_AUDIENCE: 'example-api',
      GATEHOUSE_ACCESS_TOKEN_TTL: '300',
      GATEHOUSE_SESSION_IDLE_TTL: '1800',
      GATEHOUSE_SESSION_MAX_AGE: '43200',
      GATEHOUSE_REAUTH_WINDOW: '120',
      GATEHOUSE_TRUST_PROXY: '10.0.0.0/8, 192.168.1.1',
      GATEHOUSE_SECRET: 'x'.repeat(32),
      GATEHOUSE_PASSWORD_MIN_LENGTH: '12',
      GATEHOUSE_SIGNIN_MAX_CONSECUTIVE_FAILURES: '5',
      GATEHOUSE_SIGNIN_MAX_FAILURES_PER_HOUR: '50',
      GATEHOUSE_SIGNIN_IP_MAX_FAILURES: '500',
      GATEHOUSE_REGISTER_IP_MAX: '5',
      GATEHOUSE_REFRESH_REUSE_GRACE: '3',
      GATEHOUSE_MAX_SESSIONS: '5',
      GATEHOUSE_SESSION_RETENTION: '86400',
      GATEHOUSE_REVOCATION_MAX_STALENESS: '3',
      GATEHOUSE_REPLACE_SAME_DEVICE_SESSIONS: 'false',
      GATEHOUSE_SERVICE_KEYS: ` ${'k'.repeat(32)} ,${'s'.repeat(40)}`,
      GATEHOUSE_GEOIP_DATABASE: ' /var/lib/GeoIP/GeoLite2-Country.mmdb ',
      LOG_LEVEL: 'warn',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      database: { kind: 'postgres', url: 'postgres://gh:pw@db.internal:5432/gatehouse' },
      issuer: 'https://auth.example.com',
      audience: 'example-api',
      accessTokenTtlSeconds: 300,
      sessionIdleTtlSeconds: 1800,
      sessionMaxAgeSeconds: 43200,
      reauthWindowSeconds: 120,
      trustProxy: ['10.0.0.0/8', '192.168.1.1'],
      minPasswordLength: 12,
      signInMaxConsecutiveFailures: 5,
      signInMaxFailuresPerHour: 50,
      signInIpMaxFailures: 500,
      registrationIpMax: 5,
      refreshReuseGraceSeconds: 3,
      maxSessions: 5,
      sessionRetentionSeconds: 86400,
      revocationMaxStalenessSeconds: 3,
      replaceSameDeviceSessions: false,
      serviceKeys: ['k'.repeat(32), 's'.repeat(40)],
      geoipDatabase: { kind: 'file', path: '/var/lib/GeoIP/GeoLite2-Country.mmdb' },
      logLevel: 'warn',
    });
  });

  it.each([
    ['sqlite:/var/lib/gatehouse/gh.db', { kind: 'sqlite', path: '/var/lib/gatehouse/gh.db' }],
    ['sqlite:./local.db', { kind: 'sqlite', path: './local.db' }],
    ['postgresql://localhost/gh', { kind: 'postgres', url: 'postgresql://localhost/gh' }],
  ])('understands DATABASE_URL=%s', (url, database) => {
    expect(loadConfig({ DATABASE_URL: url }).database).toEqual(database);
  });

  it.each([
    ['true', true],
    ['1', 1],
    ['false', false],
    ['', false],
  ])('understands GATEHOUSE_TRUST_PROXY=%j', (value, expected) => {
    expect(loadConfig({ GATEHOUSE_TRUST_PROXY: value }).trustProxy).toEqual(expected);
  });

  it.each([['off'], ['false'], ['OFF'], ['0'], ['no']])('turns location off with GATEHOUSE_GEOIP_DATABASE=%s', (value) => {
    expect(loadConfig({ GATEHOUSE_GEOIP_DATABASE: value }).geoipDatabase).toEqual({ kind: 'off' });
  });

  it('uses the bundled location database when GATEHOUSE_GEOIP_DATABASE is empty, and opens no file while reading the configuration', () => {
    expect(loadConfig({ GATEHOUSE_GEOIP_DATABASE: ' ' }).geoipDatabase).toEqual({ kind: 'bundled' });
    // A missing file is found when the server starts (test/geo/open-locator.test.ts), not here.
    expect(loadConfig({ GATEHOUSE_GEOIP_DATABASE: '/nowhere/GeoLite2-City.mmdb' }).geoipDatabase).toEqual({
      kind: 'file',
      path: '/nowhere/GeoLite2-City.mmdb',
    });
  });

  it('takes every duration down to 1 second, for demos and black-box tests', () => {
    const config = loadConfig({
      GATEHOUSE_ACCESS_TOKEN_TTL: '1',
      GATEHOUSE_SESSION_IDLE_TTL: '1',
      GATEHOUSE_SESSION_MAX_AGE: '1',
      GATEHOUSE_REFRESH_REUSE_GRACE: '1',
    });
    expect(config).toMatchObject({ accessTokenTtlSeconds: 1, sessionIdleTtlSeconds: 1, sessionMaxAgeSeconds: 1, refreshReuseGraceSeconds: 1 });
  });

  it('turns the per-address sign-in limit off with 0, but never the per-account ones (NIST 800-63B requires them)', () => {
    expect(loadConfig({ GATEHOUSE_SIGNIN_IP_MAX_FAILURES: '0' }).signInIpMaxFailures).toBe(0);
    expect(loadConfig({ GATEHOUSE_REGISTER_IP_MAX: '0' }).registrationIpMax).toBe(0);
    expect(() => loadConfig({ GATEHOUSE_SIGNIN_MAX_CONSECUTIVE_FAILURES: '0' })).toThrowError(
      /^GATEHOUSE_SIGNIN_MAX_CONSECUTIVE_FAILURES must be a whole number from 1 to 100/,
    );
    expect(() => loadConfig({ GATEHOUSE_SIGNIN_MAX_CONSECUTIVE_FAILURES: '101' })).toThrowError(/^GATEHOUSE_SIGNIN_MAX_CONSECUTIVE_FAILURES must be/);
    expect(() => loadConfig({ GATEHOUSE_SIGNIN_MAX_FAILURES_PER_HOUR: '0' })).toThrowError(
      /^GATEHOUSE_SIGNIN_MAX_FAILURES_PER_HOUR must be a whole number from 1 to/,
    );
  });

  it('gives a stopping node 10 s by default, and GATEHOUSE_SHUTDOWN_TIMEOUT from 5 s to an hour', () => {
    expect(loadConfig({}).shutdownTimeoutSeconds).toBe(10);
    expect(loadConfig({ GATEHOUSE_SHUTDOWN_TIMEOUT: '25' }).shutdownTimeoutSeconds).toBe(25);
    for (const value of ['4', '3601', '0', 'soon']) {
      expect(() => loadConfig({ GATEHOUSE_SHUTDOWN_TIMEOUT: value })).toThrowError(/^GATEHOUSE_SHUTDOWN_TIMEOUT must be a whole number from 5 to 3600/);
    }
  });

  it('leaves /metrics open without GATEHOUSE_METRICS_TOKEN, and takes a header-safe token of 32 characters or more', () => {
    expect(loadConfig({}).metricsToken).toBeUndefined();
    expect(loadConfig({ GATEHOUSE_METRICS_TOKEN: ' ' }).metricsToken).toBeUndefined();
    const token = 'Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5';
    expect(loadConfig({ GATEHOUSE_METRICS_TOKEN: ` ${token} ` }).metricsToken).toBe(token);
  });

  it('never repeats the database password in an error', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://gh:S3cretPass@db.internal/gatehouse' })).toThrowError(
      'DATABASE_URL must be sqlite:<path> or postgres://user:password@host/database; got "mysql://gh:***@db.internal/gatehouse"',
    );
  });

  it('refuses an idle timeout longer than the absolute lifetime', () => {
    expect(() => loadConfig({ GATEHOUSE_SESSION_IDLE_TTL: '7200', GATEHOUSE_SESSION_MAX_AGE: '3600' })).toThrowError(
      'GATEHOUSE_SESSION_IDLE_TTL (7200) must not be longer than GATEHOUSE_SESSION_MAX_AGE (3600)',
    );
  });

  it.each(['GATEHOUSE_ACCESS_TOKEN_TTL', 'GATEHOUSE_SESSION_IDLE_TTL', 'GATEHOUSE_SESSION_MAX_AGE', 'GATEHOUSE_REFRESH_REUSE_GRACE'])(
    'refuses a zero, negative or non-numeric %s',
    (name) => {
      for (const value of ['0', '-1', 'soon', '1.5'])
        expect(() => loadConfig({ [name]: value })).toThrowError(new RegExp(`^${name} must be a whole number from 1 to`));
    },
  );

  it.each([
    ['PORT', 'eighty', /^PORT must be a whole number from 0 to 65535; got "eighty"$/],
    ['GATEHOUSE_ACCESS_TOKEN_TTL', '-5', /^GATEHOUSE_ACCESS_TOKEN_TTL must be/],
    ['GATEHOUSE_ACCESS_TOKEN_TTL', '1e3', /^GATEHOUSE_ACCESS_TOKEN_TTL must be/],
    ['GATEHOUSE_REAUTH_WINDOW', '999999999', /^GATEHOUSE_REAUTH_WINDOW must be/],
    ['DATABASE_URL', 'mysql://x', /^DATABASE_URL must be sqlite:<path> or postgres:/],
    ['GATEHOUSE_ISSUER', 'not a url', /^GATEHOUSE_ISSUER must be an http\(s\) URL/],
    ['GATEHOUSE_TRUST_PROXY', 'everyone', /^GATEHOUSE_TRUST_PROXY must be/],
    ['GATEHOUSE_SECRET', 'short', /^GATEHOUSE_SECRET must be at least 32 characters/],
    ['GATEHOUSE_SERVICE_KEYS', 'short-key', /^GATEHOUSE_SERVICE_KEYS must be comma-separated keys of at least 32/],
    ['GATEHOUSE_SERVICE_KEYS', `${'k'.repeat(32)},with space ${'x'.repeat(32)}`, /^GATEHOUSE_SERVICE_KEYS must be/],
    ['GATEHOUSE_METRICS_TOKEN', 'k'.repeat(31), /^GATEHOUSE_METRICS_TOKEN must be at least 32 characters/],
    ['GATEHOUSE_METRICS_TOKEN', `${'k'.repeat(32)} ${'x'.repeat(8)}`, /^GATEHOUSE_METRICS_TOKEN must be/],
    ['GATEHOUSE_METRICS_TOKEN', `${'k'.repeat(32)}"`, /^GATEHOUSE_METRICS_TOKEN must be/],
    ['GATEHOUSE_REPLACE_SAME_DEVICE_SESSIONS', 'maybe', /^GATEHOUSE_REPLACE_SAME_DEVICE_SESSIONS must be true or false/],
    ['LOG_LEVEL', 'loud', /^LOG_LEVEL must be one of/],
    ['GATEHOUSE_GEOIP_DATABASE', 'true', /^GATEHOUSE_GEOIP_DATABASE must be a path to a GeoIP2\/GeoLite2 Country or City \.mmdb file, or off/],
  ])('stops with one line naming %s when it is %j', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrowError(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrowError(message);
  });
});

describe('webhook configuration', () => {
  const url = 'https://hooks.example.com/gatehouse';

  it('takes a Standard Webhooks secret (whsec_ and base64) as it is', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    expect(loadConfig({ GATEHOUSE_WEBHOOK_URL: url, GATEHOUSE_WEBHOOK_SECRET: secret })).toMatchObject({ webhookUrl: url, webhookSecret: secret });
  });

  it.each([
    ['not base64', `whsec_${'!'.repeat(32)}`],
    ['cut short', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS'],
    ['too few bytes', `whsec_${Buffer.alloc(21, 7).toString('base64')}`],
  ])('refuses a whsec_ secret that is %s, instead of signing with bytes the receiver does not have', (_, secret) => {
    expect(() => loadConfig({ GATEHOUSE_WEBHOOK_URL: url, GATEHOUSE_WEBHOOK_SECRET: secret })).toThrowError(
      /^GATEHOUSE_WEBHOOK_SECRET starting with whsec_ must continue with 24 to 64 bytes in base64/,
    );
  });
});

describe('production and signing-key configuration', () => {
  const SECRET = 'an operator secret of at least 32 chars';

  it('refuses to start in production without GATEHOUSE_SECRET, with the reason in one line', () => {
    for (const env of [{ NODE_ENV: 'production' }, { NODE_ENV: 'production', GATEHOUSE_SECRET: '' }, { NODE_ENV: ' production ' }]) {
      expect(() => loadConfig(env)).toThrowError(ConfigError);
      expect(() => loadConfig(env)).toThrowError(
        /^GATEHOUSE_SECRET must be set when NODE_ENV=production: it encrypts the signing keys at rest \(try: openssl rand -base64 32\)$/,
      );
    }
  });

  it('starts in production with a secret, and elsewhere without one', () => {
    expect(loadConfig({ NODE_ENV: 'production', GATEHOUSE_SECRET: SECRET, GATEHOUSE_MAIL: 'off' })).toMatchObject({ production: true, secret: SECRET });
    expect(loadConfig({ NODE_ENV: 'development' })).toMatchObject({ production: false, secret: undefined });
    expect(loadConfig({})).toMatchObject({ production: false, secret: undefined });
  });

  it('rotates keys on a schedule only when GATEHOUSE_KEY_ROTATION_DAYS is set', () => {
    expect(loadConfig({}).keyRotationDays).toBe(0);
    expect(loadConfig({ GATEHOUSE_KEY_ROTATION_DAYS: '0' }).keyRotationDays).toBe(0);
    expect(loadConfig({ GATEHOUSE_KEY_ROTATION_DAYS: '90' }).keyRotationDays).toBe(90);
    for (const value of ['-1', '3651', '1.5', 'monthly']) {
      expect(() => loadConfig({ GATEHOUSE_KEY_ROTATION_DAYS: value })).toThrowError(/^GATEHOUSE_KEY_ROTATION_DAYS must be a whole number from 0 to 3650/);
    }
  });
});

describe('mail configuration', () => {
  const SECRET = 'an operator secret of at least 32 chars';

  it('writes .eml files under ./data/mail outside production when no SMTP server is set, from no-reply at the public host', () => {
    const config = loadConfig({ GATEHOUSE_PUBLIC_URL: 'https://auth.example.com/' });
    expect(config.mail).toEqual({ kind: 'files', dir: './data/mail' });
    expect(config.mailFrom).toBe('"Gatehouse" <no-reply@auth.example.com>');
    expect(config.productName).toBe('Gatehouse');
    expect(config.passwordResetIpMax).toBe(20);
  });

  it('requires STARTTLS for any SMTP host but loopback, unless the URL says otherwise', () => {
    expect(loadConfig({ GATEHOUSE_SMTP_URL: 'smtp://user:pass@smtp.example.com:587' }).mail).toEqual({
      kind: 'smtp',
      url: 'smtp://user:pass@smtp.example.com:587',
      starttls: 'required',
    });
    expect(loadConfig({ GATEHOUSE_SMTP_URL: 'smtp://127.0.0.1:2525' }).mail).toMatchObject({ starttls: 'opportunistic' });
    expect(loadConfig({ GATEHOUSE_SMTP_URL: 'smtp://localhost:25' }).mail).toMatchObject({ starttls: 'opportunistic' });
    expect(loadConfig({ GATEHOUSE_SMTP_URL: 'smtp://relay.internal:25?starttls=off' }).mail).toMatchObject({ starttls: 'off' });
    expect(loadConfig({ GATEHOUSE_SMTP_URL: 'smtps://user:pass@smtp.example.com' }).mail).toMatchObject({ kind: 'smtp', starttls: 'required' });
  });

  it('refuses a malformed SMTP URL in one line, without its password', () => {
    for (const value of ['http://smtp.example.com', 'smtp://', 'smtp://u:secret@host?tls=no', 'smtp://u:secret@host?starttls=maybe', 'not a url']) {
      expect(() => loadConfig({ GATEHOUSE_SMTP_URL: value })).toThrowError(ConfigError);
      expect(() => loadConfig({ GATEHOUSE_SMTP_URL: value })).toThrowError(/^GATEHOUSE_SMTP_URL must be /);
      expect(() => loadConfig({ GATEHOUSE_SMTP_URL: value })).not.toThrowError(/secret/);
    }
  });

  it('refuses to start in production without SMTP unless GATEHOUSE_MAIL=off says so', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', GATEHOUSE_SECRET: SECRET })).toThrowError(
      /^GATEHOUSE_SMTP_URL must be set when NODE_ENV=production \(smtp:\/\/user:password@host:587\), or GATEHOUSE_MAIL=off to run without email$/,
    );
    expect(loadConfig({ NODE_ENV: 'production', GATEHOUSE_SECRET: SECRET, GATEHOUSE_MAIL: 'off' }).mail).toEqual({ kind: 'off' });
    expect(loadConfig({ NODE_ENV: 'production', GATEHOUSE_SECRET: SECRET, GATEHOUSE_SMTP_URL: 'smtp://smtp.example.com' }).mail.kind).toBe('smtp');
    expect(() => loadConfig({ GATEHOUSE_MAIL: 'off', GATEHOUSE_SMTP_URL: 'smtp://smtp.example.com' })).toThrowError(/unset one of them/);
    expect(() => loadConfig({ GATEHOUSE_MAIL: 'on' })).toThrowError(/^GATEHOUSE_MAIL must be off/);
  });

  it('takes a From address with or without a name, and a product name that cannot break a header', () => {
    expect(loadConfig({ GATEHOUSE_MAIL_FROM: 'Acme Accounts <accounts@acme.test>' }).mailFrom).toBe('Acme Accounts <accounts@acme.test>');
    expect(loadConfig({ GATEHOUSE_MAIL_FROM: 'accounts@acme.test' }).mailFrom).toBe('accounts@acme.test');
    expect(loadConfig({ GATEHOUSE_PRODUCT_NAME: 'Acme' }).mailFrom).toBe('"Acme" <no-reply@localhost>');
    for (const from of ['Acme', '<not an address>', 'a@b\r\nBcc: x@y', '"Unclosed <a@b.test>'])
      expect(() => loadConfig({ GATEHOUSE_MAIL_FROM: from })).toThrowError(/^GATEHOUSE_MAIL_FROM must be/);
    for (const name of ['A'.repeat(61), 'Acme\nBcc: x', 'Acme <evil>'])
      expect(() => loadConfig({ GATEHOUSE_PRODUCT_NAME: name })).toThrowError(/^GATEHOUSE_PRODUCT_NAME must be/);
  });
});
