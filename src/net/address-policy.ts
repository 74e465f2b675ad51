/**
 * Which network addresses Mooring may connect to on a partner's say-so (callback URLs, SEP-10
 * client_domain): public unicast only. Private, loopback, link-local (cloud metadata), carrier-grade NAT,
 * documentation, multicast and reserved ranges are refused, and IPv6 forms that carry an IPv4 address
 * (IPv4-mapped, NAT64, 6to4) are judged by that IPv4 address.
 */
import { lookup } from 'node:dns/promises';
import type { LookupAddress, LookupAllOptions, LookupOneOptions } from 'node:dns';
import { BlockList, isIP, isIPv4 } from 'node:net';

/** Resolves a host name to all its addresses (IPv4 and IPv6). */
export type ResolveHost = (host: string) => Promise<string[]>;

const RESOLVE_TIMEOUT_MS = 5_000;

/** `lookup(host, { all: true })` with a timeout. */
export async function resolveHost(host: string): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`lookup timed out after ${RESOLVE_TIMEOUT_MS} ms`)),
      RESOLVE_TIMEOUT_MS,
    );
  });
  try {
    const found = await Promise.race([lookup(host, { all: true, verbatim: true }), timeout]);
    return found.map((entry) => entry.address);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Address policy

const IPV4_RANGES: [string, number, string][] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

const IPV6_RANGES: [string, number, string][] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  // IPv4-compatible (deprecated); IPv4-mapped, NAT64 and 6to4 are judged by the IPv4 address they carry.
  ['::', 96, 'reserved'],
  ['64:ff9b:1::', 48, 'private'],
  ['100::', 64, 'reserved'],
  ['2001::', 32, 'reserved'],
  ['2001:db8::', 32, 'documentation'],
  ['fc00::', 7, 'unique-local'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
];

const ipv4Blocks = IPV4_RANGES.map(([network, prefix, reason]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, 'ipv4');
  return { list, reason };
});
const ipv6Blocks = IPV6_RANGES.map(([network, prefix, reason]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, 'ipv6');
  return { list, reason };
});

/** True for a public unicast address. */
export function isPublicAddress(address: string): boolean {
  return blockedAddressReason(address) === null;
}

/**
 * Why an address must not be called back (e.g. `private`, `loopback`, `link-local`), or null when it is a
 * public unicast address. Unparseable input counts as blocked.
 */
export function blockedAddressReason(address: string): string | null {
  const bare = address.replace(/%.*$/, '');
  if (isIPv4(bare)) return ipv4Reason(bare);
  const bytes = ipv6Bytes(bare);
  if (bytes === null) return 'unparseable';
  const embedded = embeddedIpv4(bytes);
  if (embedded !== null) return ipv4Reason(embedded);
  const canonical = ipv6Text(bytes);
  for (const { list, reason } of ipv6Blocks) if (list.check(canonical, 'ipv6')) return reason;
  return null;
}

function ipv4Reason(address: string): string | null {
  if (address === '255.255.255.255') return 'broadcast';
  for (const { list, reason } of ipv4Blocks) if (list.check(address, 'ipv4')) return reason;
  return null;
}

/** The IPv4 address inside an IPv4-mapped (::ffff:0:0/96), NAT64 (64:ff9b::/96) or 6to4 (2002::/16) one. */
function embeddedIpv4(b: number[]): string | null {
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  const quad = (at: number) => b.slice(at, at + 4).join('.');
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return quad(12);
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12)) return quad(12);
  if (b[0] === 0x20 && b[1] === 0x02) return quad(2);
  return null;
}

/** Parses an IPv6 address (with `::` and an optional dotted-quad tail) into 16 bytes, or null. */
function ipv6Bytes(address: string): number[] | null {
  if (isIP(address) !== 6) return null;
  let text = address.toLowerCase();
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    if (!isIPv4(last)) return null;
    const [a = 0, b = 0, c = 0, d = 0] = last.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const head = parse(halves[0] ?? '');
  const rest = halves.length === 2 ? parse(halves[1] ?? '') : [];
  const fill = halves.length === 2 ? 8 - head.length - rest.length : 0;
  if (fill < 0) return null;
  const groups = [...head, ...new Array<number>(fill).fill(0), ...rest];
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return null;
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

function ipv6Text(bytes: number[]): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return groups.join(':');
}

// ---------------------------------------------------------------------------------------------------------
// Send-time guard

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for `http.request` / `net.connect` that refuses to connect to any blocked address: the
 * connection goes to an address that was checked in the same step, so DNS rebinding between the check
 * and the connect cannot reach the private network. `resolve` is for tests.
 */
export function guardedLookup(resolve: ResolveHost = resolveHost, policy: { allowLoopback?: boolean } = {}) {
  return (
    hostname: string,
    options: LookupOneOptions | LookupAllOptions | number,
    callback: LookupCallback,
  ) => {
    const all = typeof options === 'object' && options !== null && options.all === true;
    resolve(hostname).then(
      (addresses) => {
        if (addresses.length === 0) {
          callback(Object.assign(new Error(`${hostname} has no addresses`), { code: 'ENOTFOUND' }), '');
          return;
        }
        for (const address of addresses) {
          const reason = blockedAddressReason(address);
          if (reason !== null && !(policy.allowLoopback && reason === 'loopback')) {
            const error = new Error(`refusing to connect to ${hostname}: ${reason} address ${address}`);
            callback(Object.assign(error, { code: 'EBLOCKEDADDRESS' }), '');
            return;
          }
        }
        const entries = addresses.map((address) => ({ address, family: isIPv4(address) ? 4 : 6 }));
        if (all) callback(null, entries);
        else callback(null, entries[0]!.address, entries[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, ''),
    );
  };
}
