// IPv4 arithmetic for the lab's networks, on top of ipaddr.js.
import ipaddr from 'ipaddr.js';

export interface Cidr {
  text: string;
  base: number; // network address as an unsigned 32-bit integer
  prefix: number;
}

export function parseCidr(text: string): Cidr | undefined {
  // Four dotted numbers only: ipaddr.js would also read "1.2.3/24" as 1.2.0.3.
  if (!ipaddr.IPv4.isValidCIDR(text) || !isIPv4(text.split('/')[0]!)) return undefined;
  const [addr, prefix] = ipaddr.IPv4.parseCIDR(text);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { text, base: (toInt(addr.toString()) & mask) >>> 0, prefix };
}

export function isIPv4(text: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(text);
}

export function toInt(ip: string): number {
  return ipaddr.IPv4.parse(ip).octets.reduce((acc, o) => ((acc << 8) | o) >>> 0, 0);
}

export function fromInt(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 0xff).join('.');
}

export function size(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function contains(c: Cidr, ip: string): boolean {
  const n = toInt(ip);
  return n >= c.base && n < c.base + size(c);
}

/** A usable host address: inside the CIDR and neither its network nor its broadcast address. */
export function isHostIn(c: Cidr, ip: string): boolean {
  const n = toInt(ip);
  return n > c.base && n < c.base + size(c) - 1;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + size(b) && b.base < a.base + size(a);
}

/** The host at offset `n` from the network address: hostAt(192.168.56.0/24, 10) = 192.168.56.10. */
export function hostAt(c: Cidr, n: number): string {
  return fromInt(c.base + n);
}

export interface IpRange {
  first: string;
  last: string;
}

/** "192.168.56.200-192.168.56.220" or a CIDR. */
export function parseRange(text: string): IpRange | undefined {
  const parts = text.split('-').map((s) => s.trim());
  if (parts.length === 2 && isIPv4(parts[0]!) && isIPv4(parts[1]!)) {
    if (toInt(parts[0]!) > toInt(parts[1]!)) return undefined;
    return { first: parts[0]!, last: parts[1]! };
  }
  const c = parts.length === 1 ? parseCidr(parts[0]!) : undefined;
  return c ? { first: fromInt(c.base), last: fromInt(c.base + size(c) - 1) } : undefined;
}

export function rangeContains(r: IpRange, ip: string): boolean {
  const n = toInt(ip);
  return n >= toInt(r.first) && n <= toInt(r.last);
}
