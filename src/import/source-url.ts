/** The database `gatehouse import` reads from, as every message about it shows it. */
export interface SourceDatabase {
  url: string;
  /** The URL with its password, and any query parameter that carries one, as `***`: the only form any message shows. */
  masked: string;
  /** Those passwords, as written and decoded, to scrub from error text that might quote them. */
  secrets: string[];
}

/** What is wrong with a `--from` URL, in words that never quote it. */
export class SourceUrlError extends Error {}

// Text that does not parse cannot be split into a password and the rest, so none of it is
// shown: `postgres://ann:p/ss@db/app` fails because its password holds a "/".
const HOW = 'a password with "/", "?" or "#" must be percent-encoded ("%2F", "%3F", "%23"), or better, left out and given in PGPASSWORD or ~/.pgpass';

/** Query parameters that carry a password: pg reads `password` (over the one before the host), libpq `sslpassword` too. */
const PASSWORD_PARAMETER = /pass/i;

/** A postgres:// (or postgresql://) URL with a host; anything else throws SourceUrlError. */
export function sourceDatabase(value: string): SourceDatabase {
  if (!URL.canParse(value)) throw new SourceUrlError(`is not a valid URL (not shown, as it may hold a password): ${HOW}`);
  const url = new URL(value);
  // Not even the scheme is shown: in text that is no postgres:// URL it may be part of a
  // password (`ann:secret@db` parses, with the scheme "ann").
  if (!/^postgres(ql)?:$/.test(url.protocol))
    throw new SourceUrlError('must be a postgres:// or postgresql:// URL; what was given is not shown, as it may hold a password');
  if (url.hostname === '') throw new SourceUrlError('names no host: postgres://user@host:5432/database');
  // An "@" after the host: the host ended early, at a "/", "?" or "#" in the password
  // (`postgres://ann:12/34@db/app` is host "ann", port 12), which would be shown as path.
  if (`${url.pathname}${url.search}${url.hash}`.includes('@'))
    throw new SourceUrlError(`has an "@" after its host (not shown, as it may hold a password): ${HOW}`);

  const masked = new URL(value);
  const secrets = [url.password, decoded(url.password)];
  if (url.password !== '') masked.password = '***';
  for (const [name, password] of url.searchParams) {
    if (!PASSWORD_PARAMETER.test(name)) continue;
    masked.searchParams.set(name, '***');
    secrets.push(password, encodeURIComponent(password));
  }
  // Longest first: a password scrubbed before another that contains it would leave the rest of that one.
  return { url: value, masked: masked.href, secrets: [...new Set(secrets)].filter((s) => s !== '').sort((a, b) => b.length - a.length) };
}

/** The source database's own name (or, as PostgreSQL defaults it, its user's). */
export function databaseName(source: SourceDatabase): string {
  const url = new URL(source.url);
  return decoded(url.pathname.slice(1)) || decoded(url.username) || 'postgres';
}

/** An error's message with the source's passwords taken out, wherever a driver may have quoted them. */
export function scrubbed(message: string, source: SourceDatabase): string {
  let result = message.replaceAll(source.url, source.masked);
  // Shorter ones would blank out unrelated words, and say little of the password.
  for (const secret of source.secrets) if (secret.length >= 4) result = result.replaceAll(secret, '***');
  return result;
}

/** As pg reads it: a "%" that starts no escape is itself. */
function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
