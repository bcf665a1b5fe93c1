import type { FastifyRequest } from 'fastify';
import type { ClientInfo } from '../core/records.js';
import { clampUserAgent, describeDevice } from '../device/describe-device.js';
import type { Locator } from '../geo/locator.js';

/**
 * Who is on the other end of a sign-in. The address is Fastify's `request.ip`: the socket's
 * peer, unless GATEHOUSE_TRUST_PROXY names proxies allowed to set X-Forwarded-For (a header
 * anyone can send, so trusting it by default would let attackers write any IP into history).
 * The country is that address's, so it is exactly as trustworthy.
 */
export function clientInfo(request: FastifyRequest, locator: Locator): ClientInfo {
  const userAgent = clampUserAgent(request.headers['user-agent']);
  const ip = clientAddress(request);
  return { ip, userAgent, device: describeDevice(userAgent), country: locator.countryOf(ip) };
}

/** The client's address alone, as above; `::ffff:203.0.113.7` (IPv4 on a dual-stack socket) as IPv4. */
export function clientAddress(request: FastifyRequest): string {
  const ip = request.ip;
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}
