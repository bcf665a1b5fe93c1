import { DEFAULT_CACHE_CAPACITY } from './verified-token-cache.js';

/**
 * The clocks a verifier reads, in milliseconds. `now` is the wall clock (epoch time) that `exp`
 * and `iat` are checked against, as jose's `currentDate`; `monotonic` never steps back and
 * measures how long ago the feed confirmed the view, so the staleness bound cannot be fooled
 * by a clock set back.
 */
export interface VerifierClock {
  now(): number;
  /** Default: performance.now(). */
  monotonic?(): number;
}

export interface VerifierOptions {
  /** Gatehouse's GATEHOUSE_ISSUER: tokens must carry exactly this `iss`. */
  issuer: string;
  /** Gatehouse's GATEHOUSE_AUDIENCE: tokens must carry this `aud`. */
  audience: string;
  /** One of Gatehouse's GATEHOUSE_SERVICE_KEYS: it reads the revocation feed. */
  serviceKey: string;
  /** Default: issuer + `/.well-known/jwks.json`. */
  jwksUrl?: string | URL;
  /** Default: issuer + `/v1/revocations`. */
  feedUrl?: string | URL;
  /** How old Gatehouse's last confirmation of the revoked sessions may be before requests get 503. Default 5. */
  maxStalenessSeconds?: number;
  /** Allowed clock difference with Gatehouse for `exp` and `iat`. Default: what the feed says (Gatehouse's own). */
  clockToleranceSeconds?: number;
  /** The least time between two JWKS fetches prompted by an unknown `kid`. Default 30. */
  jwksCooldownSeconds?: number;
  /** How long a fetched JWKS is used before it is fetched again, so a retired key stops working. Default 600. */
  jwksMaxAgeSeconds?: number;
  /** How many verified tokens to remember (their signature is checked once). Default 10 000; 0 turns it off. */
  cacheSize?: number;
  /** The fetch used for the JWKS and the feed. Default: the global fetch. */
  fetch?: typeof fetch;
  /**
   * The clocks to check tokens and staleness by. Default: Date.now and performance.now. For
   * tests, and for a service that keeps its own time. (The JWKS cooldown and max age follow
   * jose's own clock.)
   */
  clock?: VerifierClock;
}

export interface ResolvedOptions {
  issuer: string;
  audience: string;
  serviceKey: string;
  jwksUrl: string;
  feedUrl: string;
  maxStalenessMs: number;
  clockToleranceSeconds: number | undefined;
  jwksCooldownMs: number;
  jwksMaxAgeMs: number;
  cacheSize: number;
  fetch: typeof fetch;
  clock: Required<VerifierClock>;
}

const KNOWN = new Set([
  'issuer',
  'audience',
  'serviceKey',
  'jwksUrl',
  'feedUrl',
  'maxStalenessSeconds',
  'clockToleranceSeconds',
  'jwksCooldownSeconds',
  'jwksMaxAgeSeconds',
  'cacheSize',
  'fetch',
  'clock',
]);

/**
 * Checks the options once, at creation, with one clear TypeError per mistake: a verifier set up
 * wrongly must fail at start, not answer every request with 401 or 503.
 */
export function resolveOptions(options: VerifierOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) fail('options must be an object');
  // A misspelt option would otherwise be ignored silently, and its default used.
  for (const name of Object.keys(options)) if (!KNOWN.has(name)) fail(`unknown option "${name}"`);
  const issuer = nonEmpty(options.issuer, 'issuer');
  const audience = nonEmpty(options.audience, 'audience');
  const serviceKey = nonEmpty(options.serviceKey, 'serviceKey');
  // Gatehouse accepts no shorter key (GATEHOUSE_SERVICE_KEYS), and a key must be header-safe.
  if (serviceKey.length < 32 || !/^[A-Za-z0-9\-._~+/]+=*$/.test(serviceKey)) {
    fail('serviceKey must be one of GATEHOUSE_SERVICE_KEYS: at least 32 characters from A-Z a-z 0-9 - . _ ~ + /');
  }
  const base = issuer.replace(/\/+$/, '');
  const jwksCooldownSeconds = seconds(options.jwksCooldownSeconds, 'jwksCooldownSeconds', 30, 0, 86_400);
  const jwksMaxAgeSeconds = seconds(options.jwksMaxAgeSeconds, 'jwksMaxAgeSeconds', 600, 1, 86_400);
  if (jwksCooldownSeconds > jwksMaxAgeSeconds) fail('jwksCooldownSeconds must not be longer than jwksMaxAgeSeconds');
  if (options.fetch !== undefined && typeof options.fetch !== 'function') fail('fetch must be a function');
  const cacheSize = options.cacheSize ?? DEFAULT_CACHE_CAPACITY;
  if (!Number.isSafeInteger(cacheSize) || cacheSize < 0) fail(`cacheSize must be a whole number of at least 0; got ${String(options.cacheSize)}`);
  return {
    issuer,
    audience,
    serviceKey,
    jwksUrl: httpUrl(options.jwksUrl, 'jwksUrl', base, '/.well-known/jwks.json'),
    feedUrl: httpUrl(options.feedUrl, 'feedUrl', base, '/v1/revocations'),
    // Above 0: a bound of 0 would refuse every request; fractions let tests run quickly.
    maxStalenessMs: seconds(options.maxStalenessSeconds, 'maxStalenessSeconds', 5, 0.1, 3600) * 1000,
    clockToleranceSeconds: options.clockToleranceSeconds === undefined ? undefined : seconds(options.clockToleranceSeconds, 'clockToleranceSeconds', 0, 0, 300),
    jwksCooldownMs: jwksCooldownSeconds * 1000,
    jwksMaxAgeMs: jwksMaxAgeSeconds * 1000,
    cacheSize,
    fetch: plainCall(options.fetch),
    clock: clockOf(options.clock),
  };
}

function clockOf(clock: VerifierClock | undefined): Required<VerifierClock> {
  if (clock === undefined) return { now: () => Date.now(), monotonic: () => performance.now() };
  if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function') fail('clock must be an object with a now() function');
  if (clock.monotonic !== undefined && typeof clock.monotonic !== 'function') fail('clock.monotonic must be a function');
  const { now, monotonic } = clock;
  const resolved = { now: () => now.call(clock), monotonic: monotonic ? () => monotonic.call(clock) : () => performance.now() };
  // Read once now, so a clock that cannot be read (`performance.now` taken off its object) fails
  // at creation, not at every request.
  for (const name of ['now', 'monotonic'] as const) {
    let reading: unknown;
    try {
      reading = resolved[name]();
    } catch (error) {
      fail(`clock.${name}() throws (${error instanceof Error ? error.message : String(error)}); pass functions that can be called as methods of the clock`);
    }
    if (typeof reading !== 'number' || !Number.isFinite(reading)) fail(`clock.${name}() must return a number of milliseconds; got ${String(reading)}`);
  }
  return resolved;
}

/** Some fetches refuse to be called as a method of another object; the global one is looked up at each call. */
function plainCall(fetchImpl: typeof fetch | undefined): typeof fetch {
  return fetchImpl ? (input, init) => fetchImpl(input, init) : (input, init) => globalThis.fetch(input, init);
}

function fail(message: string): never {
  throw new TypeError(`@gatehouse/verify: ${message}`);
}

function nonEmpty(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.trim() === '') fail(`${name} is required (a non-empty string)`);
  return value;
}

function seconds(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    fail(`${name} must be a number of seconds from ${min} to ${max}; got ${String(value)}`);
  }
  return value;
}

function httpUrl(value: unknown, name: string, base: string, path: string): string {
  if (value === undefined) {
    const derived = base + path;
    if (!isHttpUrl(derived)) fail(`${name} is required when issuer is not an http(s) URL`);
    return derived;
  }
  const text = value instanceof URL ? value.href : value;
  if (typeof text !== 'string' || !isHttpUrl(text)) fail(`${name} must be an http(s) URL; got ${String(value)}`);
  return text;
}

function isHttpUrl(value: string): boolean {
  return URL.canParse(value) && /^https?:$/.test(new URL(value).protocol);
}
