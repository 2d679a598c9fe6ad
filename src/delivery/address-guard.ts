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
forbidden.addSubnet('198.18.0.0', 15, 'ipv4'); // benchmarking networks
forbidden.addSubnet('224.0.0.0', 4, 'ipv4'); // multicast
forbidden.addSubnet('240.0.0.0', 4, 'ipv4'); // reserved, and 255.255.255.255 broadcast
forbidden.addAddress('::', 'ipv6');
forbidden.addAddress('::1', 'ipv6');
forbidden.addSubnet('fc00::', 7, 'ipv6');
forbidden.addSubnet('fe80::', 10, 'ipv6');
forbidden.addSubnet('fec0::', 10, 'ipv6'); // site-local (deprecated, still routed by some)
forbidden.addSubnet('ff00::', 8, 'ipv6'); // multicast

/** Whether `address` (an IP literal) is loopback, private, link-local or unspecified. */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return forbidden.check(address, 'ipv4');
  if (family !== 6) return true;
  // ::ffff:127.0.0.1 is 127.0.0.1 to the kernel; ::127.0.0.1 (IPv4-compatible), NAT64
  // (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address too: judge that address.
  const embedded = embeddedIpv4(address);
  if (embedded !== null && forbidden.check(embedded, 'ipv4')) return true;
  return forbidden.check(address, 'ipv6');
}

function embeddedIpv4(address: string): string | null {
  const dotted = /^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (dotted) return dotted[1]!;
  const words = expandIpv6(address);
  if (words === null) return null;
  const quad = (high: number, low: number): string =>
    [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
  const zeros = (from: number, to: number): boolean =>
    words.slice(from, to).every((word) => word === 0);
  if (zeros(0, 5) && (words[5] === 0xffff || words[5] === 0)) return quad(words[6]!, words[7]!);
  if (words[0] === 0x64 && words[1] === 0xff9b && zeros(2, 6)) return quad(words[6]!, words[7]!);
  if (words[0] === 0x2002) return quad(words[1]!, words[2]!);
  return null;
}

/** The eight 16-bit words of an IPv6 literal without an embedded dotted quad, or null. */
function expandIpv6(address: string): number[] | null {
  if (address.includes('.')) return null;
  const [head, tail] = address.split('::') as [string, string | undefined];
  const parse = (part: string | undefined): number[] =>
    part ? part.split(':').map((word) => Number.parseInt(word, 16)) : [];
  const left = parse(head);
  const right = parse(tail);
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return null;
  return [...left, ...Array<number>(missing).fill(0), ...right];
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
