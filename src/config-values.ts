/**
 * The readers config.ts and the settings of each area (mail/settings.ts) check variables with:
 * each reads one variable of the environment it is given and turns a bad value into a
 * ConfigError naming it, in one line. Nothing here reads `process.env` (config.ts does).
 */

export type Env = Record<string, string | undefined>;

/** A configuration mistake: the server prints this one line and exits. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function fail(name: string, expected: string, value: string): never {
  throw new ConfigError(`${name} must be ${expected}; got ${JSON.stringify(value)}`);
}

export function present(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

export function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = present(env, name);
  if (value === undefined) return fallback;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) fail(name, `a whole number from ${min} to ${max}`, value);
  return n;
}

export function boolean(env: Env, name: string, fallback: boolean): boolean {
  const value = present(env, name)?.toLowerCase();
  if (value === undefined) return fallback;
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  return fail(name, 'true or false', value);
}

export function text(env: Env, name: string, fallback: string): string {
  return present(env, name) ?? fallback;
}

export function oneOf(env: Env, name: string, fallback: string, allowed: string[]): string {
  const value = present(env, name) ?? fallback;
  if (!allowed.includes(value)) fail(name, `one of ${allowed.join(', ')}`, value);
  return value;
}

export function url(env: Env, name: string, fallback: string): string {
  const value = present(env, name) ?? fallback;
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) fail(name, 'an http(s) URL', value);
  return value;
}

/** A configuration error is printed and logged: never with the database password in it. */
export function withoutPassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');
}
