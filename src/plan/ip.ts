/**
 * IP literal checks without `node:net`, so that the plan stays free of socket modules. IPv6 is
 * validated by the WHATWG URL parser (the same grammar as `net.isIPv6`, zone index aside).
 */

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const ZONE = /^[0-9A-Za-z.:-]+$/;

/** Dotted-quad IPv4 without leading zeros (`net.isIPv4`). */
export function isIPv4(host: string): boolean {
  return IPV4.test(host);
}

/** An IPv6 literal, without brackets; a zone index (`fe80::1%eth0`) is allowed. */
export function isIPv6(host: string): boolean {
  if (!host.includes(':') || host.includes('[') || host.includes(']')) return false;
  const zone = host.indexOf('%');
  if (zone !== -1 && !ZONE.test(host.slice(zone + 1))) return false;
  const bare = zone === -1 ? host : host.slice(0, zone);
  if (!/^[0-9A-Fa-f:.]+$/.test(bare)) return false;
  try {
    new URL(`http://[${bare}]/`);
    return true;
  } catch {
    return false;
  }
}

/** True for an IPv4 or IPv6 literal. */
export function isIPLiteral(host: string): boolean {
  return isIPv4(host) || isIPv6(host);
}

/** A canonical form of an IP literal (IPv6 compressed, lower case) for comparisons. */
export function normalizeAddress(host: string): string {
  if (!isIPv6(host)) return host.toLowerCase();
  const zone = host.indexOf('%');
  const bare = zone === -1 ? host : host.slice(0, zone);
  return new URL(`http://[${bare}]/`).hostname.slice(1, -1) + (zone === -1 ? '' : host.slice(zone));
}

/** True when `host` is in 127.0.0.0/8 or is `::1` (or an IPv4-mapped loopback). */
export function isLoopback(host: string): boolean {
  if (isIPv4(host)) return host.startsWith('127.');
  if (!isIPv6(host)) return host === 'localhost';
  const normal = normalizeAddress(host);
  return normal === '::1' || /^::ffff:127\./.test(normal) || /^::ffff:7f[0-9a-f]{2}:/.test(normal);
}
