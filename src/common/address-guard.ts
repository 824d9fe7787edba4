import * as ipaddr from 'ipaddr.js';

/**
 * Where outbound deliveries may go (DESIGN.md principle 7). Pure functions: the HTTP sender calls
 * `isAddressAllowed` on every address it is about to connect to, after DNS, so a hostname that
 * resolves to an internal address is refused however it was spelled at registration.
 */

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** CIDRs an operator opened although they are not public (`HERALD_ALLOW_PRIVATE_NETWORKS`). */
export interface AllowList {
  readonly cidrs: readonly Cidr[];
}

export const MAX_URL_LENGTH = 2048;

/**
 * ipaddr.js names every IPv6 address outside its special ranges `unicast`, including the
 * deprecated IPv4-compatible block `::/96` (`::7f00:1`). Only 2000::/3 is allocated for global
 * unicast, so anything else is refused too.
 */
const GLOBAL_UNICAST_V6: Cidr = ipaddr.parseCIDR('2000::/3');

/** Parses `127.0.0.0/8,::1/128`; empty entries are ignored, a bare address means that one host. */
export function parseAllowList(cidrs: string): AllowList {
  const parsed: Cidr[] = [];
  for (const part of cidrs.split(',')) {
    const entry = part.trim();
    if (entry === '') continue;
    try {
      if (entry.includes('/')) {
        parsed.push(ipaddr.parseCIDR(entry));
      } else {
        const addr = ipaddr.parse(entry);
        parsed.push([addr, addr.kind() === 'ipv4' ? 32 : 128]);
      }
    } catch {
      throw new Error(`invalid CIDR in allow-list: "${entry}"`);
    }
  }
  return { cidrs: parsed };
}

/**
 * True when `ip` may be connected to: it is inside an allow-list CIDR, or it is a globally
 * routable unicast address. IPv4-mapped IPv6 (`::ffff:127.0.0.1`) is judged as the IPv4 address
 * it reaches. Anything that does not parse as an IP address is refused.
 */
export function isAddressAllowed(ip: string, allow: AllowList): boolean {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(stripBrackets(ip));
  } catch {
    return false;
  }
  const addr = parsed instanceof ipaddr.IPv6 && parsed.isIPv4MappedAddress() ? parsed.toIPv4Address() : parsed;

  if (inAllowList(addr, allow) || (addr !== parsed && inAllowList(parsed, allow))) return true;
  if (addr.range() !== 'unicast') return false;
  return addr.kind() === 'ipv4' || addr.match(GLOBAL_UNICAST_V6);
}

/** Error message for a URL an endpoint may not use, or null when it is acceptable. */
export function validateEndpointUrl(raw: string): string | null {
  if (typeof raw !== 'string' || raw.length === 0) return 'url is required';
  if (raw.length > MAX_URL_LENGTH) return `url must be at most ${MAX_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'url is not a valid URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'url must use http or https';
  if (url.username !== '' || url.password !== '') return 'url must not contain a username or password';
  if (url.hostname === '') return 'url must have a host';
  return null;
}

/** `[::1]` (URL hostname form) → `::1`. */
export function stripBrackets(host: string): string {
  return host.length > 1 && host[0] === '[' && host[host.length - 1] === ']' ? host.slice(1, -1) : host;
}

function inAllowList(addr: ipaddr.IPv4 | ipaddr.IPv6, allow: AllowList): boolean {
  const kind = addr.kind();
  for (const cidr of allow.cidrs) {
    if (cidr[0].kind() === kind && addr.match(cidr)) return true;
  }
  return false;
}
