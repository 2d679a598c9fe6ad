import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { lookup as dnsLookupAsync } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Addresses a delivery may not reach in production (SPEC §9): a URL an operator sets would
 * otherwise let Leadflow call the database, a cloud metadata service (169.254.169.254) or
 * anything else only this host can reach.
 */
const forbidden = new BlockList();
forbidden.addSubnet('0.0.0.0', 8, 'ipv4'); // "this network", 0.0.0.0 reaches loopback on Linux
forbidden.addSubnet('127.0.0.0', 8, 'ipv4');
forbidden.addSubnet('10.0.0.0', 8, 'ipv4');
forbidden.addSubnet('172.16.0.0', 12, 'ipv4');
forbidden.addSubnet('192.168.0.0', 16, 'ipv4');
forbidden.addSubnet('169.254.0.0', 16, 'ipv4');
forbidden.addSubnet('100.64.0.0', 10, 'ipv4'); // carrier-grade NAT, private in practice
forbidden.addAddress('::', 'ipv6');
forbidden.addAddress('::1', 'ipv6');
forbidden.addSubnet('fc00::', 7, 'ipv6');
forbidden.addSubnet('fe80::', 10, 'ipv6');

/** Whether `address` (an IP literal) is loopback, private, link-local or unspecified. */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return forbidden.check(address, 'ipv4');
  if (family !== 6) return true;
  // ::ffff:127.0.0.1 is 127.0.0.1 to the kernel.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return forbidden.check(mapped[1]!, 'ipv4');
  return forbidden.check(address, 'ipv6');
}

function hostOf(url: URL): string {
  // URL keeps IPv6 literals in brackets.
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * Why `url` may not be delivered to, or null. Configuration-time check: every address the host
 * resolves to must be public (the send-time lookup checks again, the one it connects to).
 */
export async function refuseUrl(url: string): Promise<string | null> {
  const host = hostOf(new URL(url));
  if (isIP(host))
    return isForbiddenAddress(host) ? 'a loopback, private or link-local address' : null;
  let addresses: LookupAddress[];
  try {
    addresses = await dnsLookupAsync(host, { all: true });
  } catch {
    return 'the host name does not resolve';
  }
  return addresses.some((entry) => isForbiddenAddress(entry.address))
    ? 'resolves to a loopback, private or link-local address'
    : null;
}

/** Thrown by the guarded lookup; the dispatcher records it as a final failure. */
export class ForbiddenAddress extends Error {
  override name = 'ForbiddenAddress';
  readonly code = 'EFORBIDDENADDRESS';
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for net.connect that refuses forbidden addresses: the socket connects to the very
 * address checked, so a name that resolves differently the second time (DNS rebinding) cannot
 * slip past. Hosts that are IP literals never reach a lookup; `checkLiteralHost` covers them.
 */
export function guardedLookup(
  hostname: string,
  options: LookupOptions,
  callback: LookupCallback,
): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const bad = addresses.find((entry) => isForbiddenAddress(entry.address));
    if (bad) return callback(new ForbiddenAddress(`${hostname} resolves to ${bad.address}`), []);
    if (options.all) return callback(null, addresses);
    const first = addresses[0]!;
    callback(null, first.address, first.family);
  });
}

/** Send-time check of a URL whose host is an IP literal (no lookup runs for those). */
export function checkLiteralHost(url: URL): void {
  const host = hostOf(url);
  if (isIP(host) && isForbiddenAddress(host)) {
    throw new ForbiddenAddress(`${host} is a loopback, private or link-local address`);
  }
}
