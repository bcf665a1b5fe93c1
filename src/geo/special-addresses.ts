import { BlockList, isIPv4, isIPv6 } from 'node:net';

/*
 * Addresses that name no place on the Internet (IANA's special-purpose registries): private
 * networks, loopback, link-local, carrier-grade NAT, documentation and benchmarking ranges,
 * multicast, reserved. A client there is behind us on the same network, or the address is made
 * up; a database lookup would at best find nothing and at worst the registrant of the block
 * (the bundled database puts the documentation ranges in Australia), so none is made.
 */
const NOT_PUBLIC = new BlockList();
const IPV4: Array<[string, number]> = [
  ['0.0.0.0', 8], // "this network", including the unspecified address
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation (TEST-NET-1)
  ['192.88.99.0', 24], // the retired 6to4 relay anycast
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation (TEST-NET-2)
  ['203.0.113.0', 24], // documentation (TEST-NET-3)
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and the broadcast address
];
const IPV6: Array<[string, number]> = [
  ['::', 128], // unspecified
  ['::1', 128],
  ['::', 96], // IPv4-compatible (deprecated): hides an IPv4 address of any kind
  ['64:ff9b:1::', 48], // local-use IPv4/IPv6 translation
  ['100::', 64], // discard-only
  ['2001::', 23], // IETF protocol assignments: Teredo, benchmarking, ORCHID and the like
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: carries an IPv4 address, often a private one
  ['3fff::', 20], // documentation (RFC 9637)
  ['5f00::', 16], // segment routing
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // the deprecated site-local range
  ['ff00::', 8], // multicast
];
for (const [network, prefix] of IPV4) NOT_PUBLIC.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of IPV6) NOT_PUBLIC.addSubnet(network, prefix, 'ipv6');

/**
 * The address to look up, or null when it is not a public one (or not an address at all). An
 * IPv4 client on a dual-stack socket arrives as `::ffff:a.b.c.d`; it is looked up as IPv4,
 * because databases keep IPv4 under `::/96` and may not alias the mapped range to it.
 */
export function publicAddress(ip: string): string | null {
  const address = isIPv6(ip) ? (mappedIPv4(ip) ?? ip) : ip;
  if (isIPv4(address)) return NOT_PUBLIC.check(address, 'ipv4') ? null : address;
  if (isIPv6(address)) return NOT_PUBLIC.check(address, 'ipv6') ? null : address;
  return null;
}

/** `::ffff:8.8.8.8`, `::FFFF:808:808`, `0:0:0:0:0:ffff:…` → `8.8.8.8`; anything else → null. */
function mappedIPv4(ip: string): string | null {
  if (!/ffff/i.test(ip) || ip.includes('%')) return null;
  // The URL parser writes IPv6 in its one canonical form, so every spelling ends up the same.
  const groups = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/.exec(new URL(`http://[${ip}]`).hostname);
  if (!groups) return null;
  const [high, low] = [parseInt(groups[1] as string, 16), parseInt(groups[2] as string, 16)];
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}
