import { isIPv6 } from 'node:net';
import type { Locator } from './locator.js';
import { publicAddress } from './special-addresses.js';

/** What Gatehouse needs of a MaxMind-format reader (the `maxmind` package's Reader has it). */
export interface MmdbReader {
  get(ip: string): unknown;
  metadata: { ipVersion: number };
}

/**
 * The shapes of record that carry a country: GeoIP2/GeoLite2 Country and City (`country`, or
 * `registered_country` where MaxMind cannot place the user, e.g. anycast), and ip-location-db's
 * (`country_code`).
 */
interface CountryRecord {
  country?: { iso_code?: unknown };
  registered_country?: { iso_code?: unknown };
  country_code?: unknown;
}

/**
 * A Locator over an open MaxMind-format database. A lookup is an in-memory tree walk (a few
 * microseconds), so it runs inline in the request. A record it cannot read means no location
 * for that sign-in, not a failed sign-in; `onError` hears of the first such failure only, so a
 * damaged database does not flood the log.
 */
export function mmdbLocator(reader: MmdbReader, onError: (error: unknown) => void): Locator {
  // Walking an IPv4-only tree with an IPv6 address follows its first 32 bits to a wrong answer.
  const ipv4Only = reader.metadata.ipVersion === 4;
  let reported = false;
  return {
    countryOf(ip) {
      try {
        const address = publicAddress(ip);
        if (address === null || (ipv4Only && isIPv6(address))) return null;
        return countryCode(reader.get(address) as CountryRecord | null);
      } catch (error) {
        if (!reported) {
          reported = true;
          onError(error);
        }
        return null;
      }
    },
  };
}

function countryCode(record: CountryRecord | null): string | null {
  const code = record?.country?.iso_code ?? record?.country_code ?? record?.registered_country?.iso_code;
  if (typeof code !== 'string') return null;
  const upper = code.toUpperCase();
  return /^[A-Z]{2}$/.test(upper) ? upper : null;
}
