import { describe, expect, it, vi } from 'vitest';
import { mmdbLocator, type MmdbReader } from '../../src/geo/mmdb-locator.js';

/** A reader that answers from a table, counting its lookups. */
function readerOf(records: Record<string, unknown>, ipVersion = 6): MmdbReader & { get: ReturnType<typeof vi.fn> } {
  return { metadata: { ipVersion }, get: vi.fn((ip: string) => records[ip] ?? null) };
}

describe('a locator over a MaxMind-format reader', () => {
  it('reads the country of GeoIP2/GeoLite2 Country and City records', () => {
    const locator = mmdbLocator(
      readerOf({ '81.2.69.142': { country: { iso_code: 'GB', names: { en: 'United Kingdom' } }, city: { names: { en: 'London' } } } }),
      () => {},
    );
    expect(locator.countryOf('81.2.69.142')).toBe('GB');
  });

  it('falls back to the registered country when GeoIP2 cannot place the user', () => {
    const locator = mmdbLocator(readerOf({ '1.1.1.1': { registered_country: { iso_code: 'AU' } } }), () => {});
    expect(locator.countryOf('1.1.1.1')).toBe('AU');
  });

  it('reads the country_code of the bundled database’s records', () => {
    expect(mmdbLocator(readerOf({ '8.8.8.8': { country_code: 'US' } }), () => {}).countryOf('8.8.8.8')).toBe('US');
  });

  it('gives null for an address the database does not know, and for a record that is not a country code', () => {
    const locator = mmdbLocator(readerOf({ '8.8.4.4': { country_code: 'United States' }, '9.9.9.9': { country: { iso_code: 42 } } }), () => {});
    expect(locator.countryOf('8.8.8.8')).toBeNull();
    expect(locator.countryOf('8.8.4.4')).toBeNull();
    expect(locator.countryOf('9.9.9.9')).toBeNull();
  });

  it('does not look up private addresses at all', () => {
    const reader = readerOf({});
    const locator = mmdbLocator(reader, () => {});
    for (const ip of ['10.0.0.1', '127.0.0.1', '::1', 'fd00::1', '169.254.1.1', '100.64.0.1', '::ffff:192.168.0.1']) expect(locator.countryOf(ip)).toBeNull();
    expect(reader.get).not.toHaveBeenCalled();
  });

  it('looks up an IPv4-mapped address as IPv4', () => {
    const reader = readerOf({ '8.8.8.8': { country_code: 'US' } });
    expect(mmdbLocator(reader, () => {}).countryOf('::ffff:8.8.8.8')).toBe('US');
    expect(reader.get).toHaveBeenCalledWith('8.8.8.8');
  });

  it('asks an IPv4-only database nothing about IPv6 addresses, which it would answer wrongly', () => {
    const reader = readerOf({}, 4);
    expect(mmdbLocator(reader, () => {}).countryOf('2001:4860:4860::8888')).toBeNull();
    expect(reader.get).not.toHaveBeenCalled();
  });

  it('turns a record it cannot read into no location, and reports only the first failure', () => {
    const onError = vi.fn();
    const broken: MmdbReader = {
      metadata: { ipVersion: 6 },
      get: () => {
        throw new Error('Unknown type 111 at offset 1');
      },
    };
    const locator = mmdbLocator(broken, onError);
    expect(locator.countryOf('8.8.8.8')).toBeNull();
    expect(locator.countryOf('9.9.9.9')).toBeNull();
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]?.[0]).toMatchObject({ message: 'Unknown type 111 at offset 1' });
  });
});
