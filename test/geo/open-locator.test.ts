import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import type { Locator } from '../../src/geo/locator.js';
import { BUNDLED_DATABASE, openLocator } from '../../src/geo/open-locator.js';

const ignore = () => {};

describe('the bundled location database', () => {
  let locator: Locator;
  beforeAll(async () => {
    locator = await openLocator({ kind: 'bundled' }, ignore);
  });

  // Addresses whose registration has not moved in decades, so a newer database says the same.
  it.each([
    ['8.8.8.8', 'US'], // Google Public DNS
    ['2001:4860:4860::8888', 'US'],
    ['193.0.6.139', 'NL'], // RIPE NCC, Amsterdam
    ['2001:67c:2e8:22::c100:68b', 'NL'],
    ['130.149.7.201', 'DE'], // TU Berlin
    ['133.11.0.1', 'JP'], // University of Tokyo
  ])('places %s in %s', (ip, country) => {
    expect(locator.countryOf(ip)).toBe(country);
  });

  it('places an IPv4 client on a dual-stack socket (::ffff:8.8.8.8) as IPv4', () => {
    expect(locator.countryOf('::ffff:8.8.8.8')).toBe('US');
  });

  it.each([
    '127.0.0.1',
    '::1',
    '10.0.0.1',
    '192.168.1.1',
    '172.20.0.5',
    '169.254.169.254',
    'fe80::1',
    '100.64.1.1',
    'fd00::1',
    '::ffff:10.0.0.1',
    '0.0.0.0',
    '::',
  ])('gives no location for %s, which is not on the Internet', (ip) => {
    expect(locator.countryOf(ip)).toBeNull();
  });

  // The bundled data puts these in Australia (the registrant of the blocks around them).
  it.each(['203.0.113.7', '198.51.100.2', '2001:db8::1'])('gives no location for the documentation address %s', (ip) => {
    expect(locator.countryOf(ip)).toBeNull();
  });
});

describe('GATEHOUSE_GEOIP_DATABASE', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-geoip-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const bundledFile = () => createRequire(import.meta.url).resolve(BUNDLED_DATABASE);

  it('off: nobody has a location', async () => {
    const locator = await openLocator({ kind: 'off' }, ignore);
    expect(locator.countryOf('8.8.8.8')).toBeNull();
  });

  it('a path to a MaxMind-format file: it is used instead of the bundled one', async () => {
    const path = join(dir, 'Country.mmdb');
    copyFileSync(bundledFile(), path);
    const locator = await openLocator({ kind: 'file', path }, ignore);
    expect(locator.countryOf('8.8.8.8')).toBe('US');
  });

  it('a missing file stops the start with one line naming the variable and the path', async () => {
    const path = join(dir, 'GeoLite2-Country.mmdb');
    const opening = openLocator({ kind: 'file', path }, ignore);
    await expect(opening).rejects.toThrowError(ConfigError);
    await expect(opening).rejects.toThrowError(`GATEHOUSE_GEOIP_DATABASE (${path}): no such file`);
  });

  it('a directory stops the start: it cannot be read', async () => {
    await expect(openLocator({ kind: 'file', path: dir }, ignore)).rejects.toThrowError(`GATEHOUSE_GEOIP_DATABASE (${dir}): cannot be read (EISDIR)`);
  });

  it('a file that is not a MaxMind database stops the start', async () => {
    const path = join(dir, 'countries.csv');
    writeFileSync(path, '1.0.0.0,1.0.0.255,AU\n');
    const opening = openLocator({ kind: 'file', path }, ignore);
    await expect(opening).rejects.toThrowError(ConfigError);
    await expect(opening).rejects.toThrowError(/^GATEHOUSE_GEOIP_DATABASE \(.+countries\.csv\): not a MaxMind database \(\.mmdb\)/);
  });

  it('a MaxMind database without countries (an ASN one) stops the start instead of locating nobody', async () => {
    // The bundled file with its type renamed in the metadata (same length, so it still parses).
    const bytes = readFileSync(bundledFile());
    const at = bytes.lastIndexOf('country ipvAll');
    expect(at).toBeGreaterThan(bytes.lastIndexOf('MaxMind.com'));
    bytes.write('Example-ASN-DB', at, 'latin1');
    const path = join(dir, 'ASN.mmdb');
    writeFileSync(path, bytes);
    await expect(openLocator({ kind: 'file', path }, ignore)).rejects.toThrowError(
      /: a "Example-ASN-DB" database has no countries; use a Country or City database$/,
    );
  });
});
