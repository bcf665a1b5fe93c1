import { describe, expect, it } from 'vitest';
import { publicAddress } from '../../src/geo/special-addresses.js';

describe('which addresses are looked up', () => {
  it.each([
    ['8.8.8.8', '8.8.8.8'],
    ['2001:4860:4860::8888', '2001:4860:4860::8888'],
    ['100.63.255.255', '100.63.255.255'], // just below carrier-grade NAT
    ['172.32.0.1', '172.32.0.1'], // just above 172.16.0.0/12
  ])('a public address %s is looked up as it is', (ip, expected) => {
    expect(publicAddress(ip)).toBe(expected);
  });

  it.each(['::ffff:8.8.8.8', '::FFFF:808:808', '0:0:0:0:0:ffff:8.8.8.8'])('an IPv4-mapped IPv6 address %s is looked up as IPv4', (ip) => {
    expect(publicAddress(ip)).toBe('8.8.8.8');
  });

  it.each([
    ['private', '10.1.2.3'],
    ['private', '172.16.0.1'],
    ['private', '192.168.1.10'],
    ['loopback', '127.0.0.1'],
    ['loopback', '::1'],
    ['link-local', '169.254.10.20'],
    ['link-local', 'fe80::1'],
    ['link-local with a zone', 'fe80::1%eth0'],
    ['carrier-grade NAT', '100.64.0.1'],
    ['carrier-grade NAT', '100.127.255.254'],
    ['unique local', 'fd12:3456:789a::1'],
    ['unspecified', '0.0.0.0'],
    ['unspecified', '::'],
    ['documentation', '203.0.113.7'],
    ['documentation', '2001:db8::1'],
    ['documentation (RFC 9637)', '3fff::1'],
    ['Teredo, hiding an IPv4 address', '2001:0:4136:e378:8000:63bf:3fff:fdd2'],
    ['benchmarking', '2001:2::1'],
    ['6to4 around a private IPv4 address', '2002:c0a8:101::1'],
    ['IPv4-compatible', '::a00:1'],
    ['multicast', '224.0.0.1'],
    ['broadcast', '255.255.255.255'],
    ['mapped private', '::ffff:192.168.1.10'],
    ['mapped loopback', '::ffff:7f00:1'],
    ['not an address', 'localhost'],
    ['not an address', ''],
  ])('a %s address (%s) is not', (_kind, ip) => {
    expect(publicAddress(ip)).toBeNull();
  });
});
