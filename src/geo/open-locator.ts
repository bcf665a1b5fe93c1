import { createRequire } from 'node:module';
import maxmind from 'maxmind';
import { ConfigError } from '../config.js';
import { noLocation, type Locator } from './locator.js';
import { mmdbLocator, type MmdbReader } from './mmdb-locator.js';

/** Where locations come from (GATEHOUSE_GEOIP_DATABASE). */
export type GeoipDatabase = { kind: 'bundled' } | { kind: 'file'; path: string } | { kind: 'off' };

/** The CC0 country database that comes with Gatehouse (IPv4 and IPv6 in one file). */
export const BUNDLED_DATABASE = '@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb';

const VARIABLE = 'GATEHOUSE_GEOIP_DATABASE';

/**
 * Opens the location database once, at start: the whole file is read into memory (about 8 MB
 * for the bundled one) and never touched again, so lookups do no I/O and need no network. A
 * file that cannot serve countries stops the server here, naming the variable, rather than
 * leaving every session without a location and nobody knowing why.
 */
export async function openLocator(source: GeoipDatabase, onLookupError: (error: unknown) => void): Promise<Locator> {
  if (source.kind === 'off') return noLocation;
  const path = source.kind === 'file' ? source.path : bundledPath();
  const named = source.kind === 'file' ? `${VARIABLE} (${path})` : `the bundled location database (${path})`;
  let reader: MmdbReader & { metadata: { databaseType: string } };
  try {
    reader = await maxmind.open(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ConfigError(`${named}: no such file`);
    if (code !== undefined) throw new ConfigError(`${named}: cannot be read (${code})`);
    throw new ConfigError(`${named}: not a MaxMind database (.mmdb): ${(error as Error).message}`);
  }
  // An ASN or ISP database opens fine and then knows no country for anyone: say so now.
  const type = reader.metadata.databaseType;
  if (!/country|city|enterprise/i.test(type)) {
    throw new ConfigError(`${named}: a "${type}" database has no countries; use a Country or City database`);
  }
  return mmdbLocator(reader, onLookupError);
}

function bundledPath(): string {
  try {
    return createRequire(import.meta.url).resolve(BUNDLED_DATABASE);
  } catch {
    throw new ConfigError(`the bundled location database (${BUNDLED_DATABASE}) is not installed: run npm install, or set ${VARIABLE}=off`);
  }
}
